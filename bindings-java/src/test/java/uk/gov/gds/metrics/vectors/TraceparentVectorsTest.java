package uk.gov.gds.metrics.vectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import uk.gov.gds.metrics.Endpoint;
import uk.gov.gds.metrics.Format;
import uk.gov.gds.metrics.Registry;

/**
 * {@code traceparent.json}: each vector's header reported through {@link Endpoint#record} as
 * the servlet filter reports it, and the exemplars of the request metrics read back from an
 * OpenMetrics scrape.
 */
class TraceparentVectorsTest {
    private static final String LABELS = "method=\"GET\",host=\"app.example\",path=\"/\",code=\"200\"";

    @TestFactory
    Stream<DynamicTest> traceparentVectors() {
        return Vectors.tests("traceparent.json", TraceparentVectorsTest::run);
    }

    private static void run(JsonNode vector) {
        Registry registry = new Registry();
        Endpoint endpoint = Endpoint.create(registry, Vectors.config(vector.get("settings")));
        endpoint.record("GET", "app.example", "/", true, "/", 200, 0.01, null, false,
                Vectors.textOrNull(vector.get("traceparent")));

        String text = registry.scrape(Format.OPENMETRICS);
        List<String> found = text.lines().filter(line -> line.contains(" # {")).collect(Collectors.toList());
        JsonNode expect = vector.get("expect");
        assertTrue(text.contains("http_server_requests_total{" + LABELS + "} 1.0"), "counted in\n" + text);
        if (expect == null || expect.isNull()) {
            assertEquals(List.of(), found, "no exemplar in\n" + text);
            return;
        }
        String exemplar = "# {trace_id=\"" + expect.get("trace_id").asText() + "\",span_id=\""
                + expect.get("span_id").asText() + "\"}";
        assertEquals(2, found.size(), "two exemplars in\n" + text);
        String count = "http_server_requests_total{" + LABELS + "} 1.0 " + exemplar + " 1.0 ";
        String bucket = "http_server_request_duration_seconds_bucket{" + LABELS + ",le=\"0.01\"} 1.0 " + exemplar
                + " 0.01 ";
        assertTrue(found.get(0).startsWith(count), found.get(0) + " is not " + count);
        assertTrue(found.get(1).startsWith(bucket), found.get(1) + " is not " + bucket);
    }
}
