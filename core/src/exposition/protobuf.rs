//! The Prometheus protobuf exposition: a stream of `io.prometheus.client.MetricFamily`
//! messages, each preceded by its varint length.
//!
//! A family's message is written field by field straight into the output and its length
//! put in front when the family ends, so a series costs no allocation for the family and
//! the family is never copied into a buffer of its own. The field numbers are those of
//! `metrics.proto`, named below.

use super::{proto, Names};
use crate::model::{Descriptor, Exemplar, HistogramValue, MetricType, SeriesValue, State};
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
/// `Gauge.value`, `Counter.value`.
const VALUE: u32 = 1;
/// `Counter.exemplar`.
const COUNTER_EXEMPLAR: u32 = 2;
/// `Counter.created_timestamp`.
const COUNTER_CREATED: u32 = 3;
/// `Timestamp.seconds`.
const TIMESTAMP_SECONDS: u32 = 1;
/// `Timestamp.nanos`.
const TIMESTAMP_NANOS: u32 = 2;
/// `Histogram.sample_count`.
const HISTOGRAM_COUNT: u32 = 1;
/// `Histogram.sample_sum`.
const HISTOGRAM_SUM: u32 = 2;
/// `Histogram.bucket`.
const HISTOGRAM_BUCKET: u32 = 3;
/// `Histogram.created_timestamp`.
const HISTOGRAM_CREATED: u32 = 15;
/// `Bucket.cumulative_count`.
const BUCKET_COUNT: u32 = 1;
/// `Bucket.upper_bound`.
const BUCKET_BOUND: u32 = 2;
/// The size of a `double` field with a one-byte key.
const DOUBLE_LEN: usize = 9;

/// The family-name suffix and protobuf type of a metric type.
fn family_type(kind: MetricType) -> (&'static str, proto::MetricType) {
    match kind {
        MetricType::Counter => ("_total", proto::MetricType::Counter),
        MetricType::Gauge => ("", proto::MetricType::Gauge),
        MetricType::Histogram => ("", proto::MetricType::Histogram),
        MetricType::Summary => ("", proto::MetricType::Summary),
        MetricType::Info => ("_info", proto::MetricType::Gauge),
        // `metrics.proto` has no state-set type: `client_java` writes a gauge per state.
        MetricType::StateSet => ("", proto::MetricType::Gauge),
        MetricType::Unknown => ("", proto::MetricType::Untyped),
    }
}

/// A `MetricFamily` message being written: the header fields, then one `metric` field
/// per series, each measured first and then written straight into the output.
pub(super) struct ProtoFamily {
    /// Where the message starts in the output; its length prefix is inserted there.
    start: usize,
    /// The family's type: a gauge value in an unknown-type family is `untyped`.
    kind: MetricType,
    /// How many series were written: a family without any is not written at all.
    metrics: usize,
    /// A histogram's or summary's value field, reused from series to series.
    scratch: Vec<u8>,
    /// A state set's state label as written.
    state_label: Option<String>,
}

impl ProtoFamily {
    /// Writes the family's header fields, under its names as this scrape writes them.
    pub(super) fn start(names: &Names, desc: &Descriptor, out: &mut Vec<u8>) -> ProtoFamily {
        let (suffix, kind) = family_type(desc.kind());
        let start = out.len();
        put_bytes(FAMILY_NAME, format!("{}{suffix}", names.metric).as_bytes(), out);
        put_bytes(FAMILY_HELP, desc.help().as_bytes(), out);
        prost::encoding::int32::encode(FAMILY_TYPE, &(kind as i32), out);
        if let Some(unit) = desc.unit() {
            put_bytes(FAMILY_UNIT, unit.as_bytes(), out);
        }
        ProtoFamily {
            start,
            kind: desc.kind(),
            metrics: 0,
            scratch: Vec::new(),
            state_label: names.state.clone(),
        }
    }

