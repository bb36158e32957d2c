//! The Prometheus protobuf exposition: a stream of `io.prometheus.client.MetricFamily`
//! messages, each preceded by its varint length.
//!
//! A family's message is written field by field straight into the output and its length
//! put in front when the family ends, so a series costs no allocation for the family and
//! the family is never copied into a buffer of its own. The field numbers are those of
//! `metrics.proto`, named below.

use super::proto;
use crate::model::{Descriptor, Exemplar, HistogramValue, MetricType, SeriesValue};
use prost::Message;

/// `MetricFamily.name`.
const FAMILY_NAME: u32 = 1;
/// `MetricFamily.help`.
const FAMILY_HELP: u32 = 2;
/// `MetricFamily.type`.
const FAMILY_TYPE: u32 = 3;
/// `MetricFamily.metric`: one per series.
const FAMILY_METRIC: u32 = 4;
/// `MetricFamily.unit`.
const FAMILY_UNIT: u32 = 5;
/// `Metric.label`.
const METRIC_LABEL: u32 = 1;
/// `Metric.gauge`.
const METRIC_GAUGE: u32 = 2;
/// `Metric.counter`.
const METRIC_COUNTER: u32 = 3;
/// `Metric.summary`.
const METRIC_SUMMARY: u32 = 4;
/// `Metric.untyped`.
const METRIC_UNTYPED: u32 = 5;
/// `Metric.histogram`.
const METRIC_HISTOGRAM: u32 = 7;
/// `LabelPair.name`.
const LABEL_NAME: u32 = 1;
/// `LabelPair.value`.
const LABEL_VALUE: u32 = 2;

/// The family-name suffix and protobuf type of a metric type.
fn family_type(kind: MetricType) -> (&'static str, proto::MetricType) {
    match kind {
        MetricType::Counter => ("_total", proto::MetricType::Counter),
        MetricType::Gauge => ("", proto::MetricType::Gauge),
        MetricType::Histogram => ("", proto::MetricType::Histogram),
        MetricType::Summary => ("", proto::MetricType::Summary),
        MetricType::Info => ("_info", proto::MetricType::Gauge),
        MetricType::Unknown => ("", proto::MetricType::Untyped),
    }
}

/// A `MetricFamily` message being written: the header fields, then one `metric` field
/// per series, each built in `metric` (one series' worth).
pub(super) struct ProtoFamily {
    /// Where the message starts in the output; its length prefix is inserted there.
    start: usize,
    /// The family's type: a gauge value in an unknown-type family is `untyped`.
    kind: MetricType,
    metric: Vec<u8>,
    metrics: usize,
}

impl ProtoFamily {
    /// Writes the family's header fields; `name` is the metric name as escaped.
    pub(super) fn start(name: &str, desc: &Descriptor, out: &mut Vec<u8>) -> ProtoFamily {
        let (suffix, kind) = family_type(desc.kind());
        let start = out.len();
        put_bytes(FAMILY_NAME, format!("{name}{suffix}").as_bytes(), out);
        put_bytes(FAMILY_HELP, desc.help().as_bytes(), out);
        prost::encoding::int32::encode(FAMILY_TYPE, &(kind as i32), out);
        if let Some(unit) = desc.unit() {
            put_bytes(FAMILY_UNIT, unit.as_bytes(), out);
        }
        ProtoFamily {
            start,
            kind: desc.kind(),
            metric: Vec::with_capacity(128),
            metrics: 0,
        }
    }

    /// Appends one series: its labels, then its value as the `Metric` field of its kind.
    pub(super) fn series<'l>(
        &mut self,
        out: &mut Vec<u8>,
        labels: impl Iterator<Item = (&'l str, &'l str)>,
        value: &SeriesValue<'_>,
    ) {
        match value {
            SeriesValue::Counter {
                value,
                created,
                exemplar,
            } => {
                let counter = proto::Counter {
                    value: Some(*value),
                    exemplar: exemplar.map(proto_exemplar),
                    created_timestamp: created.map(proto::Timestamp::from_unix_seconds),
                };
                self.push(out, labels, METRIC_COUNTER, &counter);
            }
            SeriesValue::Gauge(value) => {
                // `Gauge` and `Untyped` are both `double value = 1`; only the field differs.
                let field = if self.kind == MetricType::Unknown {
                    METRIC_UNTYPED
                } else {
                    METRIC_GAUGE
                };
                self.push(out, labels, field, &proto::Gauge { value: Some(*value) });
            }
            SeriesValue::Info => self.push(out, labels, METRIC_GAUGE, &proto::Gauge { value: Some(1.0) }),
            SeriesValue::Histogram(h) => self.push(out, labels, METRIC_HISTOGRAM, &histogram(h)),
            SeriesValue::Summary(s) => {
                let summary = proto::Summary {
                    sample_count: Some(s.count),
                    sample_sum: Some(s.sum),
                    quantile: s
                        .quantiles
                        .iter()
                        .map(|q| proto::Quantile {
                            quantile: Some(q.quantile),
                            value: Some(q.value),
                        })
                        .collect(),
                    created_timestamp: s.created.map(proto::Timestamp::from_unix_seconds),
                };
                self.push(out, labels, METRIC_SUMMARY, &summary);
            }
        }
    }

    /// Appends one `Metric` to `out`: its label pairs, then `value` as field `field`.
    fn push<'l, M: Message>(
        &mut self,
        out: &mut Vec<u8>,
        labels: impl Iterator<Item = (&'l str, &'l str)>,
        field: u32,
        value: &M,
    ) {
        let metric = &mut self.metric;
        metric.clear();
        for (name, value) in labels {
            let len = field_len(name.len()) + field_len(value.len());
            prost::encoding::encode_key(METRIC_LABEL, prost::encoding::WireType::LengthDelimited, metric);
            prost::encoding::encode_varint(len as u64, metric);
            put_bytes(LABEL_NAME, name.as_bytes(), metric);
            put_bytes(LABEL_VALUE, value.as_bytes(), metric);
        }
        prost::encoding::message::encode(field, value, metric);
        put_bytes(FAMILY_METRIC, metric, out);
        self.metrics += 1;
    }

    /// Puts the message's length in front of it (moving the message up by the prefix's few
    /// bytes), or takes back the header of a family without series, which is not written.
    pub(super) fn finish(self, out: &mut Vec<u8>) {
        if self.metrics == 0 {
            out.truncate(self.start);
            return;
        }
        let len = out.len() - self.start;
        let mut prefix = Vec::with_capacity(prost::encoding::encoded_len_varint(len as u64));
        prost::encoding::encode_varint(len as u64, &mut prefix);
        out.extend_from_slice(&prefix);
        out.copy_within(self.start..self.start + len, self.start + prefix.len());
        out[self.start..self.start + prefix.len()].copy_from_slice(&prefix);
    }
}

