package uk.gov.gds.metrics.example;

import io.dropwizard.configuration.EnvironmentVariableSubstitutor;
import io.dropwizard.configuration.SubstitutingSourceProvider;
import io.dropwizard.core.Application;
import io.dropwizard.core.Configuration;
import io.dropwizard.core.setup.Bootstrap;
import io.dropwizard.core.setup.Environment;
import uk.gov.gds.metrics.dropwizard.MetricsBundle;

/**
 * A tenant Dropwizard app instrumented as the gds-metrics README shows: one bundle serves
 * {@code /metrics} on the application port (protected by the app GUID from
 * {@code VCAP_APPLICATION}) and records the default request metrics with Jersey's route
 * templates.
 */
public final class ExampleApplication extends Application<Configuration> {

    public static void main(String[] args) throws Exception {
        new ExampleApplication().run(args);
    }

    @Override
    public void initialize(Bootstrap<Configuration> bootstrap) {
        // `${PORT}` in config.yml comes from the environment, as Cloud Foundry sets it.
        bootstrap.setConfigurationSourceProvider(new SubstitutingSourceProvider(
                bootstrap.getConfigurationSourceProvider(), new EnvironmentVariableSubstitutor(false)));
        bootstrap.addBundle(new MetricsBundle());
    }

    @Override
    public void run(Configuration configuration, Environment environment) {
        ExtraSeries.registerFromEnvironment();
        environment.jersey().register(new ExampleResource());
        environment.jersey().register(new JobResource());
    }
}