    /// Appends one series: its labels, then its value as the `Metric` field of its kind.
    pub(super) fn series<'l>(
        &mut self,
        out: &mut Vec<u8>,
        labels: impl Iterator<Item = (&'l str, &'l str)> + Clone,
        value: &SeriesValue<'_>,
    ) {
        match value {
            SeriesValue::Counter {
                value,
                created,
                exemplar,
            } => self.counter(out, labels, *value, *created, *exemplar),
            SeriesValue::Gauge(value) => {
                // `Gauge` and `Untyped` are both `double value = 1`; only the field differs.
                let field = if self.kind == MetricType::Unknown {
                    METRIC_UNTYPED
                } else {
                    METRIC_GAUGE
                };
                self.gauge(out, labels, field, *value);
            }
            SeriesValue::Info => self.gauge(out, labels, METRIC_GAUGE, 1.0),
            SeriesValue::Histogram(h) if is_plain_classic(h) => self.classic_histogram(out, labels, h),
            SeriesValue::Histogram(h) => self.push_message(out, labels, METRIC_HISTOGRAM, &histogram(h)),
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
                self.push_message(out, labels, METRIC_SUMMARY, &summary);
            }
            SeriesValue::StateSet(states) => self.states(out, labels, states),
        }
    }

    /// A state-set series: a `Metric` per state with a gauge of 1 when set and 0 when not,
    /// its labels followed by the state label, as `client_java` writes it. A state-set
    /// value in a family of another type has no state label and writes nothing.
    fn states<'l>(
        &mut self,
        out: &mut Vec<u8>,
        labels: impl Iterator<Item = (&'l str, &'l str)> + Clone,
        states: &[State],
    ) {
        let Some(label) = self.state_label.take() else {
            return;
        };
        for state in states {
            // Not an identity: the closure's result type shortens the labels' lifetime to
            // this loop's, so the state label can follow them.
            #[allow(clippy::map_identity)]
            let own = labels.clone().map(|pair| -> (&str, &str) { pair });
            let labels = own.chain([(label.as_str(), state.name.as_str())]);
            self.gauge(out, labels, METRIC_GAUGE, state.value());
        }
        self.state_label = Some(label);
    }

    /// A counter series. Counters and gauges are most series, so their value messages are
    /// written field by field (the bytes `prost` writes for [`proto::Counter`] and
    /// [`proto::Gauge`]) rather than built as structs and measured by `prost` first.
    fn counter<'l>(
        &mut self,
        out: &mut Vec<u8>,
        labels: impl Iterator<Item = (&'l str, &'l str)> + Clone,
        value: f64,
        created: Option<f64>,
        exemplar: Option<&Exemplar>,
    ) {
        let exemplar = exemplar.map(proto_exemplar);
        let created = created.map(proto::Timestamp::from_unix_seconds);
        let len = DOUBLE_LEN
            + exemplar
                .as_ref()
                .map_or(0, |e| prost::encoding::message::encoded_len(COUNTER_EXEMPLAR, e))
            + created.map_or(0, |t| field_len(timestamp_len(t)));
        self.push(out, labels, field_len(len), |out| {
            put_key(METRIC_COUNTER, out);
            put_varint(len as u64, out);
            put_double(VALUE, value, out);
            if let Some(exemplar) = &exemplar {
                prost::encoding::message::encode(COUNTER_EXEMPLAR, exemplar, out);
            }
            if let Some(created) = created {
                put_timestamp(COUNTER_CREATED, created, out);
            }
        });
    }

    /// A gauge (or untyped, or info) series: `double value = 1` in field `field`.
    fn gauge<'l>(
        &mut self,
        out: &mut Vec<u8>,
        labels: impl Iterator<Item = (&'l str, &'l str)> + Clone,
        field: u32,
        value: f64,
    ) {
        self.push(out, labels, field_len(DOUBLE_LEN), |out| {
            put_key(field, out);
            put_varint(DOUBLE_LEN as u64, out);
            put_double(VALUE, value, out);
        });
    }

    /// A histogram with classic buckets only and no exemplars (most histograms), written
    /// field by field as `prost` writes [`proto::Histogram`]: count, sum, the buckets with
    /// `+Inf` last, and the created timestamp.
    fn classic_histogram<'l>(
        &mut self,
        out: &mut Vec<u8>,
        labels: impl Iterator<Item = (&'l str, &'l str)> + Clone,
        h: &HistogramValue<'_>,
    ) {
        let buckets = || {
            let finite = h
                .bounds
                .iter()
                .zip(h.cumulative)
                .map(|(bound, count)| (*bound, *count));
            finite.chain([(f64::INFINITY, h.count)])
        };
        let created = h.created.map(proto::Timestamp::from_unix_seconds);
        let len = varint_field_len(h.count)
            + DOUBLE_LEN
            + buckets()
                .map(|(_, count)| field_len(bucket_len(count)))
                .sum::<usize>()
            + created.map_or(0, |t| field_len(timestamp_len(t)));
        self.push(out, labels, field_len(len), |out| {
            put_key(METRIC_HISTOGRAM, out);
            put_varint(len as u64, out);
            put_uint(HISTOGRAM_COUNT, h.count, out);
            put_double(HISTOGRAM_SUM, h.sum, out);
            for (bound, count) in buckets() {
                put_key(HISTOGRAM_BUCKET, out);
                put_varint(bucket_len(count) as u64, out);
                put_uint(BUCKET_COUNT, count, out);
                put_double(BUCKET_BOUND, bound, out);
            }
            if let Some(created) = created {
                put_timestamp(HISTOGRAM_CREATED, created, out);
            }
        });
    }

    /// A series whose value is a `prost` message (histograms, summaries) in field `field`,
    /// encoded into `scratch` first: `prost` measures a message as it encodes it, and
    /// measuring it apart costs as much again.
    fn push_message<'l, M: Message>(
        &mut self,
        out: &mut Vec<u8>,
        labels: impl Iterator<Item = (&'l str, &'l str)> + Clone,
        field: u32,
        value: &M,
    ) {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        prost::encoding::message::encode(field, value, &mut scratch);
        self.push(out, labels, scratch.len(), |out| out.extend_from_slice(&scratch));
        self.scratch = scratch;
    }

    /// Appends one `Metric` field to `out`: its label pairs, then the value field that
    /// `write_value` writes in `value_len` bytes. The length is known before the bytes, so
    /// the metric is written straight into the output.
    fn push<'l>(
        &mut self,
        out: &mut Vec<u8>,
        labels: impl Iterator<Item = (&'l str, &'l str)> + Clone,
        value_len: usize,
        write_value: impl FnOnce(&mut Vec<u8>),
    ) {
        let labels_len: usize = labels
            .clone()
            .map(|(name, value)| field_len(label_len(name, value)))
            .sum();
        put_key(FAMILY_METRIC, out);
        put_varint((labels_len + value_len) as u64, out);
        for (name, value) in labels {
            put_key(METRIC_LABEL, out);
            put_varint(label_len(name, value) as u64, out);
            put_bytes(LABEL_NAME, name.as_bytes(), out);
            put_bytes(LABEL_VALUE, value.as_bytes(), out);
        }
        write_value(out);
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
        put_varint(len as u64, &mut prefix);
        out.extend_from_slice(&prefix);
        out.copy_within(self.start..self.start + len, self.start + prefix.len());
        out[self.start..self.start + prefix.len()].copy_from_slice(&prefix);
    }
}

