"""Just enough of the protobuf wire format to read a native histogram and its exemplars out of a delimited
`io.prometheus.client.MetricFamily` scrape, written from the encoding spec so the check does
not share code with the encoder it checks."""

import struct

# Field numbers of metrics.proto.
FAMILY_NAME, FAMILY_METRIC = 1, 4
METRIC_HISTOGRAM = 7
COUNT, SUM, SCHEMA, ZERO_THRESHOLD, ZERO_COUNT = 1, 2, 5, 6, 7
NEGATIVE_SPAN, NEGATIVE_DELTA, POSITIVE_SPAN, POSITIVE_DELTA = 9, 10, 12, 13
SPAN_OFFSET, SPAN_LENGTH = 1, 2
HISTOGRAM_BUCKET, HISTOGRAM_EXEMPLARS = 3, 16
BUCKET_UPPER_BOUND, BUCKET_EXEMPLAR = 2, 3
EXEMPLAR_LABEL, EXEMPLAR_VALUE, EXEMPLAR_TIMESTAMP = 1, 2, 3
LABEL_NAME, LABEL_VALUE = 1, 2


def varint(data, at):
    value, shift = 0, 0
    while True:
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at += 1
        if byte < 0x80:
            return value, at
        shift += 7


def zigzag(value):
    return (value >> 1) ^ -(value & 1)


def fields(message):
    """Field number -> list of values: ints for varints, bytes for the other wire types."""
    out, at = {}, 0
    while at < len(message):
        key, at = varint(message, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = varint(message, at)
        elif wire == 1:
            value, at = message[at : at + 8], at + 8
        elif wire == 2:
            length, at = varint(message, at)
            value, at = message[at : at + length], at + length
        elif wire == 5:
            value, at = message[at : at + 4], at + 4
        else:
            raise ValueError(f"wire type {wire} of field {number}")
        out.setdefault(number, []).append(value)
    return out


def delimited(body):
    at, messages = 0, []
    while at < len(body):
        length, at = varint(body, at)
        messages.append(body[at : at + length])
        at += length
    return messages


def packed_sint(values):
    """A repeated sint64, packed (one bytes value) or not (varints)."""
    out = []
    for value in values:
        if isinstance(value, int):
            out.append(zigzag(value))
            continue
        at = 0
        while at < len(value):
            raw, at = varint(value, at)
            out.append(zigzag(raw))
    return out


def sparse(spans, deltas):
    """{bucket index: count} from spans and deltas (counts, each relative to the previous)."""
    buckets, index, count, deltas = {}, 0, 0, iter(deltas)
    for n, span in enumerate(spans):
        span = fields(span)
        index += zigzag(span.get(SPAN_OFFSET, [0])[0]) + (1 if n else 0)
        length = span.get(SPAN_LENGTH, [0])[0]
        for step in range(length):
            count += next(deltas)
            if count:
                buckets[index + step] = count
        index += length - 1
    return buckets


def double(raw):
    return struct.unpack("<d", raw)[0]


def first_histogram(body, family_name):
    """The fields of the histogram message of the first series of `family_name`."""
    for message in delimited(body):
        family = fields(message)
        if family[FAMILY_NAME][0].decode() == family_name:
            return fields(fields(family[FAMILY_METRIC][0])[METRIC_HISTOGRAM][0])
    raise AssertionError(f"no family {family_name} in the protobuf scrape")


def native_part(histogram):
    """The native part of a histogram message's fields, as the vectors spell it."""
    return {
        "schema": zigzag(histogram.get(SCHEMA, [0])[0]),
        "zero_threshold": double(histogram[ZERO_THRESHOLD][0]),
        "zero_count": histogram.get(ZERO_COUNT, [0])[0],
        "count": histogram.get(COUNT, [0])[0],
        "sum": double(histogram[SUM][0]),
        "positive": sparse(histogram.get(POSITIVE_SPAN, []), packed_sint(histogram.get(POSITIVE_DELTA, []))),
        "negative": sparse(histogram.get(NEGATIVE_SPAN, []), packed_sint(histogram.get(NEGATIVE_DELTA, []))),
    }


def native_histogram(body, family_name):
    """The native part of the first series of `family_name`, as the vectors spell it."""
    return native_part(first_histogram(body, family_name))


def exemplar(message):
    """An exemplar as the vectors spell it: labels as [name, value] pairs, and value;
    fails unless it carries a timestamp (Prometheus drops a native one without)."""
    exemplar = fields(message)
    assert EXEMPLAR_TIMESTAMP in exemplar, "an exemplar without a timestamp"
    labels = [fields(pair) for pair in exemplar.get(EXEMPLAR_LABEL, [])]
    return {
        "labels": [[pair[LABEL_NAME][0].decode(), pair[LABEL_VALUE][0].decode()] for pair in labels],
        "value": double(exemplar[EXEMPLAR_VALUE][0]),
    }


def request_histogram(body, family_name):
    """The first series of the histogram `family_name` as request_native.json spells it:
    its native part (None when it is classic only: no schema, zero threshold or spans),
    the exemplars of the histogram message, and those of its classic buckets."""
    histogram = first_histogram(body, family_name)
    native = any(number in histogram for number in (SCHEMA, ZERO_THRESHOLD, POSITIVE_SPAN, NEGATIVE_SPAN))
    buckets = [fields(bucket) for bucket in histogram.get(HISTOGRAM_BUCKET, [])]
    return {
        "native": native_part(histogram) if native else None,
        "native_exemplars": [exemplar(message) for message in histogram.get(HISTOGRAM_EXEMPLARS, [])],
        "bucket_exemplars": [
            {"upper_bound": double(bucket[BUCKET_UPPER_BOUND][0]), **exemplar(bucket[BUCKET_EXEMPLAR][0])}
            for bucket in buckets
            if BUCKET_EXEMPLAR in bucket
        ],
    }
