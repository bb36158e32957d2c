package uk.gov.gds.metrics.vectors;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Just enough of the protobuf wire format to read a native histogram out of a delimited
 * {@code io.prometheus.client.MetricFamily} scrape, written from the encoding spec so the
 * check does not share code with the encoder it checks.
 */
final class ProtobufWire {
    private static final int FAMILY_NAME = 1;
    private static final int FAMILY_METRIC = 4;
    private static final int METRIC_HISTOGRAM = 7;
    private static final int COUNT = 1;
    private static final int SUM = 2;
    private static final int SCHEMA = 5;
    private static final int ZERO_THRESHOLD = 6;
    private static final int ZERO_COUNT = 7;
    private static final int NEGATIVE_SPAN = 9;
    private static final int NEGATIVE_DELTA = 10;
    private static final int POSITIVE_SPAN = 12;
    private static final int POSITIVE_DELTA = 13;
    private static final int SPAN_OFFSET = 1;
    private static final int SPAN_LENGTH = 2;

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

    /** A position in a byte array, read forward. */
    private static final class Reader {
        private final byte[] bytes;
        private int at;
        private final int end;

        Reader(byte[] bytes) {
            this.bytes = bytes;
            this.end = bytes.length;
        }

        boolean more() {
            return at < end;
        }

        long varint() {
            long value = 0;
            int shift = 0;
            int b;
            do {
                b = bytes[at++] & 0xff;
                value |= (long) (b & 0x7f) << shift;
                shift += 7;
            } while (b >= 0x80);
            return value;
        }

        byte[] take(int length) {
            byte[] out = Arrays.copyOfRange(bytes, at, at + length);
            at += length;
            return out;
        }
    }

    private static long zigzag(long value) {
        return (value >>> 1) ^ -(value & 1);
    }

    /** Field number to values: Longs for varints, byte arrays for the other wire types. */
    private static Map<Integer, List<Object>> fields(byte[] message) {
        Map<Integer, List<Object>> out = new HashMap<>();
        Reader reader = new Reader(message);
        while (reader.more()) {
            long key = reader.varint();
            int number = (int) (key >>> 3);
            Object value = switch ((int) (key & 7)) {
                case 0 -> reader.varint();
                case 1 -> reader.take(8);
                case 2 -> reader.take((int) reader.varint());
                case 5 -> reader.take(4);
                default -> throw new IllegalArgumentException("wire type " + (key & 7) + " of field " + number);
            };
            out.computeIfAbsent(number, n -> new ArrayList<>()).add(value);
        }
        return out;
    }

    private static List<byte[]> delimited(byte[] body) {
        Reader reader = new Reader(body);
        List<byte[]> messages = new ArrayList<>();
        while (reader.more()) {
            messages.add(reader.take((int) reader.varint()));
        }
        return messages;
    }

    /** A repeated sint64, packed (one byte array) or not (varints). */
    private static List<Long> packedSint(List<Object> values) {
        List<Long> out = new ArrayList<>();
        for (Object value : values) {
            if (value instanceof Long raw) {
                out.add(zigzag(raw));
                continue;
            }
            Reader reader = new Reader((byte[]) value);
            while (reader.more()) {
                out.add(zigzag(reader.varint()));
            }
        }
        return out;
    }

    /** Bucket index to count from spans and deltas (counts, each relative to the previous). */
    private static Map<Long, Long> sparse(List<Object> spans, List<Long> deltas) {
        Map<Long, Long> buckets = new TreeMap<>();
        long index = 0;
        long count = 0;
        Iterator<Long> delta = deltas.iterator();
        for (int n = 0; n < spans.size(); n++) {
            Map<Integer, List<Object>> span = fields((byte[]) spans.get(n));
            index += zigzag(first(span, SPAN_OFFSET)) + (n == 0 ? 0 : 1);
            long length = first(span, SPAN_LENGTH);
            for (long step = 0; step < length; step++) {
                count += delta.next();
                if (count != 0) {
                    buckets.put(index + step, count);
                }
            }
            index += length - 1;
        }
        return buckets;
    }

    private static long first(Map<Integer, List<Object>> fields, int number) {
        List<Object> values = fields.get(number);
        return values == null ? 0 : (Long) values.get(0);
    }

    private static double firstDouble(Map<Integer, List<Object>> fields, int number) {
        return ByteBuffer.wrap((byte[]) fields.get(number).get(0)).order(ByteOrder.LITTLE_ENDIAN).getDouble();
    }

    private static List<Object> all(Map<Integer, List<Object>> fields, int number) {
        return fields.getOrDefault(number, List.of());
    }

    /** The native part of the first series of {@code familyName}. */
    static NativeHistogram nativeHistogram(byte[] body, String familyName) {
        for (byte[] message : delimited(body)) {
            Map<Integer, List<Object>> family = fields(message);
            String name = new String((byte[]) family.get(FAMILY_NAME).get(0), StandardCharsets.UTF_8);
            if (!name.equals(familyName)) {
                continue;
            }
            byte[] metric = (byte[]) family.get(FAMILY_METRIC).get(0);
            Map<Integer, List<Object>> h = fields((byte[]) fields(metric).get(METRIC_HISTOGRAM).get(0));
            return new NativeHistogram(
                    zigzag(first(h, SCHEMA)),
                    firstDouble(h, ZERO_THRESHOLD),
                    first(h, ZERO_COUNT),
                    first(h, COUNT),
                    firstDouble(h, SUM),
                    sparse(all(h, POSITIVE_SPAN), packedSint(all(h, POSITIVE_DELTA))),
                    sparse(all(h, NEGATIVE_SPAN), packedSint(all(h, NEGATIVE_DELTA))));
        }
        throw new AssertionError("no family " + familyName + " in the protobuf scrape");
    }
}
