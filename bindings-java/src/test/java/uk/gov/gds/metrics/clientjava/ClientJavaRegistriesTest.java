package uk.gov.gds.metrics.clientjava;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import uk.gov.gds.metrics.Format;
import uk.gov.gds.metrics.Registry;

/**
 * Metrics written with {@code client_java} 0.x and 1.x, in their default registries, appear
 * in a scrape of our default registry, in both text formats, and pass promtool; state sets
 * ({@code Enumeration}, {@code StateSet}) are {@code stateset} families in OpenMetrics and
 * gauges in text, as {@code client_java} writes them.
 */
class ClientJavaRegistriesTest {
    @BeforeAll
    static void writeMetricsWithClientJava() {
        io.prometheus.client.Counter.build().name("legacy_jobs_total").help("Jobs, 0.x.").labelNames("queue")
                .register().labels("email").inc(2);
        io.prometheus.client.Gauge.build().name("legacy_depth").help("Depth, 0.x.").register().set(7);
        io.prometheus.client.Histogram.build().name("legacy_latency_seconds").help("Latency, 0.x.")
                .buckets(0.1, 1).register().observe(0.5);
        io.prometheus.client.Summary.build().name("legacy_size_bytes").help("Sizes, 0.x.").quantile(0.5, 0.01)
                .register().observe(10);
        io.prometheus.client.Enumeration.build().name("legacy_state").help("State, 0.x.").states("idle", "busy")
                .register().state("busy");
        io.prometheus.metrics.core.metrics.StateSet.builder().name("modern_features").help("Features, 1.x.")
                .labelNames("env").states("dark", "beta").register().labelValues("dev").setTrue("beta");
        io.prometheus.metrics.core.metrics.Counter.builder().name("modern_jobs_total").help("Jobs, 1.x.")
                .labelNames("queue").register().labelValues("sms").inc(3);
        io.prometheus.metrics.core.metrics.Histogram.builder().name("modern_latency_seconds").help("Latency, 1.x.")
                .classicUpperBounds(0.1, 1).register().observe(0.5);
    }

    @Test
    void bothRegistriesAreInTheTextScrape() throws Exception {
        String text = Registry.defaultRegistry().scrape(Format.TEXT);
        assertTrue(text.contains("# TYPE legacy_jobs_total counter\nlegacy_jobs_total{queue=\"email\"} 2.0\n"), text);
        assertTrue(text.contains("# TYPE legacy_depth gauge\nlegacy_depth 7.0\n"), text);
        assertTrue(text.contains("legacy_latency_seconds_bucket{le=\"1.0\"} 1.0\n"), text);
        assertTrue(text.contains("legacy_latency_seconds_bucket{le=\"+Inf\"} 1.0\nlegacy_latency_seconds_count 1.0\n"),
                text);
        assertTrue(text.contains("legacy_size_bytes{quantile=\"0.5\"} 10.0\n"), text);
        assertTrue(text.contains("# TYPE modern_jobs_total counter\nmodern_jobs_total{queue=\"sms\"} 3.0\n"), text);
        assertTrue(text.contains("modern_latency_seconds_bucket{le=\"0.1\"} 0.0\n"), text);
        assertTrue(text.contains("modern_latency_seconds_sum 0.5\n"), text);
        assertTrue(text.contains("# TYPE legacy_state gauge\nlegacy_state{legacy_state=\"idle\"} 0.0\n"
                + "legacy_state{legacy_state=\"busy\"} 1.0\n"), text);
        assertTrue(text.contains("# TYPE modern_features gauge\nmodern_features{env=\"dev\",modern_features=\"beta\"} 1.0\n"
                + "modern_features{env=\"dev\",modern_features=\"dark\"} 0.0\n"), text);
        assertPromtoolAccepts(text);
    }

    @Test
    void bothRegistriesAreInTheOpenMetricsScrape() {
        String openMetrics = Registry.defaultRegistry().scrape(Format.OPENMETRICS);
        assertTrue(openMetrics.contains("# TYPE legacy_jobs counter\nlegacy_jobs_total{queue=\"email\"} 2.0\n"),
                openMetrics);
        assertTrue(openMetrics.contains("# TYPE modern_jobs counter\nmodern_jobs_total{queue=\"sms\"} 3.0\n"),
                openMetrics);
        assertTrue(openMetrics.contains("# TYPE legacy_state stateset\nlegacy_state{legacy_state=\"idle\"} 0.0\n"),
                openMetrics);
        assertTrue(openMetrics.contains("# TYPE modern_features stateset\n"
                + "modern_features{env=\"dev\",modern_features=\"beta\"} 1.0\n"), openMetrics);
        assertTrue(openMetrics.endsWith("# EOF\n"), openMetrics);
    }

    private static void assertPromtoolAccepts(String text) throws Exception {
        Process promtool = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
        promtool.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
        promtool.getOutputStream().close();
        String output = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, promtool.waitFor(), output);
    }
}
