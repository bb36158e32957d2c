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
            environment.jersey().register(new Timed());
            environment.metrics().meter("jobs.done").mark(3);
            environment.metrics().counter("queue.depth").inc(2);
            environment.metrics().register("cache.warm", (com.codahale.metrics.Gauge<Boolean>) () -> true);
        }
    }

    /** A resource timed by Dropwizard's {@code @Timed}. */
    @jakarta.ws.rs.Path("/timed")
    public static class Timed {
        @jakarta.ws.rs.GET
        @com.codahale.metrics.annotation.Timed(name = "timed.get", absolute = true)
        public String get() {
            return "timed";
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

    /** Dropwizard's own metrics, named and typed as client_java's Dropwizard bridge did, jvm.* left out. */
    @Test
    void dropwizardMetricsAreExportedAsTheBridgeNamedThem() throws Exception {
        assertEquals(200, RawHttp.send(APP.getLocalPort(), "GET", "/timed").status());
        String text = RawHttp.send(APP.getLocalPort(), "GET", "/metrics").text();
        assertTrue(text.contains("# TYPE jobs_done_total counter\njobs_done_total 3.0\n"), text);
        assertTrue(text.contains("# TYPE queue_depth gauge\nqueue_depth 2.0\n"), text);
        assertTrue(text.contains("# TYPE cache_warm gauge\ncache_warm 1.0\n"), text);
        assertTrue(text.contains("# TYPE timed_get summary\ntimed_get{quantile=\"0.5\"} "), text);
        assertTrue(text.contains("\ntimed_get_count 1.0\n"), text);
        assertTrue(text.contains("# TYPE io_dropwizard_jetty_MutableServletContextHandler_requests summary\n"), text);
        assertTrue(!text.contains("jvm_memory_heap_used"), "jvm.* left out");
        String openMetrics = RawHttp.send(APP.getLocalPort(), "GET", "/metrics",
                RawHttp.h("Accept: application/openmetrics-text; version=1.0.0")).text();
        assertTrue(openMetrics.contains("# TYPE jobs_done counter\njobs_done_total 3.0\n"), openMetrics);
        assertTrue(openMetrics.endsWith("# EOF\n"), openMetrics);
        assertPromtoolParses(text);
    }

    /**
     * promtool reads the exposition without a parse error. Its naming lints are not checked:
     * the bridge's names keep Dropwizard's camelCase, and a Dropwizard counter named
     * {@code *.total} is a gauge {@code *_total}, exactly as before.
     */
    private static void assertPromtoolParses(String text) throws Exception {
        Process promtool = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
        promtool.getOutputStream().write(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        promtool.getOutputStream().close();
        String output = new String(promtool.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        promtool.waitFor();
        assertTrue(output.lines().noneMatch(line -> line.startsWith("error")), output);
    }
}
