package uk.gov.gds.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Native histograms and exemplars declared from Java, served by the endpoint in protobuf and OpenMetrics. */
class NativeHistogramTest {
    private static final String PROTOBUF =
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited";
    private static final String OPENMETRICS = "application/openmetrics-text;version=1.0.0";
    private static final String[] TRACE = {"trace_id", "4bf92f3577b34da6", "span_id", "00f067aa0ba902b7"};

    private final Registry registry = new Registry();

    private EndpointResponse scrape(String accept) {
        Endpoint endpoint = Endpoint.create(registry, MetricsConfig.builder().authEnabled(false).build());
        EndpointResponse response = endpoint.handle("GET", "", "/metrics", List.of(Map.entry("Accept", accept)));
        assertEquals(200, response.status());
        return response;
    }

    private static String header(EndpointResponse response, String name) {
        return response.headers().stream().filter(h -> h.getKey().equalsIgnoreCase(name))
                .map(Map.Entry::getValue).findFirst().orElseThrow();
    }

    private static String text(EndpointResponse response) {
        return new String(response.body(), StandardCharsets.UTF_8);
    }

    /** The number of varint-length-prefixed messages in {@code body}; fails on a torn one. */
    private static int delimitedMessages(byte[] body) {
        int at = 0;
        int messages = 0;
        while (at < body.length) {
            long length = 0;
            int shift = 0;
            int b;
            do {
                b = body[at++] & 0xff;
                length |= (long) (b & 0x7f) << shift;
                shift += 7;
            } while (b >= 0x80);
            at += (int) length;
            messages++;
        }
        assertEquals(body.length, at, "the last message runs past the body");
        return messages;
    }

    private static Pattern exemplar(String value) {
        return Pattern.compile("# \\{trace_id=\"4bf92f3577b34da6\",span_id=\"00f067aa0ba902b7\"\\} "
                + Pattern.quote(value) + " \\d+(\\.\\d+)?$");
    }

    private static String line(String body, String prefix) {
        return body.lines().filter(l -> l.startsWith(prefix)).findFirst().orElseThrow(() -> new AssertionError(body));
    }

    @Test
    void nativeOnlyHistogramIsScrapedInProtobuf() {
        Histogram latency = Histogram.builder().name("job_duration_seconds").help("Time per job.").nativeOnly()
                .register(registry);
        latency.observe(0.25);
        EndpointResponse response = scrape(PROTOBUF);
        assertTrue(header(response, "Content-Type").startsWith("application/vnd.google.protobuf"));
        assertTrue(header(response, "Content-Type").contains("encoding=delimited"));
        assertTrue(delimitedMessages(response.body()) > 0);
        assertTrue(new String(response.body(), StandardCharsets.ISO_8859_1).contains("job_duration_seconds"));
    }

    @Test
    void nativeOnlyHistogramShowsCountAndSumInOpenMetrics() {
        Histogram latency = Histogram.builder().name("job_duration_seconds").help("Time per job.").nativeOnly()
                .register(registry);
        latency.observe(0.25);
        String body = text(scrape(OPENMETRICS));
        assertTrue(body.contains("job_duration_seconds_count 1.0\n"), body);
        assertTrue(body.contains("job_duration_seconds_sum 0.25\n"), body);
        assertEquals(1, latency.getCount());
    }

    @Test
    void classicBucketsBesideNativeOnesShowInOpenMetrics() {
        Histogram latency = Histogram.builder().name("job_duration_seconds").help("Time per job.").labelNames("queue")
                .classicUpperBounds(0.1, 1).nativeInitialSchema(3).nativeMaxZeroThreshold(0.001)
                .nativeMaxNumberOfBuckets(50).nativeResetDuration(1, TimeUnit.HOURS).register(registry);
        latency.labelValues("mail").observe(0.5);
        String body = text(scrape(OPENMETRICS));
        assertTrue(body.contains("job_duration_seconds_bucket{queue=\"mail\",le=\"1.0\"} 1.0\n"), body);
    }

