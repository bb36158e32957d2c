package compat.dropwizard3;

import com.fasterxml.jackson.annotation.JsonProperty;
import compat.shared.CompatChecks;
import io.dropwizard.core.Application;
import io.dropwizard.core.Configuration;
import io.dropwizard.core.setup.Bootstrap;
import io.dropwizard.core.setup.Environment;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import uk.gov.ida.metrics.bundle.PrometheusBundle;
import uk.gov.ida.metrics.config.PrometheusConfiguration;

/**
 * A Dropwizard 3 app (javax.servlet, Jetty 10) written as the {@code uk.gov.ida} line's
 * README says, on the {@code javax} jar of the {@code uk.gov.ida} coordinates.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class Dropwizard3AppTest {
    /** As the old line's test configuration. */
    public static class AppConfiguration extends Configuration implements PrometheusConfiguration {
        @JsonProperty
        private boolean prometheusEnabled = true;

        @Override
        public boolean isPrometheusEnabled() {
            return prometheusEnabled;
        }
    }

    /** As the old line's README. */
    public static class App extends Application<AppConfiguration> {
        @Override
        public void initialize(Bootstrap<AppConfiguration> bootstrap) {
            bootstrap.addBundle(new PrometheusBundle());
        }

        @Override
        public void run(AppConfiguration configuration, Environment environment) {
            environment.jersey().register(new CompatChecks.Users());
            CompatChecks.registerLegacyCounter();
        }
    }

    static final DropwizardAppExtension<AppConfiguration> APP =
            new DropwizardAppExtension<>(App.class, null, CompatChecks.LOOPBACK);

    @Test
    void requestDropwizardJvmAndClientJavaMetricsAreInOneScrape() throws Exception {
        CompatChecks.assertOneScrapeHasEveryMetric(APP.getLocalPort(), "/metrics");
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
