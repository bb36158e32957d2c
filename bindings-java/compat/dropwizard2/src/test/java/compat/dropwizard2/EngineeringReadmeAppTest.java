package compat.dropwizard2;

import static org.junit.jupiter.api.Assertions.assertEquals;

import compat.shared.CompatChecks;
import engineering.reliability.gds.metrics.bundle.MetricsBundle;
import io.dropwizard.Application;
import io.dropwizard.Configuration;
import io.dropwizard.setup.Bootstrap;
import io.dropwizard.setup.Environment;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A Dropwizard 2.x (or 1.3) app written as the {@code engineering.gds-reliability} 0.1.0
 * README says, on the {@code dropwizard2} jar: {@code bootstrap.addBundle(new MetricsBundle())},
 * {@code ENABLE_DROPWIZARD_METRICS=true} (set by the pom), and
 * {@code Configuration.getInstance().getPrometheusMetricsPath()} for the path its own
 * security leaves alone.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class EngineeringReadmeAppTest {
    /** As the 0.1.0 README. */
    public static class App extends Application<Configuration> {
        static String metricsPath;

        @Override
        public void initialize(Bootstrap<Configuration> bootstrap) {
            bootstrap.addBundle(new MetricsBundle());
        }

        @Override
        public void run(Configuration configuration, Environment environment) {
            metricsPath = engineering.reliability.gds.metrics.config.Configuration.getInstance()
                    .getPrometheusMetricsPath();
            environment.jersey().register(new CompatChecks.Users());
            CompatChecks.registerLegacyCounter();
        }
    }

    static final DropwizardAppExtension<Configuration> APP =
            new DropwizardAppExtension<>(App.class, null, CompatChecks.LOOPBACK);

    @Test
    void requestDropwizardJvmAndClientJavaMetricsAreInOneScrape() throws Exception {
        assertEquals("/metrics", App.metricsPath);
        CompatChecks.assertOneScrapeHasEveryMetric(APP.getLocalPort(), App.metricsPath);
    }

    @Test
    void theEndpointWantsTheAppGuid() throws Exception {
        CompatChecks.assertTheEndpointWantsTheAppGuid(APP.getLocalPort());
    }

    @Test
    void dropwizardDoesNotCompressWhatTheCoreRefuses() throws Exception {
        CompatChecks.assertNoGzipOnTop(APP.getLocalPort());
    }
}
