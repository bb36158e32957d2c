package engineering.reliability.gds.metrics.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.annotation.JsonIgnore;
import engineering.reliability.gds.metrics.config.PrometheusConfiguration;
import io.dropwizard.core.Application;
import io.dropwizard.core.Configuration;
import io.dropwizard.core.setup.Bootstrap;
import io.dropwizard.core.setup.Environment;
import io.dropwizard.testing.ConfigOverride;
import io.dropwizard.testing.junit5.DropwizardAppExtension;
import io.dropwizard.testing.junit5.DropwizardExtensionsSupport;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An app written for the old {@code gds-metrics-dropwizard} {@code PrometheusBundle} runs
 * unchanged: enabled, it serves the endpoint on the application port (here off the PaaS, so
 * without auth); disabled, it serves nothing.
 */
@ExtendWith(DropwizardExtensionsSupport.class)
class PrometheusBundleTest {
    /** A configuration as apps wrote it for the old bundle. */
    public static class EnabledConfiguration extends Configuration implements PrometheusConfiguration {
        @Override
        @JsonIgnore
        public boolean isPrometheusEnabled() {
            return true;
        }
    }

    /** The same with the bundle switched off. */
    public static class DisabledConfiguration extends EnabledConfiguration {
        @Override
        @JsonIgnore
        public boolean isPrometheusEnabled() {
            return false;
        }
    }

    /** An app as written for the old library. */
    public static class EnabledApp extends Application<EnabledConfiguration> {
        @Override
        public void initialize(Bootstrap<EnabledConfiguration> bootstrap) {
            bootstrap.addBundle(new PrometheusBundle());
        }

        @Override
        public void run(EnabledConfiguration configuration, Environment environment) {}
    }

    /** The same app with the bundle switched off in its configuration. */
    public static class DisabledApp extends Application<DisabledConfiguration> {
        @Override
        public void initialize(Bootstrap<DisabledConfiguration> bootstrap) {
            bootstrap.addBundle(new PrometheusBundle());
        }

        @Override
        public void run(DisabledConfiguration configuration, Environment environment) {}
    }

    private static ConfigOverride[] loopbackOnFreePorts() {
        return new ConfigOverride[] {
            ConfigOverride.config("server.applicationConnectors[0].port", "0"),
            ConfigOverride.config("server.applicationConnectors[0].bindHost", "127.0.0.1"),
            ConfigOverride.config("server.adminConnectors[0].port", "0"),
            ConfigOverride.config("server.adminConnectors[0].bindHost", "127.0.0.1"),
        };
    }

    static final DropwizardAppExtension<EnabledConfiguration> ENABLED =
            new DropwizardAppExtension<>(EnabledApp.class, null, loopbackOnFreePorts());
    static final DropwizardAppExtension<DisabledConfiguration> DISABLED =
            new DropwizardAppExtension<>(DisabledApp.class, null, loopbackOnFreePorts());

    private static HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        return HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void enabledBundleServesMetricsAndJvmMetricsOnTheApplicationPort() throws Exception {
        HttpResponse<String> r = get(ENABLED.getLocalPort(), "/metrics");
        assertEquals(200, r.statusCode());
        assertTrue(r.body().contains("# TYPE http_server_requests_total counter\n"), r.body());
        assertTrue(r.body().contains("# TYPE jvm_threads_current gauge\n"), r.body());
    }

    @Test
    void disabledBundleServesNothing() throws Exception {
        assertEquals(404, get(DISABLED.getLocalPort(), "/metrics").statusCode());
    }
}
