package uk.gov.gds.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The text exposition of every metric kind, and of the JVM metrics, passes {@code promtool check metrics}. */
class PromtoolTest {
    @Test
    void everyMetricKindPassesPromtool() throws IOException, InterruptedException {
        Registry registry = new Registry();
        Counter.builder().name("jobs_total").help("Jobs done, with \\ and\nnewline.").labelNames("queue")
                .register(registry).labelValues("a \"quoted\" \\ value\nwith newline").inc(3);
        Gauge.builder().name("temperature_celsius").help("Degrees.").unit("celsius").register(registry).set(-1.5);
        Histogram.builder().name("latency_seconds").help("Latency.").labelNames("route").register(registry)
                .labelValues("/users/{id}").observe(0.3);
        Summary.builder().name("payload_bytes").help("Payload sizes.").register(registry).observe(512);
        Info.builder().name("app").help("About the app.").labelNames("version").register(registry)
                .setLabelValues("1.2.3");
        JvmMetrics.register(registry);

        Process promtool = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
        promtool.getOutputStream().write(registry.scrape(Format.TEXT).getBytes(StandardCharsets.UTF_8));
        promtool.getOutputStream().close();
        String output = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, promtool.waitFor(), output);
        assertEquals("", output);
    }
}
