package uk.gov.gds.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prometheus.metrics.expositionformats.generated.com_google_protobuf_4_36_2.Metrics.Histogram;
import io.prometheus.metrics.expositionformats.generated.com_google_protobuf_4_36_2.Metrics.MetricFamily;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** The request duration's native buckets, switched in code, and one registry's endpoints agreeing on them. */
class RequestNativeHistogramTest {
    private static final String TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    private static Endpoint endpoint(Registry registry, boolean nativeHistogram) {
        return Endpoint.create(registry, MetricsConfig.builder().requestNativeHistogram(nativeHistogram).build());
    }

    private static Histogram requestDuration(Registry registry) throws IOException {
        ByteArrayInputStream in = new ByteArrayInputStream(registry.scrapeBytes(Format.PROTOBUF));
        for (MetricFamily family; (family = MetricFamily.parseDelimitedFrom(in)) != null; ) {
            if (family.getName().equals("http_server_request_duration_seconds")) {
                return family.getMetric(0).getHistogram();
            }
        }
        throw new AssertionError("no request duration in the protobuf scrape");
    }

    @Test
    void theRequestDurationIsANativeHistogramCarryingTheTraceByDefault() throws IOException {
        Registry registry = new Registry();
        Endpoint endpoint = Endpoint.create(registry, MetricsConfig.builder().build());
        assertTrue(endpoint.requestNativeHistogram());
        endpoint.record("GET", "app.example", "/", true, "/", 200, 0.01, null, false, TRACEPARENT);
        Histogram duration = requestDuration(registry);
        assertEquals(5, duration.getSchema());
        assertEquals(1, duration.getExemplarsCount());
        assertEquals("4bf92f3577b34da6a3ce929d0e0e4736", duration.getExemplars(0).getLabel(0).getValue());
    }

    @Test
    void nativeBucketsSwitchedOffInCodeLeaveTheClassicBucketsWithTheTrace() throws IOException {
        Registry registry = new Registry();
        Endpoint endpoint = endpoint(registry, false);
        assertFalse(endpoint.requestNativeHistogram());
        endpoint.record("GET", "app.example", "/", true, "/", 200, 0.01, null, false, TRACEPARENT);
        Histogram duration = requestDuration(registry);
        assertFalse(duration.hasSchema());
        assertEquals(0, duration.getExemplarsCount());
        assertTrue(duration.getBucket(1).hasExemplar(), "the 0.01 bucket keeps the trace");
    }

    @Test
    void endpointsOfOneRegistryDisagreeingOnNativeBucketsIsAConfigurationError() {
        Registry registry = new Registry();
        endpoint(registry, true);
        ConfigurationException thrown = assertThrows(ConfigurationException.class, () -> endpoint(registry, false));
        assertTrue(thrown.getMessage().contains("METRICS_REQUEST_NATIVE_HISTOGRAM"), thrown.getMessage());
    }
}
