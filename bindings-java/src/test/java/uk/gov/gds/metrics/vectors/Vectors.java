package uk.gov.gds.metrics.vectors;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.prometheus.metrics.expositionformats.generated.com_google_protobuf_4_36_2.Metrics;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.function.ThrowingConsumer;
import uk.gov.gds.metrics.Endpoint;
import uk.gov.gds.metrics.EndpointResponse;
import uk.gov.gds.metrics.MetricsConfig;
import uk.gov.gds.metrics.Registry;

/** The shared conformance vectors of {@code core/tests/vectors}, one JUnit test per case. */
final class Vectors {
    private static final Path DIRECTORY = Path.of("..", "core", "tests", "vectors");

    private Vectors() {}

    /** The cases of {@code file}. */
    static List<JsonNode> cases(String file) {
        try {
            JsonNode doc = new ObjectMapper().readTree(DIRECTORY.resolve(file).toFile());
            List<JsonNode> cases = new ArrayList<>();
            doc.get("cases").forEach(cases::add);
            return cases;
        } catch (IOException e) {
            throw new UncheckedIOException("reading the vectors in " + DIRECTORY.resolve(file), e);
        }
    }

    /** One dynamic test per case of {@code file}, named by the case. */
    static Stream<DynamicTest> tests(String file, ThrowingConsumer<JsonNode> run) {
        return cases(file).stream().map(c -> DynamicTest.dynamicTest(c.get("name").asText(), () -> run.accept(c)));
    }

    static String[] strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        if (array != null) {
            array.forEach(v -> out.add(v.asText()));
        }
        return out.toArray(new String[0]);
    }

    static String textOrNull(JsonNode node) {
        return node == null || node.isNull() ? null : node.asText();
    }

    /** The settings a vector gives in code (the tests run with an empty environment). */
    static MetricsConfig config(JsonNode settings) {
        MetricsConfig.Builder builder = MetricsConfig.builder();
        if (settings == null) {
            return builder.build();
        }
        if (settings.hasNonNull("application_id")) {
            builder.applicationId(settings.get("application_id").asText());
        }
        if (settings.hasNonNull("auth_enabled")) {
            builder.authEnabled(settings.get("auth_enabled").asBoolean());
        }
        if (settings.hasNonNull("metrics_path")) {
            builder.metricsPath(settings.get("metrics_path").asText());
        }
        if (settings.has("routes")) {
            builder.routes(strings(settings.get("routes")));
        }
        if (settings.hasNonNull("trace_exemplars")) {
            builder.traceExemplars(settings.get("trace_exemplars").asBoolean());
        }
        if (settings.hasNonNull("request_native_histogram")) {
            builder.requestNativeHistogram(settings.get("request_native_histogram").asBoolean());
        }
        return builder.build();
    }

    /** An amount as the vectors write it: a number, or {@code "NaN"}, {@code "+Inf"}, {@code "-Inf"}. */
    static double amount(JsonNode node) {
        if (node.isNumber()) {
            return node.asDouble();
        }
        return switch (node.asText()) {
            case "NaN" -> Double.NaN;
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            default -> throw new IllegalArgumentException("not an amount: " + node);
        };
    }

    /** The exception {@code action} throws, or null when it throws none. */
    static Throwable thrownBy(Runnable action) {
        try {
            action.run();
            return null;
        } catch (RuntimeException e) {
            return e;
        }
    }

    /** A JSON array of numbers. */
    static double[] doubles(JsonNode array) {
        double[] out = new double[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asDouble();
        }
        return out;
    }

    static final String PROTOBUF =
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited";

    /** The body of the endpoint's protobuf scrape of {@code registry}. */
    static byte[] protobuf(Registry registry) {
        Endpoint endpoint = Endpoint.create(registry, MetricsConfig.builder().authEnabled(false).build());
        EndpointResponse response = endpoint.handle("GET", "", "/metrics", List.of(Map.entry("Accept", PROTOBUF)));
        assertEquals(200, response.status());
        return response.body();
    }

    /**
     * The family {@code expected} names ({@code name}, {@code type}, {@code series}) in the
     * protobuf scrape of {@code registry}, read back with {@code client_java}'s classes
     * generated from io.prometheus.client's metrics.proto: its type and its number of metrics
     * are checked, and each metric's labels against its series' {@code labels} pairs.
     */
    static Metrics.MetricFamily protobufFamily(Registry registry, JsonNode expected) throws IOException {
        List<Metrics.MetricFamily> families = new ArrayList<>();
        InputStream in = new ByteArrayInputStream(protobuf(registry));
        Metrics.MetricFamily read;
        while ((read = Metrics.MetricFamily.parseDelimitedFrom(in)) != null) {
            families.add(read);
        }
        Metrics.MetricFamily family = families.stream()
                .filter(f -> f.getName().equals(expected.get("name").asText()))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no family " + expected.get("name") + " in " + families));
        assertEquals(expected.get("type").asText(), family.getType().name());
        JsonNode series = expected.get("series");
        assertEquals(series.size(), family.getMetricCount(), family.toString());
        for (int i = 0; i < series.size(); i++) {
            List<List<String>> labels = new ArrayList<>();
            family.getMetric(i).getLabelList().forEach(l -> labels.add(List.of(l.getName(), l.getValue())));
            List<List<String>> wantLabels = new ArrayList<>();
            series.get(i).get("labels").forEach(p -> wantLabels.add(List.of(p.get(0).asText(), p.get(1).asText())));
            assertEquals(wantLabels, labels);
        }
        return family;
    }
}
