package uk.gov.gds.metrics.dropwizard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dropwizard.core.Configuration;
import io.dropwizard.testing.ConfigOverride;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import uk.gov.gds.metrics.MetricsConfig;
import uk.gov.gds.metrics.Registry;

/** A Dropwizard app with the path set in code and auth switched off. */
@ExtendWith(DropwizardExtensionsSupport.class)
class PathOverrideTest {
    /** The app under test: no auth, endpoint at {@code /internal/metrics}. */
    public static class CustomPathApp extends TestApp {
        public CustomPathApp() {
            super(new Registry(), MetricsConfig.builder().authEnabled(false).metricsPath("/internal/metrics").build());
        }
    }

    static final DropwizardAppExtension<Configuration> APP = new DropwizardAppExtension<>(CustomPathApp.class, null,
            ConfigOverride.config("server.applicationConnectors[0].port", "0"),
            ConfigOverride.config("server.applicationConnectors[0].bindHost", "127.0.0.1"),
            ConfigOverride.config("server.adminConnectors[0].port", "0"),
            ConfigOverride.config("server.adminConnectors[0].bindHost", "127.0.0.1"));

    @Test
    void endpointIsServedAtTheConfiguredPathWithoutAuth() throws IOException {
        RawHttp.Response r = RawHttp.send(APP.getLocalPort(), "GET", "/internal/metrics");
        assertEquals(200, r.status());
        assertTrue(r.text().contains("# TYPE http_server_requests_total counter\n"), r.text());
    }

    @Test
    void defaultPathBelongsToTheApp() throws IOException {
        assertEquals(404, RawHttp.send(APP.getLocalPort(), "GET", "/metrics").status());
    }
}