/// Writes a length-delimited field.
fn put_bytes(field: u32, bytes: &[u8], out: &mut Vec<u8>) {
    put_key(field, out);
    put_varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

/// Writes the key of a length-delimited field (wire type 2): one byte for the field
/// numbers below 16 this writer uses.
#[inline]
fn put_key(field: u32, out: &mut Vec<u8>) {
    put_varint(u64::from(field << 3 | 2), out);
}

/// Writes `value` as a varint, seven bits a byte, lowest first. `prost`'s encoder appends
/// byte by byte through `BufMut`, checking capacity each time; most varints written here
/// (keys and lengths of labels) are one byte, so that case is a single push and longer
/// ones are gathered on the stack and appended at once.
#[inline]
fn put_varint(mut value: u64, out: &mut Vec<u8>) {
    if value < 0x80 {
        out.push(value as u8);
        return;
    }
    let mut bytes = [0u8; 10];
    let mut len = 0;
    while value >= 0x80 {
        bytes[len] = value as u8 | 0x80;
        value >>= 7;
        len += 1;
    }
    bytes[len] = value as u8;
    out.extend_from_slice(&bytes[..=len]);
}

/// Whether a histogram has classic buckets only and no exemplars, which
/// [`ProtoFamily::classic_histogram`] writes by hand.
fn is_plain_classic(h: &HistogramValue<'_>) -> bool {
    h.native.is_none() && !h.cumulative.is_empty() && h.exemplars.iter().all(Option::is_none)
}

/// The size of a `Bucket` message without exemplar.
fn bucket_len(count: u64) -> usize {
    varint_field_len(count) + DOUBLE_LEN
}

/// The size of a varint field with a one-byte key.
fn varint_field_len(value: u64) -> usize {
    1 + prost::encoding::encoded_len_varint(value)
}

/// Writes a `uint64` field (wire type 0).
fn put_uint(field: u32, value: u64, out: &mut Vec<u8>) {
    put_varint(u64::from(field << 3), out);
    put_varint(value, out);
}

/// The size of a `LabelPair` message.
fn label_len(name: &str, value: &str) -> usize {
    field_len(name.len()) + field_len(value.len())
}

/// Writes a `double` field (wire type 1).
fn put_double(field: u32, value: f64, out: &mut Vec<u8>) {
    put_varint(u64::from(field << 3 | 1), out);
    out.extend_from_slice(&value.to_le_bytes());
}

/// The size of a `Timestamp` message: `prost` leaves out its fields that are zero.
fn timestamp_len(t: proto::Timestamp) -> usize {
    let seconds = if t.seconds == 0 {
        0
    } else {
        1 + prost::encoding::encoded_len_varint(t.seconds as u64)
    };
    let nanos = if t.nanos == 0 {
        0
    } else {
        1 + prost::encoding::encoded_len_varint(i64::from(t.nanos) as u64)
    };
    seconds + nanos
}

/// Writes a `Timestamp` message field as `prost` does (`int64` and `int32` as varints,
/// sign-extended, and left out when zero).
fn put_timestamp(field: u32, t: proto::Timestamp, out: &mut Vec<u8>) {
    put_key(field, out);
    put_varint(timestamp_len(t) as u64, out);
    if t.seconds != 0 {
        put_uint(TIMESTAMP_SECONDS, t.seconds as u64, out);
    }
    if t.nanos != 0 {
        put_uint(TIMESTAMP_NANOS, i64::from(t.nanos) as u64, out);
    }
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

    /// One series written by this writer, and the `Metric` message `prost` writes for the
    /// same labels and value, each as a `metric` field.
    fn written_and_expected(value: &SeriesValue<'_>, expected: proto::Metric) -> (Vec<u8>, Vec<u8>) {
        let mut family = ProtoFamily {
            start: 0,
            kind: MetricType::Counter,
            metrics: 0,
            scratch: Vec::new(),
            state_label: None,
        };
        let mut written = Vec::new();
        family.series(
            &mut written,
            [("method", "GET"), ("path", "/a\"b")].into_iter(),
            value,
        );
        let mut expected_bytes = Vec::new();
        prost::encoding::message::encode(FAMILY_METRIC, &expected, &mut expected_bytes);
        (written, expected_bytes)
    }

    fn labels() -> Vec<proto::LabelPair> {
        [("method", "GET"), ("path", "/a\"b")]
            .map(|(name, value)| proto::LabelPair {
                name: Some(name.into()),
                value: Some(value.into()),
            })
            .into()
    }

    #[test]
    fn counters_are_written_as_prost_writes_them() {
        let exemplar = Exemplar::at("m", &[("trace_id", "abc")], 0.5, 1_700_000_000.25).unwrap();
        let createds = [
            None,
            Some(0.0),
            Some(2.0),
            Some(0.5),
            Some(-1.25),
            Some(1_700_000_000.123),
        ];
        for created in createds {
            for exemplar in [None, Some(&exemplar)] {
                for value in [0.0, 1.0, 1e300, f64::NAN] {
                    let series = SeriesValue::Counter {
                        value,
                        created,
                        exemplar,
                    };
                    let metric = proto::Metric {
                        label: labels(),
                        counter: Some(proto::Counter {
                            value: Some(value),
                            exemplar: exemplar.map(proto_exemplar),
                            created_timestamp: created.map(proto::Timestamp::from_unix_seconds),
                        }),
                        ..proto::Metric::default()
                    };
                    let (written, expected) = written_and_expected(&series, metric);
                    assert_eq!(written, expected, "{created:?} {exemplar:?} {value}");
                }
            }
        }
    }

    #[test]
    fn classic_histograms_are_written_as_prost_writes_them() {
        let bounds = [-1.0, 0.5, 1e300];
        for (cumulative, sum) in [([0, 0, 0, 0], 0.0), ([1, 200, 300, 1 << 40], -3.5)] {
            for created in [None, Some(1_700_000_000.5)] {
                let h = HistogramValue::classic(&bounds, &cumulative, sum, created);
                let metric = proto::Metric {
                    label: labels(),
                    histogram: Some(histogram(&h)),
                    ..proto::Metric::default()
                };
                let (written, expected) = written_and_expected(&SeriesValue::Histogram(h), metric);
                assert_eq!(written, expected, "{cumulative:?} {created:?}");
            }
        }
    }

    #[test]
    fn gauges_are_written_as_prost_writes_them() {
        for value in [0.0, -2.5, f64::INFINITY] {
            let metric = proto::Metric {
                label: labels(),
                gauge: Some(proto::Gauge { value: Some(value) }),
                ..proto::Metric::default()
            };
            let (written, expected) = written_and_expected(&SeriesValue::Gauge(value), metric);
            assert_eq!(written, expected);
        }
    }

    #[test]
    fn state_sets_are_a_gauge_per_state_under_the_state_label() {
        let states = [State::new("idle", false), State::new("busy", true)];
        let mut family = ProtoFamily {
            start: 0,
            kind: MetricType::StateSet,
            metrics: 0,
            scratch: Vec::new(),
            state_label: Some("worker_state".into()),
        };
        let mut written = Vec::new();
        family.series(
            &mut written,
            [("queue", "mail")].into_iter(),
            &SeriesValue::StateSet(&states),
        );
        let mut expected = Vec::new();
        for (state, value) in [("idle", 0.0), ("busy", 1.0)] {
            let metric = proto::Metric {
                label: [("queue", "mail"), ("worker_state", state)]
                    .map(|(name, value)| proto::LabelPair {
                        name: Some(name.into()),
                        value: Some(value.into()),
                    })
                    .into(),
                gauge: Some(proto::Gauge { value: Some(value) }),
                ..proto::Metric::default()
            };
            prost::encoding::message::encode(FAMILY_METRIC, &metric, &mut expected);
        }
        assert_eq!(written, expected);
        assert_eq!(family.metrics, 2);
    }

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
