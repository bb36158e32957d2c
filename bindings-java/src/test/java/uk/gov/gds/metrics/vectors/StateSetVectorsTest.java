package uk.gov.gds.metrics.vectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.prometheus.metrics.expositionformats.generated.com_google_protobuf_4_36_2.Metrics;
import java.io.IOException;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import uk.gov.gds.metrics.Format;
import uk.gov.gds.metrics.Registry;
import uk.gov.gds.metrics.ScrapeTimeFamilies;

/**
 * {@code statesets.json}: a state set handed over at scrape time through
 * {@link ScrapeTimeFamilies} (as the {@code client_java} exports do), in text, OpenMetrics
 * and protobuf. The protobuf scrape is read back with {@code client_java}'s classes
 * generated from io.prometheus.client's metrics.proto.
 */
class StateSetVectorsTest {
    @TestFactory
    Stream<DynamicTest> stateSetVectors() {
        return Vectors.tests("statesets.json", StateSetVectorsTest::run);
    }

    private static void run(JsonNode vector) throws IOException {
        assertEquals("scrape_time", vector.get("source").asText(), "a source this runner cannot make");
        Registry registry = new Registry();
        JsonNode family = vector.get("family");
        ScrapeTimeFamilies.register(registry, sink -> {
            ScrapeTimeFamilies.Family stateSets = sink.stateSet(family.get("name").asText(),
                    family.get("help").asText(), Vectors.strings(family.get("labels")));
            for (JsonNode series : vector.get("series")) {
                JsonNode states = series.get("states");
                String[] names = new String[states.size()];
                boolean[] set = new boolean[states.size()];
                for (int i = 0; i < names.length; i++) {
                    names[i] = states.get(i).get(0).asText();
                    set[i] = states.get(i).get(1).asBoolean();
                }
                stateSets.stateSet(names, set, Vectors.strings(series.get("labels")));
            }
        });
        JsonNode expect = vector.get("expect");
        assertContainsLines(registry.scrape(Format.TEXT), expect.get("text"));
        assertContainsLines(registry.scrape(Format.OPENMETRICS), expect.get("openmetrics"));
        JsonNode protobuf = expect.get("protobuf");
        Metrics.MetricFamily decoded = Vectors.protobufFamily(registry, protobuf);
        for (int i = 0; i < decoded.getMetricCount(); i++) {
            Metrics.Metric metric = decoded.getMetric(i);
            assertFalse(metric.hasCounter() || metric.hasSummary() || metric.hasUntyped() || metric.hasHistogram(),
                    "a state carries another kind's message: " + metric);
            assertTrue(metric.hasGauge(), metric.toString());
            assertEquals(Vectors.amount(protobuf.get("series").get(i).get("gauge")), metric.getGauge().getValue());
        }
    }

    private static void assertContainsLines(String scrape, JsonNode lines) {
        String expected = String.join("\n", Vectors.strings(lines)) + "\n";
        assertTrue(scrape.contains(expected), "expected\n" + expected + "in\n" + scrape);
    }
}
