package uk.gov.ida.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.dropwizard.core.Application;
import io.dropwizard.core.Configuration;
import io.dropwizard.core.setup.Bootstrap;
import io.dropwizard.core.setup.Environment;
import io.dropwizard.testing.ConfigOverride;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import uk.gov.gds.metrics.dropwizard.RawHttp;
import uk.gov.ida.metrics.bundle.PrometheusBundle;
import uk.gov.ida.metrics.config.PrometheusConfiguration;

/**
 * An app of the {@code uk.gov.ida} line written as its README and tests did: a configuration
 * implementing {@code PrometheusConfiguration}, {@code bootstrap.addBundle(new
 * PrometheusBundle())}. Its metrics are now on the application port at {@code /metrics}.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class IdaReadmeAppTest {
    /** As the old line's test configuration. */
    public static class TestConfiguration extends Configuration implements PrometheusConfiguration {
        @JsonProperty
        private boolean prometheusEnabled = true;

        @Override
        public boolean isPrometheusEnabled() {
            return prometheusEnabled;
        }
    }

    /** As the old line's README. */
    public static class TestApplication extends Application<TestConfiguration> {
        @Override
        public void initialize(Bootstrap<TestConfiguration> bootstrap) {
            bootstrap.addBundle(new PrometheusBundle());
        }

        @Override
        public void run(TestConfiguration configuration, Environment environment) {
            environment.jersey().register(new uk.gov.gds.metrics.dropwizard.TestApp.Users());
        }
    }

    static final DropwizardAppExtension<TestConfiguration> APP = new DropwizardAppExtension<>(TestApplication.class,
            null, ConfigOverride.config("server.applicationConnectors[0].port", "0"),
            ConfigOverride.config("server.applicationConnectors[0].bindHost", "127.0.0.1"),
            ConfigOverride.config("server.adminConnectors[0].port", "0"),
            ConfigOverride.config("server.adminConnectors[0].bindHost", "127.0.0.1"));

    @Test
    void requestAndJvmMetricsAreOnTheApplicationPort() throws Exception {
        assertEquals(200, RawHttp.send(APP.getLocalPort(), "GET", "/users/1", RawHttp.h("Host: ida.test")).status());
        String text = RawHttp.send(APP.getLocalPort(), "GET", "/metrics").text();
        assertTrue(text.contains("http_server_requests_total{method=\"GET\",host=\"ida.test\",path=\"/users/{id}\","
                + "code=\"200\"} 1.0\n"), text);
        assertTrue(text.contains("jvm_threads_current "), text);
        assertEquals(404, RawHttp.send(APP.getAdminPort(), "GET", "/prometheus/metrics").status());
    }
}