/// Writes a length-delimited field.
fn put_bytes(field: u32, bytes: &[u8], out: &mut Vec<u8>) {
    prost::encoding::encode_key(field, prost::encoding::WireType::LengthDelimited, out);
    prost::encoding::encode_varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

/// The encoded size of a length-delimited field with a one-byte key.
fn field_len(len: usize) -> usize {
    1 + prost::encoding::encoded_len_varint(len as u64) + len
}

fn proto_exemplar(exemplar: &Exemplar) -> proto::Exemplar {
    proto::Exemplar {
        label: exemplar
            .labels()
            .map(|(name, value)| proto::LabelPair {
                name: Some(name.to_string()),
                value: Some(value.to_string()),
            })
            .collect(),
        value: Some(exemplar.value()),
        timestamp: Some(proto::Timestamp::from_unix_seconds(exemplar.timestamp())),
    }
}

fn histogram(h: &HistogramValue<'_>) -> proto::Histogram {
    let exemplar = |i: usize| h.exemplars.get(i).and_then(Option::as_ref).map(proto_exemplar);
    let mut bucket: Vec<proto::Bucket> = h
        .bounds
        .iter()
        .zip(h.cumulative)
        .enumerate()
        .map(|(i, (bound, count))| proto::Bucket {
            cumulative_count: Some(*count),
            upper_bound: Some(*bound),
            exemplar: exemplar(i),
        })
        .collect();
    if !h.cumulative.is_empty() {
        bucket.push(proto::Bucket {
            cumulative_count: Some(h.count),
            upper_bound: Some(f64::INFINITY),
            exemplar: exemplar(h.bounds.len()),
        });
    }
    let mut histogram = proto::Histogram {
        sample_count: Some(h.count),
        sample_sum: Some(h.sum),
        bucket,
        created_timestamp: h.created.map(proto::Timestamp::from_unix_seconds),
        ..proto::Histogram::default()
    };
    if let Some(native) = h.native {
        histogram.schema = Some(native.schema);
        histogram.zero_threshold = Some(native.zero_threshold);
        histogram.zero_count = Some(native.zero_count);
        (histogram.positive_span, histogram.positive_delta) = spans_and_deltas(native.positive.iter());
        (histogram.negative_span, histogram.negative_delta) = spans_and_deltas(native.negative.iter());
        if histogram.positive_span.is_empty() && histogram.negative_span.is_empty() {
            // An empty span marks a native histogram without observations as native.
            histogram.positive_span.push(proto::BucketSpan {
                offset: Some(0),
                length: Some(0),
            });
        }
        histogram.exemplars = h.exemplars.iter().flatten().map(proto_exemplar).collect();
    }
    histogram
}

/// Spans of consecutive populated indices and the count deltas of their buckets; gaps of
/// one or two empty buckets are filled with zeros rather than starting a new span, as
/// `client_golang` does.
fn spans_and_deltas(buckets: impl Iterator<Item = (i32, u64)>) -> (Vec<proto::BucketSpan>, Vec<i64>) {
    let mut spans: Vec<proto::BucketSpan> = Vec::new();
    let mut deltas = Vec::new();
    let mut previous_count = 0i64;
    let mut next_index = 0i32;
    for (index, count) in buckets {
        let gap = index - next_index;
        if spans.is_empty() || gap > 2 {
            spans.push(proto::BucketSpan {
                offset: Some(if spans.is_empty() { index } else { gap }),
                length: Some(0),
            });
        } else {
            for _ in 0..gap {
                deltas.push(-previous_count);
                previous_count = 0;
                *spans.last_mut().and_then(|s| s.length.as_mut()).expect("a span") += 1;
            }
        }
        *spans.last_mut().and_then(|s| s.length.as_mut()).expect("a span") += 1;
        deltas.push(count as i64 - previous_count);
        previous_count = count as i64;
        next_index = index + 1;
    }
    (spans, deltas)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_fill_small_gaps_and_split_large_ones() {
        let (spans, deltas) = spans_and_deltas([(-2, 1), (-1, 3), (2, 2), (7, 1)].into_iter());
        let spans: Vec<(i32, u32)> = spans
            .iter()
            .map(|s| (s.offset.unwrap(), s.length.unwrap()))
            .collect();
        assert_eq!(spans, vec![(-2, 5), (4, 1)]);
        assert_eq!(deltas, vec![1, 2, -3, 0, 2, -1]);
    }
}
