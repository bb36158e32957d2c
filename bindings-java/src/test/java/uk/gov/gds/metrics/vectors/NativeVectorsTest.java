package uk.gov.gds.metrics.vectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import uk.gov.gds.metrics.Counter;
import uk.gov.gds.metrics.Format;
import uk.gov.gds.metrics.Histogram;
import uk.gov.gds.metrics.Registry;
import uk.gov.gds.metrics.internal.Native;

/**
 * {@code native.json} and {@code native_settings.json} through the public builders: native buckets read back from the
 * endpoint's protobuf scrape, classic buckets and exemplars from the OpenMetrics one.
 */
class NativeVectorsTest {
    @TestFactory
    Stream<DynamicTest> nativeVectors() {
        return Vectors.tests("native.json", NativeVectorsTest::run);
    }

    @TestFactory
    Stream<DynamicTest> nativeSettingsVectors() {
        return Vectors.tests("native_settings.json", NativeVectorsTest::runSettings);
    }

    /** {@code native_settings.json}: each setting given through its builder method, the rest left out. */
    private static void runSettings(JsonNode vector) {
        Registry registry = new Registry();
        JsonNode settings = vector.get("settings");
        Histogram.Builder builder = Histogram.builder().name("job_seconds").help("A metric from a vector.").nativeOnly();
        if (settings.has("schema")) {
            builder.nativeInitialSchema(settings.get("schema").asInt());
        }
        if (settings.has("zero_threshold")) {
            builder.nativeMaxZeroThreshold(settings.get("zero_threshold").asDouble());
        }
        if (settings.has("max_buckets")) {
            builder.nativeMaxNumberOfBuckets(settings.get("max_buckets").asInt());
        }
        if (settings.has("reset_after")) {
            builder.nativeResetDuration(settings.get("reset_after").asLong(), TimeUnit.SECONDS);
        }
        JsonNode expect = vector.get("expect");
        String error = Vectors.textOrNull(expect.get("error"));
        if (error != null) {
            Throwable thrown = Vectors.thrownBy(() -> builder.register(registry));
            assertNotNull(thrown, "expected " + error);
            assertEquals(Native.exceptionClassOf(error), thrown.getClass().getName(), String.valueOf(thrown));
            assertEquals(expect.get("message").asText(), thrown.getMessage());
            return;
        }
        builder.register(registry).observe(1.0);
        ProtobufWire.NativeHistogram decoded = ProtobufWire.nativeHistogram(Vectors.protobuf(registry), "job_seconds");
        assertEquals(expect.get("schema").asLong(), decoded.schema(), "schema");
        assertEquals(expect.get("zero_threshold").asDouble(), decoded.zeroThreshold(), "zero threshold");
    }

    private static void run(JsonNode vector) {
        Registry registry = new Registry();
        JsonNode metric = vector.get("metric");
        Object declared = declare(registry, metric);
        Throwable thrown = null;
        for (JsonNode call : vector.get("calls")) {
            thrown = Vectors.thrownBy(() -> record(declared, call));
        }
        JsonNode expect = vector.get("expect");
        String error = Vectors.textOrNull(expect.get("error"));
        if (error == null) {
            assertNull(thrown, "no error expected");
        } else {
            assertNotNull(thrown, "expected " + error);
            assertEquals(Native.exceptionClassOf(error), thrown.getClass().getName(), String.valueOf(thrown));
        }
        if (expect.has("native")) {
            checkNative(expect.get("native"), ProtobufWire.nativeHistogram(Vectors.protobuf(registry), metric.get("name").asText()));
        }
        checkOpenMetrics(expect, registry.scrape(Format.OPENMETRICS));
    }

    private static Object declare(Registry registry, JsonNode metric) {
        String name = metric.get("name").asText();
        if (metric.get("kind").asText().equals("counter")) {
            return Counter.builder().name(name).help("A metric from a vector.").register(registry);
        }
        Histogram.Builder builder = Histogram.builder().name(name).help("A metric from a vector.");
        if (metric.has("buckets")) {
            builder.classicUpperBounds(Vectors.doubles(metric.get("buckets")));
        }
        JsonNode nativeSettings = metric.get("native");
        if (nativeSettings != null) {
            builder.nativeInitialSchema(nativeSettings.get("schema").asInt())
                    .nativeMaxZeroThreshold(nativeSettings.get("zero_threshold").asDouble())
                    .nativeMaxNumberOfBuckets(nativeSettings.get("max_buckets").asInt());
            if (!metric.has("buckets")) {
                builder.nativeOnly();
            }
        }
        return builder.register(registry);
    }

    private static void record(Object declared, JsonNode call) {
        double amount = Vectors.amount(call.get("amount"));
        String[] exemplar = exemplar(call.get("exemplar"));
        switch (call.get("op").asText()) {
            case "inc" -> {
                if (exemplar == null) {
                    ((Counter) declared).inc(amount);
                } else {
                    ((Counter) declared).incWithExemplar(amount, exemplar);
                }
            }
            case "observe" -> {
                if (exemplar == null) {
                    ((Histogram) declared).observe(amount);
                } else {
                    ((Histogram) declared).observeWithExemplar(amount, exemplar);
                }
            }
            default -> throw new IllegalArgumentException("unknown op in " + call);
        }
    }

    /** [name, value] pairs as names and values in turn, or null without an exemplar. */
    private static String[] exemplar(JsonNode pairs) {
        if (pairs == null) {
            return null;
        }
        List<String> out = new ArrayList<>();
        pairs.forEach(pair -> {
            out.add(pair.get(0).asText());
            out.add(pair.get(1).asText());
        });
        return out.toArray(String[]::new);
    }

    static void checkNative(JsonNode expected, ProtobufWire.NativeHistogram decoded) {
        assertEquals(expected.get("schema").asLong(), decoded.schema(), "schema");
        assertEquals(expected.get("zero_threshold").asDouble(), decoded.zeroThreshold(), "zero threshold");
        assertEquals(expected.get("zero_count").asLong(), decoded.zeroCount(), "zero count");
        assertEquals(expected.get("count").asLong(), decoded.count(), "count");
        assertEquals(expected.get("sum").asDouble(), decoded.sum(), 1e-9, "sum");
        assertEquals(buckets(expected.get("positive")), decoded.positive(), "positive buckets");
        assertEquals(buckets(expected.get("negative")), decoded.negative(), "negative buckets");
    }

    private static Map<Long, Long> buckets(JsonNode object) {
        Map<Long, Long> out = new TreeMap<>();
        object.fields().forEachRemaining(e -> out.put(Long.parseLong(e.getKey()), e.getValue().asLong()));
        return out;
    }

    private static void checkOpenMetrics(JsonNode expect, String text) {
        List<String> lines = text.lines().toList();
        if (expect.has("openmetrics")) {
            for (String line : Vectors.strings(expect.get("openmetrics"))) {
                assertTrue(lines.contains(line), "no line " + line + " in\n" + text);
            }
        }
        for (String prefix : Vectors.strings(expect.get("exemplars"))) {
            Pattern exemplarLine = Pattern.compile(Pattern.quote(prefix) + "\\d+(\\.\\d+)?");
            assertTrue(lines.stream().anyMatch(l -> exemplarLine.matcher(l).matches()),
                    "no exemplar line " + prefix + "<timestamp> in\n" + text);
        }
        assertEquals(expect.get("exemplar_lines").asLong(), lines.stream().filter(l -> l.contains(" # {")).count(), text);
    }
}
