package uk.gov.gds.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.prometheus.metrics.expositionformats.generated.com_google_protobuf_4_36_2.Metrics.MetricFamily;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code scrapeBytes(PROTOBUF)} is delimited {@code MetricFamily} messages, read back by client_java's own decoder. */
class ProtobufScrapeTest {
    @Test
    void protobufScrapesDecodeWithAnIndependentParser() throws IOException {
        Registry registry = new Registry();
        Counter jobs = Counter.builder().name("jobs").help("Jobs done.").labelNames("queue").register(registry);
        jobs.labelValues("email").inc(3L);
        Histogram latency = Histogram.builder().name("latency_seconds").help("h").nativeOnly().register(registry);
        latency.observe(0.25);

        List<MetricFamily> families = new ArrayList<>();
        ByteArrayInputStream in = new ByteArrayInputStream(registry.scrapeBytes(Format.PROTOBUF));
        MetricFamily family;
        while ((family = MetricFamily.parseDelimitedFrom(in)) != null) {
            families.add(family);
        }

        MetricFamily counter = families.stream().filter(f -> f.getName().equals("jobs_total")).findFirst().orElseThrow();
        assertEquals(3.0, counter.getMetric(0).getCounter().getValue());
        assertEquals("email", counter.getMetric(0).getLabel(0).getValue());
        MetricFamily histogram = families.stream().filter(f -> f.getName().equals("latency_seconds"))
                .findFirst().orElseThrow();
        assertEquals(1, histogram.getMetric(0).getHistogram().getSampleCount());
        assertEquals(1, histogram.getMetric(0).getHistogram().getPositiveSpanCount());
    }
}
