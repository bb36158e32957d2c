package uk.gov.gds.metrics.vectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.prometheus.metrics.expositionformats.generated.com_google_protobuf_4_36_2.Metrics.Bucket;
import io.prometheus.metrics.expositionformats.generated.com_google_protobuf_4_36_2.Metrics.Exemplar;
import io.prometheus.metrics.expositionformats.generated.com_google_protobuf_4_36_2.Metrics.Histogram;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import uk.gov.gds.metrics.Endpoint;
import uk.gov.gds.metrics.EndpointResponse;
import uk.gov.gds.metrics.Registry;

/**
 * {@code request_native.json}: one request reported through {@link Endpoint#record} as the
 * servlet filter reports it, and the request duration's native histogram and exemplars read
 * back from the same endpoint's protobuf scrape with client_java's classes generated from
 * {@code metrics.proto}.
 */
class RequestNativeVectorsTest {
    @TestFactory
    Stream<DynamicTest> requestNativeVectors() {
        return Vectors.tests("request_native.json", RequestNativeVectorsTest::run);
    }

    private static void run(JsonNode vector) {
        Registry registry = new Registry();
        Endpoint endpoint = Endpoint.create(registry, Vectors.config(vector.get("settings")));
        endpoint.record("GET", "app.example", "/", true, "/", 200, vector.get("seconds").asDouble(), null, false,
                Vectors.textOrNull(vector.get("traceparent")));
        // Scraped by the same endpoint: another on the registry would have to agree on the setting.
        EndpointResponse response = endpoint.handle("GET", "", "/metrics",
                List.of(Map.entry("Accept", Vectors.PROTOBUF)));
        assertEquals(200, response.status());
        Histogram histogram = ProtobufWire.firstHistogram(response.body(), "http_server_request_duration_seconds");
        JsonNode expect = vector.get("expect");
        if (expect.get("native").isNull()) {
            assertFalse(histogram.hasSchema() || histogram.hasZeroThreshold() || histogram.getPositiveSpanCount() > 0,
                    "classic only: " + histogram);
        } else {
            NativeVectorsTest.checkNative(expect.get("native"), ProtobufWire.nativePart(histogram));
        }
        List<String> nativeExemplars = histogram.getExemplarsList().stream()
                .map(RequestNativeVectorsTest::spelled)
                .collect(Collectors.toList());
        assertEquals(expected(expect.get("native_exemplars"), false), nativeExemplars, "native exemplars");
        List<String> bucketExemplars = histogram.getBucketList().stream()
                .filter(Bucket::hasExemplar)
                .map(bucket -> bucket.getUpperBound() + " " + spelled(bucket.getExemplar()))
                .collect(Collectors.toList());
        assertEquals(expected(expect.get("bucket_exemplars"), true), bucketExemplars, "bucket exemplars");
    }

    /** An exemplar as {@code name=value,... value}; it must carry a timestamp. */
    private static String spelled(Exemplar exemplar) {
        assertTrue(exemplar.hasTimestamp(), "an exemplar without a timestamp: " + exemplar);
        String labels = exemplar.getLabelList().stream()
                .map(pair -> pair.getName() + "=" + pair.getValue())
                .collect(Collectors.joining(","));
        return labels + " " + exemplar.getValue();
    }

    /** The vector's exemplars spelled as {@link #spelled} does, after the upper bound for buckets. */
    private static List<String> expected(JsonNode exemplars, boolean withBound) {
        List<String> out = new ArrayList<>();
        for (JsonNode exemplar : exemplars) {
            List<String> labels = new ArrayList<>();
            for (JsonNode pair : exemplar.get("labels")) {
                labels.add(pair.get(0).asText() + "=" + pair.get(1).asText());
            }
            String spelled = String.join(",", labels) + " " + exemplar.get("value").asDouble();
            out.add(withBound ? exemplar.get("upper_bound").asDouble() + " " + spelled : spelled);
        }
        return out;
    }
}
