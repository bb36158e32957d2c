package uk.gov.gds.metrics.vectors;

import io.prometheus.metrics.expositionformats.generated.com_google_protobuf_4_36_2.Metrics.BucketSpan;
import io.prometheus.metrics.expositionformats.generated.com_google_protobuf_4_36_2.Metrics.Histogram;
import io.prometheus.metrics.expositionformats.generated.com_google_protobuf_4_36_2.Metrics.MetricFamily;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads a native histogram out of a delimited {@code io.prometheus.client.MetricFamily}
 * scrape with client_java's own classes generated from {@code metrics.proto}, so the check
 * shares no code with the encoder it checks.
 */
final class ProtobufWire {
    /** The native part of a histogram series, as the vectors spell it. */
    record NativeHistogram(
            long schema,
            double zeroThreshold,
            long zeroCount,
            long count,
            double sum,
            Map<Long, Long> positive,
            Map<Long, Long> negative) {}

    private ProtobufWire() {}

    /** The native part of the first series of {@code familyName}. */
    static NativeHistogram nativeHistogram(byte[] body, String familyName) {
        return nativePart(firstHistogram(body, familyName));
    }

    /** The histogram message of the first series of {@code familyName}. */
    static Histogram firstHistogram(byte[] body, String familyName) {
        ByteArrayInputStream in = new ByteArrayInputStream(body);
        try {
            for (MetricFamily family; (family = MetricFamily.parseDelimitedFrom(in)) != null; ) {
                if (family.getName().equals(familyName)) {
                    return family.getMetric(0).getHistogram();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("the protobuf scrape does not parse", e);
        }
        throw new AssertionError("no family " + familyName + " in the protobuf scrape");
    }

    /** The native part of a histogram message, as the vectors spell it. */
    static NativeHistogram nativePart(Histogram h) {
        return new NativeHistogram(h.getSchema(), h.getZeroThreshold(), h.getZeroCount(),
                h.getSampleCount(), h.getSampleSum(),
                sparse(h.getPositiveSpanList(), h.getPositiveDeltaList()),
                sparse(h.getNegativeSpanList(), h.getNegativeDeltaList()));
    }

    /**
     * {bucket index: count} from spans (each offset from the end of the previous) and deltas
     * (each count relative to the previous); empty buckets are left out.
     */
    private static Map<Long, Long> sparse(List<BucketSpan> spans, List<Long> deltas) {
        Map<Long, Long> buckets = new TreeMap<>();
        long index = 0;
        long count = 0;
        Iterator<Long> delta = deltas.iterator();
        for (int n = 0; n < spans.size(); n++) {
            BucketSpan span = spans.get(n);
            index += span.getOffset() + (n == 0 ? 0 : 1);
            for (long step = 0; step < span.getLength(); step++) {
                count += delta.next();
                if (count != 0) {
                    buckets.put(index + step, count);
                }
            }
            index += span.getLength() - 1;
        }
        return buckets;
    }
}