    @Test
    void badNativeSettingsThrowIllegalArgument() {
        IllegalArgumentException schema = assertThrows(IllegalArgumentException.class,
                () -> Histogram.builder().name("a_seconds").help("A.").nativeInitialSchema(9).register(registry));
        assertTrue(schema.getMessage().contains("the schema must be between -4 and 8"), schema.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Histogram.builder().name("b_seconds").help("B.").nativeOnly().classicUpperBounds(1).register(registry));
        IllegalArgumentException reset = assertThrows(IllegalArgumentException.class,
                () -> Histogram.builder().name("c_seconds").help("C.").nativeResetDuration(0, TimeUnit.SECONDS)
                        .register(registry));
        assertEquals("invalid native bucket settings: the reset interval (reset_after) must be a number of seconds"
                + " above zero, got 0", reset.getMessage());
        IllegalArgumentException threshold = assertThrows(IllegalArgumentException.class,
                () -> Histogram.builder().name("d_seconds").help("D.").nativeMaxZeroThreshold(Double.NaN)
                        .register(registry));
        assertTrue(threshold.getMessage().contains("the zero threshold must be a finite number, 0 or more, got NaN"),
                threshold.getMessage());
    }

    @Test
    void histogramExemplarAppearsInOpenMetrics() {
        Histogram latency = Histogram.builder().name("job_duration_seconds").help("Time per job.")
                .classicUpperBounds(0.1, 1).register(registry);
        latency.observeWithExemplar(0.5, TRACE);
        String bucket = line(text(scrape(OPENMETRICS)), "job_duration_seconds_bucket{le=\"1.0\"}");
        assertTrue(exemplar("0.5").matcher(bucket).find(), bucket);
    }

    @Test
    void counterExemplarAppearsInOpenMetrics() {
        Counter jobs = Counter.builder().name("jobs").help("Jobs done.").labelNames("queue").register(registry);
        jobs.labelValues("mail").incWithExemplar(2, TRACE);
        jobs.labelValues("mail").inc();
        String total = line(text(scrape(OPENMETRICS)), "jobs_total");
        assertTrue(total.startsWith("jobs_total{queue=\"mail\"} 3.0 # "), total);
        assertTrue(exemplar("2.0").matcher(total).find(), total);
    }

    @Test
    void anExemplarOver128CharactersThrowsIllegalArgumentAndRecordsNothing() {
        Counter jobs = Counter.builder().name("jobs").help("Jobs done.").register(registry);
        Histogram latency = Histogram.builder().name("job_duration_seconds").help("Time per job.").nativeOnly()
                .register(registry);
        String longId = "x".repeat(121);
        IllegalArgumentException counter = assertThrows(IllegalArgumentException.class,
                () -> jobs.incWithExemplar(1, "trace_id", longId));
        assertTrue(counter.getMessage().contains("OpenMetrics allows 128"), counter.getMessage());
        IllegalArgumentException histogram = assertThrows(IllegalArgumentException.class,
                () -> latency.observeWithExemplar(0.1, "trace_id", longId));
        assertTrue(histogram.getMessage().contains("OpenMetrics allows 128"), histogram.getMessage());
        assertEquals(0.0, jobs.get());
        assertEquals(0, latency.getCount());
    }

    @Test
    void unpairedExemplarLabelsAndSummaryExemplarsThrowIllegalArgument() {
        Counter jobs = Counter.builder().name("jobs").help("Jobs done.").register(registry);
        Summary sizes = Summary.builder().name("sizes").help("Sizes.").register(registry);
        assertThrows(IllegalArgumentException.class, () -> jobs.incWithExemplar(1, "trace_id"));
        IllegalArgumentException summary = assertThrows(IllegalArgumentException.class,
                () -> sizes.observeWithExemplar(1, TRACE));
        assertTrue(summary.getMessage().contains("keep no exemplars"), summary.getMessage());
        assertFalse(text(scrape(OPENMETRICS)).contains("# {"));
    }
}
