"""io.prometheus.client's metrics.proto messages the summary and state-set scrapes need,
declared as a descriptor for the `protobuf` package's own decoder (no generated code, no
protoc): the check reads the scrape with a real protobuf implementation, not with the
encoder it checks.

Field numbers and types are those of metrics.proto (proto2); fields those scrapes never
hold (buckets, timestamps) are left out, and the decoder skips them. A histogram is
declared by its count alone, so a check can tell that a metric holds none."""

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.internal.decoder import _DecodeVarint32

F = descriptor_pb2.FieldDescriptorProto
OPTIONAL, REPEATED = F.LABEL_OPTIONAL, F.LABEL_REPEATED

#: message name -> [(field, number, type, label, message type or None)]
MESSAGES = {
    "LabelPair": [("name", 1, F.TYPE_STRING, OPTIONAL, None), ("value", 2, F.TYPE_STRING, OPTIONAL, None)],
    "Gauge": [("value", 1, F.TYPE_DOUBLE, OPTIONAL, None)],
    "Counter": [("value", 1, F.TYPE_DOUBLE, OPTIONAL, None)],
    "Untyped": [("value", 1, F.TYPE_DOUBLE, OPTIONAL, None)],
    "Quantile": [("quantile", 1, F.TYPE_DOUBLE, OPTIONAL, None), ("value", 2, F.TYPE_DOUBLE, OPTIONAL, None)],
    "Histogram": [("sample_count", 1, F.TYPE_UINT64, OPTIONAL, None)],
    "Summary": [
        ("sample_count", 1, F.TYPE_UINT64, OPTIONAL, None),
        ("sample_sum", 2, F.TYPE_DOUBLE, OPTIONAL, None),
        ("quantile", 3, F.TYPE_MESSAGE, REPEATED, "Quantile"),
    ],
    "Metric": [
        ("label", 1, F.TYPE_MESSAGE, REPEATED, "LabelPair"),
        ("gauge", 2, F.TYPE_MESSAGE, OPTIONAL, "Gauge"),
        ("counter", 3, F.TYPE_MESSAGE, OPTIONAL, "Counter"),
        ("summary", 4, F.TYPE_MESSAGE, OPTIONAL, "Summary"),
        ("untyped", 5, F.TYPE_MESSAGE, OPTIONAL, "Untyped"),
        ("histogram", 7, F.TYPE_MESSAGE, OPTIONAL, "Histogram"),
    ],
    "MetricFamily": [
        ("name", 1, F.TYPE_STRING, OPTIONAL, None),
        ("help", 2, F.TYPE_STRING, OPTIONAL, None),
        ("type", 3, F.TYPE_ENUM, OPTIONAL, "MetricType"),
        ("metric", 4, F.TYPE_MESSAGE, REPEATED, "Metric"),
        ("unit", 5, F.TYPE_STRING, OPTIONAL, None),
    ],
}
METRIC_TYPES = ["COUNTER", "GAUGE", "SUMMARY", "UNTYPED", "HISTOGRAM", "GAUGE_HISTOGRAM"]


def _metric_family_class():
    file = descriptor_pb2.FileDescriptorProto(
        name="gds_metrics_tests/metrics.proto", package="io.prometheus.client", syntax="proto2"
    )
    enum = file.enum_type.add(name="MetricType")
    for number, name in enumerate(METRIC_TYPES):
        enum.value.add(name=name, number=number)
    for message_name, fields in MESSAGES.items():
        message = file.message_type.add(name=message_name)
        for name, number, kind, label, type_name in fields:
            field = message.field.add(name=name, number=number, type=kind, label=label)
            if type_name:
                field.type_name = f".io.prometheus.client.{type_name}"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("io.prometheus.client.MetricFamily"))


MetricFamily = _metric_family_class()


def families(body):
    """The MetricFamily messages of a delimited protobuf scrape, decoded."""
    decoded, at = [], 0
    while at < len(body):
        length, at = _DecodeVarint32(body, at)
        family = MetricFamily()
        family.ParseFromString(body[at : at + length])
        decoded.append(family)
        at += length
    return decoded


def type_name(family):
    return METRIC_TYPES[family.type]
