package uk.gov.gds.metrics.vectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.prometheus.metrics.expositionformats.generated.com_google_protobuf_4_36_2.Metrics;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import uk.gov.gds.metrics.Format;
import uk.gov.gds.metrics.Registry;
import uk.gov.gds.metrics.ScrapeTimeFamilies;
import uk.gov.gds.metrics.Summary;

/**
 * {@code summaries.json}: a summary observed through the public builder, or handed over
 * with its quantiles at scrape time through {@link ScrapeTimeFamilies} (as the Dropwizard
 * and {@code client_java} exports do). The protobuf scrape is read back with
 * {@code client_java}'s classes generated from io.prometheus.client's metrics.proto.
 */
class SummaryVectorsTest {
    @TestFactory
    Stream<DynamicTest> summaryVectors() {
        return Vectors.tests("summaries.json", SummaryVectorsTest::run);
    }

    private static void run(JsonNode vector) throws IOException {
        Registry registry = new Registry();
        JsonNode family = vector.get("family");
        String name = family.get("name").asText();
        String[] labels = Vectors.strings(family.get("labels"));
        if (vector.get("source").asText().equals("observed")) {
            Summary summary = Summary.builder().name(name).help(family.get("help").asText()).labelNames(labels)
                    .register(registry);
            for (JsonNode observation : vector.get("observations")) {
                summary.labelValues(Vectors.strings(observation.get("labels")))
                        .observe(Vectors.amount(observation.get("amount")));
            }
        } else {
            ScrapeTimeFamilies.register(registry, sink -> {
                ScrapeTimeFamilies.Family summaries = sink.summary(name, family.get("help").asText(), labels);
                for (JsonNode series : vector.get("series")) {
                    JsonNode quantiles = series.get("quantiles");
                    double[] qs = new double[quantiles.size()];
                    double[] values = new double[quantiles.size()];
                    for (int i = 0; i < qs.length; i++) {
                        qs[i] = quantiles.get(i).get(0).asDouble();
                        values[i] = quantiles.get(i).get(1).asDouble();
                    }
                    summaries.summary(qs, values, series.get("count").asLong(), series.get("sum").asDouble(),
                            Vectors.strings(series.get("labels")));
                }
            });
        }
        JsonNode expect = vector.get("expect");
        String text = registry.scrape(Format.TEXT);
        String lines = String.join("\n", Vectors.strings(expect.get("text"))) + "\n";
        assertTrue(text.contains(lines), "expected\n" + lines + "in\n" + text);
        checkProtobuf(expect.get("protobuf"), Vectors.protobufFamily(registry, expect.get("protobuf")));
    }

    private static void checkProtobuf(JsonNode expected, Metrics.MetricFamily family) {
        JsonNode series = expected.get("series");
        for (int i = 0; i < series.size(); i++) {
            Metrics.Metric metric = family.getMetric(i);
            JsonNode want = series.get(i);
            assertFalse(metric.hasGauge() || metric.hasCounter() || metric.hasUntyped(),
                    "a summary series carries another kind's message: " + metric);
            assertTrue(metric.hasSummary(), metric.toString());
            assertEquals(want.get("sample_count").asLong(), metric.getSummary().getSampleCount());
            assertEquals(want.get("sample_sum").asDouble(), metric.getSummary().getSampleSum());
            List<List<Double>> quantiles = new ArrayList<>();
            metric.getSummary().getQuantileList().forEach(q -> quantiles.add(List.of(q.getQuantile(), q.getValue())));
            List<List<Double>> wantQuantiles = new ArrayList<>();
            want.get("quantiles").forEach(p -> wantQuantiles.add(List.of(p.get(0).asDouble(), p.get(1).asDouble())));
            assertEquals(wantQuantiles, quantiles);
        }
    }
}
