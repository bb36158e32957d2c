package uk.gov.gds.metrics.vectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import uk.gov.gds.metrics.Counter;
import uk.gov.gds.metrics.DistributionFamily;
import uk.gov.gds.metrics.Format;
import uk.gov.gds.metrics.Gauge;
import uk.gov.gds.metrics.Histogram;
import uk.gov.gds.metrics.MetricFamily;
import uk.gov.gds.metrics.Registry;
import uk.gov.gds.metrics.Summary;
import uk.gov.gds.metrics.internal.Native;

/**
 * {@code errors.json} and {@code series_limit.json} through the public builders: each error
 * kind must arrive as the exception class the native error table maps it to.
 */
class MetricVectorsTest {
    @TestFactory
    Stream<DynamicTest> errorVectors() {
        return Vectors.tests("errors.json", MetricVectorsTest::runErrors);
    }

    @TestFactory
    Stream<DynamicTest> seriesLimitVectors() {
        return Vectors.tests("series_limit.json", MetricVectorsTest::runSeriesLimit);
    }

    /** The error table's classes, each one a Java caller can catch. */
    @Test
    void errorKindsMapToTheDocumentedExceptions() {
        assertEquals("java.lang.IllegalArgumentException", Native.exceptionClassOf("InvalidArgument"));
        assertEquals("java.lang.IllegalArgumentException", Native.exceptionClassOf("Duplicate"));
        assertEquals("uk.gov.gds.metrics.ConfigurationException", Native.exceptionClassOf("Configuration"));
        assertEquals("java.io.UncheckedIOException", Native.exceptionClassOf("Io"));
    }

    private static void runErrors(JsonNode vector) {
        Registry registry = new Registry();
        String expected = Vectors.textOrNull(vector.get("expect").get("error"));
        List<JsonNode> calls = list(vector.get("calls"));
        List<JsonNode> definitions = list(vector.get("define"));
        MetricFamily<?> family = null;
        Throwable thrown = null;
        for (int i = 0; i < definitions.size(); i++) {
            boolean last = i == definitions.size() - 1 && calls.isEmpty();
            JsonNode definition = definitions.get(i);
            if (last) {
                thrown = Vectors.thrownBy(() -> define(registry, definition));
            } else {
                family = define(registry, definition);
            }
        }
        for (JsonNode call : calls) {
            MetricFamily<?> target = family;
            thrown = Vectors.thrownBy(() -> call(target, call));
        }
        if (expected == null) {
            assertNull(thrown, "no error expected");
        } else {
            assertNotNull(thrown, "expected " + expected);
            assertEquals(Native.exceptionClassOf(expected), thrown.getClass().getName(), String.valueOf(thrown));
        }
        JsonNode created = vector.get("expect").get("series_created");
        if (created != null) {
            String series = "jobs_total{queue=\"" + calls.get(0).get("labels").get(0).asText() + "\"";
            assertEquals(created.asBoolean(), registry.scrape(Format.TEXT).contains(series), "series created");
        }
    }

    private static MetricFamily<?> define(Registry registry, JsonNode d) {
        String name = d.get("name").asText();
        String[] labels = Vectors.strings(d.get("labels"));
        return switch (d.get("kind").asText()) {
            case "counter" -> Counter.builder().name(name).labelNames(labels).register(registry);
            case "gauge" -> Gauge.builder().name(name).labelNames(labels).register(registry);
            case "histogram" -> {
                Histogram.Builder builder = Histogram.builder().name(name).labelNames(labels);
                if (d.has("buckets")) {
                    builder.buckets(Vectors.doubles(d.get("buckets")));
                }
                yield builder.register(registry);
            }
            case "summary" -> Summary.builder().name(name).labelNames(labels).register(registry);
            default -> throw new IllegalArgumentException("unknown kind in " + d);
        };
    }

    private static void call(MetricFamily<?> family, JsonNode call) {
        String[] labels = Vectors.strings(call.get("labels"));
        double amount = Vectors.amount(call.get("amount"));
        switch (call.get("op").asText()) {
            case "inc" -> ((Counter) family).incLabelled(amount, labels);
            case "set" -> ((Gauge) family).labelValues(labels).set(amount);
            case "observe" -> ((DistributionFamily) family).labelValues(labels).observe(amount);
            default -> throw new IllegalArgumentException("unknown op in " + call);
        }
    }

    private static void runSeriesLimit(JsonNode vector) {
        Registry registry = new Registry();
        Counter counter = Counter.builder().name("limited").labelNames("key")
                .seriesLimit(vector.get("limit").asLong()).register(registry);
        vector.get("label_sets").forEach(set -> counter.labelValues(Vectors.strings(set)).inc());
        String text = registry.scrape(Format.TEXT);
        JsonNode expect = vector.get("expect");
        Iterator<Map.Entry<String, JsonNode>> series = expect.get("series").fields();
        int expectedSeries = 0;
        while (series.hasNext()) {
            Map.Entry<String, JsonNode> s = series.next();
            String line = "limited_total{key=\"" + s.getKey() + "\"} " + s.getValue().asDouble() + "\n";
            assertTrue(text.contains(line), "expected " + line + " in\n" + text);
            expectedSeries++;
        }
        assertEquals(expectedSeries, text.lines().filter(l -> l.startsWith("limited_total{")).count(), text);
        long refused = expect.get("refused").asLong();
        String refusals = "gds_metrics_series_refused_total{family=\"limited\"}";
        if (refused == 0) {
            assertFalse(text.contains(refusals), text);
        } else {
            assertTrue(text.contains(refusals + " " + (double) refused + "\n"), text);
        }
    }

    private static List<JsonNode> list(JsonNode array) {
        List<JsonNode> out = new java.util.ArrayList<>();
        if (array != null) {
            array.forEach(out::add);
        }
        return out;
    }
}
