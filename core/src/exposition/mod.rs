//! Writing metric families as Prometheus text (0.0.4 and 1.0.0), OpenMetrics 1.0.0 or
//! Prometheus protobuf.
//!
//! One [`Encoder`] writes every format; the places where they differ (escaping of HELP,
//! the counter's `TYPE` name, `# UNIT`, `# EOF`, info metrics, exemplars, quoted UTF-8
//! names, native buckets) are spelled out below, so the rules of CONTRACT section 3 live
//! in one file. The text encoder appends to a caller-owned buffer and never allocates per
//! sample for legacy names. The protobuf encoder writes each family's message straight into
//! the buffer and puts its length in front when the family ends, so neither format holds
//! more than the output (plus one series) while rendering.

mod escaping;
mod number;
pub mod proto;

pub use escaping::Escaping;
pub use number::write_f64;

use crate::descriptor::{Descriptor, MetricType};
use crate::metrics::{Exemplar, NativeSnapshot};
use crate::name::LabelName;
use prost::Message;

/// An exposition format a scraper can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `text/plain; version=0.0.4`: the classic format, and the default. Cannot quote
    /// names, so names outside the legacy set are always escaped.
    Text,
    /// `text/plain; version=1.0.0`: text 0.0.4 plus quoted UTF-8 names.
    TextV1,
    /// `application/openmetrics-text; version=1.0.0`.
    OpenMetrics,
    /// `application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily;
    /// encoding=delimited`: the only format with native histogram buckets.
    Protobuf,
}

impl Format {
    /// The `Content-Type` of a response in this format without an `escaping` parameter
    /// (see [`crate::negotiate::Negotiated::content_type`] for the complete one).
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::TextV1 => "text/plain; version=1.0.0; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Format::Protobuf => {
                "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
            }
        }
    }

    /// Whether this format's syntax can carry a UTF-8 name quoted.
    pub fn quotes_names(self) -> bool {
        matches!(self, Format::TextV1 | Format::OpenMetrics)
    }

    /// The escaping this format applies when asked for `escaping`: text 0.0.4 cannot
    /// quote, so `allow-utf-8` falls back to `underscores` there.
    pub fn effective_escaping(self, escaping: Escaping) -> Escaping {
        match (self, escaping) {
            (Format::Text, Escaping::AllowUtf8) => Escaping::Underscores,
            (_, escaping) => escaping,
        }
    }

    fn is_text(self) -> bool {
        !matches!(self, Format::Protobuf)
    }

    fn is_openmetrics(self) -> bool {
        self == Format::OpenMetrics
    }
}

/// Writes metric families into a buffer in one format.
///
/// Collectors receive an encoder and call [`Encoder::family`] once per family they own,
/// then write its samples through the returned [`FamilyEncoder`], which keeps each family
/// contiguous by construction.
pub struct Encoder<'a> {
    format: Format,
    escaping: Escaping,
    out: &'a mut Vec<u8>,
    emit_created: bool,
    /// Set by a collector that could not finish (see [`Encoder::fail`]).
    failed: bool,
}

impl<'a> Encoder<'a> {
    /// An encoder appending to `out`, escaping names outside the legacy set with
    /// underscores (see [`Encoder::with_escaping`]).
    pub fn new(format: Format, out: &'a mut Vec<u8>) -> Self {
        Self {
            format,
            escaping: Escaping::default(),
            out,
            emit_created: false,
            failed: false,
        }
    }

    /// How names outside the legacy set are written, as negotiated.
    pub fn with_escaping(mut self, escaping: Escaping) -> Self {
        self.escaping = self.format.effective_escaping(escaping);
        self
    }

    /// Whether `_created` samples are written (OpenMetrics only; protobuf always carries
    /// created timestamps).
    pub fn with_created(mut self, emit_created: bool) -> Self {
        self.emit_created = emit_created;
        self
    }

    /// The format being written.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The escaping scheme in force.
    pub fn escaping(&self) -> Escaping {
        self.escaping
    }

    /// Starts a family: writes its `HELP`, `TYPE` and (OpenMetrics) `UNIT` lines, or
    /// starts its protobuf message.
    pub fn family<'e>(&'e mut self, desc: &'e Descriptor) -> FamilyEncoder<'e, 'a> {
        let names = Names::of(desc, self.format, self.escaping);
        if self.format == Format::Protobuf {
            let (suffix, kind) = proto_type(desc.kind());
            let family = ProtoFamily::start(&format!("{}{suffix}", names.metric), desc, kind, self.out);
            return FamilyEncoder {
                enc: self,
                desc,
                names,
                proto: Some(family),
            };
        }
        let (type_name_suffix, type_word) = self.type_line(desc.kind());
        self.out.extend_from_slice(b"# HELP ");
        names.write_metric(self.out, type_name_suffix);
        self.out.push(b' ');
        escape_into(self.out, desc.help(), self.format == Format::OpenMetrics);
        self.out.extend_from_slice(b"\n# TYPE ");
        names.write_metric(self.out, type_name_suffix);
        self.out.push(b' ');
        self.out.extend_from_slice(type_word.as_bytes());
        self.out.push(b'\n');
        if let (Format::OpenMetrics, Some(unit)) = (self.format, desc.unit()) {
            self.out.extend_from_slice(b"# UNIT ");
            names.write_metric(self.out, "");
            self.out.push(b' ');
            self.out.extend_from_slice(unit.as_bytes());
            self.out.push(b'\n');
        }
        FamilyEncoder {
            enc: self,
            desc,
            names,
            proto: None,
        }
    }

    /// The name suffix and type word of a `# TYPE` line. Prometheus text has no info type
    /// and names counters by their sample name; OpenMetrics names the family.
    fn type_line(&self, kind: MetricType) -> (&'static str, &'static str) {
        let om = self.format.is_openmetrics();
        match (om, kind) {
            (false, MetricType::Counter) => ("_total", "counter"),
            (false, MetricType::Info) => ("_info", "gauge"),
            (false, MetricType::Unknown) => ("", "untyped"),
            (_, MetricType::Counter) => ("", "counter"),
            (_, MetricType::Gauge) => ("", "gauge"),
            (_, MetricType::Histogram) => ("", "histogram"),
            (_, MetricType::Summary) => ("", "summary"),
            (true, MetricType::Info) => ("", "info"),
            (true, MetricType::Unknown) => ("", "unknown"),
        }
    }

    /// How many bytes the buffer holds so far.
    pub(crate) fn written(&self) -> usize {
        self.out.len()
    }

    /// Tells the registry that the collector now running could not produce its families
    /// (a callback into another language raised, a source could not be read): what it
    /// wrote is taken back, and it is counted in `gds_metrics_collector_failures_total`,
    /// exactly as if it had panicked. The rest of the scrape goes on.
    pub fn fail(&mut self) {
        self.failed = true;
    }

    /// Whether [`Encoder::fail`] was called since the last call of this function.
    pub(crate) fn take_failure(&mut self) -> bool {
        std::mem::take(&mut self.failed)
    }

    /// Cuts the buffer back to `len` bytes (see [`Encoder::written`]): takes back what a
    /// failed collector wrote.
    pub(crate) fn truncate(&mut self, len: usize) {
        self.out.truncate(len);
    }

    /// Ends the exposition (`# EOF` in OpenMetrics, nothing otherwise).
    pub fn finish(self) {
        if self.format == Format::OpenMetrics {
            self.out.extend_from_slice(b"# EOF\n");
        }
    }
}

/// The protobuf family-name suffix and type of a metric type.
fn proto_type(kind: MetricType) -> (&'static str, proto::MetricType) {
    match kind {
        MetricType::Counter => ("_total", proto::MetricType::Counter),
        MetricType::Gauge => ("", proto::MetricType::Gauge),
        MetricType::Histogram => ("", proto::MetricType::Histogram),
        MetricType::Summary => ("", proto::MetricType::Summary),
        MetricType::Info => ("_info", proto::MetricType::Gauge),
        MetricType::Unknown => ("", proto::MetricType::Untyped),
    }
}

/// A family's metric and label names as this exposition writes them: escaped by the
/// scheme, or flagged for quoting when the format quotes UTF-8 names.
struct Names {
    /// The metric name, escaped when needed (unquoted).
    metric: String,
    /// Written as `{"name",label="v"}` rather than `name{label="v"}`.
    quoted: bool,
    /// Each label name as written before `=`: raw, quoted or escaped.
    labels: Vec<String>,
}

impl Names {
    fn of(desc: &Descriptor, format: Format, escaping: Escaping) -> Names {
        let name = desc.metric_name();
        let quote = format.quotes_names() && escaping == Escaping::AllowUtf8;
        let quoted = quote && !name.is_legacy();
        let metric = escaping.escape(name.as_str());
        let labels = desc
            .label_names()
            .iter()
            .map(|label| label_as_written(label, format, escaping))
            .collect();
        Names {
            metric,
            quoted,
            labels,
        }
    }

    /// Writes the metric name and `suffix`, quoted if needed (for HELP/TYPE lines).
    fn write_metric(&self, out: &mut Vec<u8>, suffix: &str) {
        if self.quoted {
            out.push(b'"');
            escape_into(out, &self.metric, true);
            out.extend_from_slice(suffix.as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(self.metric.as_bytes());
            out.extend_from_slice(suffix.as_bytes());
        }
    }
}

fn label_as_written(label: &LabelName, format: Format, escaping: Escaping) -> String {
    if label.is_legacy() {
        return label.as_str().to_owned();
    }
    if format.is_text() && escaping == Escaping::AllowUtf8 {
        let mut out = Vec::with_capacity(label.as_str().len() + 2);
        out.push(b'"');
        escape_into(&mut out, label.as_str(), true);
        out.push(b'"');
        return String::from_utf8(out).expect("escaping keeps UTF-8");
    }
    escaping.escape(label.as_str())
}

/// An extra label added by the encoder's caller rather than the family, such as `pid` for
/// multi-process gauges.
pub type ExtraLabel<'l> = Option<(&'l str, &'l str)>;

/// One histogram series as a collector reports it.
#[derive(Debug, Clone, Copy)]
pub struct HistogramSample<'h> {
    /// The finite classic bucket bounds; empty for a native-only histogram.
    pub bounds: &'h [f64],
    /// Cumulative counts for each bound, then `+Inf`; empty for a native-only histogram.
    pub cumulative: &'h [u64],
    /// The number of observations.
    pub count: u64,
    /// The sum of all observations.
    pub sum: f64,
    /// When the series was created or last reset (seconds since the Unix epoch).
    pub created: Option<f64>,
    /// The newest exemplar of each classic bucket (same length as `cumulative`), or of
    /// the series for a native-only histogram; empty when none.
    pub exemplars: &'h [Option<Exemplar>],
    /// The native buckets, if the histogram keeps them.
    pub native: Option<&'h NativeSnapshot>,
}

/// Writes the samples of one family. Obtained from [`Encoder::family`].
pub struct FamilyEncoder<'e, 'a> {
    enc: &'e mut Encoder<'a>,
    desc: &'e Descriptor,
    names: Names,
    /// The protobuf message being written, whose length goes in front when the family ends.
    proto: Option<ProtoFamily>,
}

/// A `MetricFamily` message written field by field into the output, so a series costs no
/// allocation and the family is never copied into a buffer of its own: the header fields,
/// then one `metric` field per series, each built in `metric` (one series' worth).
struct ProtoFamily {
    /// Where the message starts in the output; its length prefix is inserted there.
    start: usize,
    metric: Vec<u8>,
    metrics: usize,
}

impl ProtoFamily {
    fn start(name: &str, desc: &Descriptor, kind: proto::MetricType, out: &mut Vec<u8>) -> ProtoFamily {
        let start = out.len();
        put_bytes(1, name.as_bytes(), out);
        put_bytes(2, desc.help().as_bytes(), out);
        prost::encoding::int32::encode(3, &(kind as i32), out);
        if let Some(unit) = desc.unit() {
            put_bytes(5, unit.as_bytes(), out);
        }
        ProtoFamily {
            start,
            metric: Vec::with_capacity(128),
            metrics: 0,
        }
    }

    /// Appends one `Metric` to `out`: its label pairs, then `value` as field `tag`.
    fn push<'l, M: Message>(
        &mut self,
        out: &mut Vec<u8>,
        labels: impl Iterator<Item = (&'l str, &'l str)>,
        tag: u32,
        value: &M,
    ) {
        let metric = &mut self.metric;
        metric.clear();
        for (name, value) in labels {
            let len = field_len(name.len()) + field_len(value.len());
            prost::encoding::encode_key(1, prost::encoding::WireType::LengthDelimited, metric);
            prost::encoding::encode_varint(len as u64, metric);
            put_bytes(1, name.as_bytes(), metric);
            put_bytes(2, value.as_bytes(), metric);
        }
        prost::encoding::message::encode(tag, value, metric);
        put_bytes(4, metric, out);
        self.metrics += 1;
    }

    /// Puts the message's length in front of it (moving the message up by the prefix's few
    /// bytes), or takes back the header of a family without series, which is not written.
    fn finish(self, out: &mut Vec<u8>) {
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
fn put_bytes(tag: u32, bytes: &[u8], out: &mut Vec<u8>) {
    prost::encoding::encode_key(tag, prost::encoding::WireType::LengthDelimited, out);
    prost::encoding::encode_varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

/// The encoded size of a length-delimited field with a one-byte key.
fn field_len(len: usize) -> usize {
    1 + prost::encoding::encoded_len_varint(len as u64) + len
}

impl Drop for FamilyEncoder<'_, '_> {
    fn drop(&mut self) {
        if let Some(family) = self.proto.take() {
            family.finish(self.enc.out);
        }
    }
}

impl FamilyEncoder<'_, '_> {
    /// A counter sample `<name>_total`, plus `_created` when enabled and known.
    pub fn counter<V: AsRef<str>>(&mut self, values: &[V], value: f64, created: Option<f64>) {
        self.counter_with_exemplar(values, value, created, None);
    }

    /// A counter sample with the exemplar of its latest exemplar-carrying increment
    /// (exposed in OpenMetrics and protobuf).
    pub fn counter_with_exemplar<V: AsRef<str>>(
        &mut self,
        values: &[V],
        value: f64,
        created: Option<f64>,
        exemplar: Option<&Exemplar>,
    ) {
        if self.proto.is_some() {
            let counter = proto::Counter {
                value: Some(value),
                exemplar: exemplar.map(proto_exemplar),
                created_timestamp: created.map(proto::Timestamp::from_unix_seconds),
            };
            self.push_proto(values, None, 3, &counter);
            return;
        }
        self.sample_with_exemplar("_total", values, None, value, exemplar);
        self.created(values, created);
    }

    /// A gauge (or unknown-type) sample.
    pub fn gauge<V: AsRef<str>>(&mut self, values: &[V], extra: ExtraLabel<'_>, value: f64) {
        if self.proto.is_some() {
            // `Gauge` and `Untyped` are both `double value = 1`; only the field differs.
            let tag = if self.desc.kind() == MetricType::Unknown {
                5
            } else {
                2
            };
            self.push_proto(values, extra, tag, &proto::Gauge { value: Some(value) });
            return;
        }
        self.sample("", values, extra, value);
    }

    /// An info sample `<name>_info{...} 1`.
    pub fn info<V: AsRef<str>>(&mut self, values: &[V]) {
        if self.proto.is_some() {
            self.push_proto(values, None, 2, &proto::Gauge { value: Some(1.0) });
            return;
        }
        self.sample("_info", values, None, 1.0);
    }

    /// A classic histogram: `bounds` are the finite upper bounds, `cumulative` the
    /// cumulative counts for each bound followed by the `+Inf` count (which is also
    /// `_count`).
    pub fn histogram<V: AsRef<str>>(
        &mut self,
        values: &[V],
        bounds: &[f64],
        cumulative: &[u64],
        sum: f64,
        created: Option<f64>,
    ) {
        debug_assert_eq!(bounds.len() + 1, cumulative.len());
        self.histogram_sample(
            values,
            &HistogramSample {
                bounds,
                cumulative,
                count: cumulative.last().copied().unwrap_or(0),
                sum,
                created,
                exemplars: &[],
                native: None,
            },
        );
    }

    /// A histogram with any of classic buckets, native buckets and exemplars. Text
    /// formats show the classic buckets (a native-only histogram shows its `+Inf`
    /// bucket, count and sum); protobuf carries everything.
    pub fn histogram_sample<V: AsRef<str>>(&mut self, values: &[V], h: &HistogramSample<'_>) {
        if self.proto.is_some() {
            let histogram = proto_histogram(h);
            self.push_proto(values, None, 7, &histogram);
            return;
        }
        let exemplar = |i: usize| h.exemplars.get(i).and_then(Option::as_ref);
        let mut le = ryu::Buffer::new();
        for (i, (bound, count)) in h.bounds.iter().zip(h.cumulative).enumerate() {
            let le = number::format_f64(&mut le, *bound);
            self.sample_with_exemplar("_bucket", values, Some(("le", le)), *count as f64, exemplar(i));
        }
        let inf_exemplar = exemplar(h.bounds.len());
        let count = h.count as f64;
        self.sample_with_exemplar("_bucket", values, Some(("le", "+Inf")), count, inf_exemplar);
        if self.sum_is_counter(h.sum, h.bounds.first().is_some_and(|b| *b < 0.0)) {
            self.sample("_count", values, None, count);
            self.sample("_sum", values, None, h.sum);
        }
        self.created(values, h.created);
    }

    /// Whether a histogram's or summary's `_sum` may be written. OpenMetrics treats it as
    /// a counter: a histogram with negative bucket thresholds "MUST NOT" carry one, and no
    /// sum may be negative, so in OpenMetrics such a series shows its buckets only (a
    /// histogram's `_count` goes with its `_sum`, as the spec and `prometheus_client`'s
    /// parser require). The Prometheus formats have no such rule and keep both.
    fn sum_is_counter(&self, sum: f64, negative_bounds: bool) -> bool {
        self.enc.format != Format::OpenMetrics || (!negative_bounds && sum >= 0.0)
    }

    /// A summary without quantiles: `_count` and `_sum`, as `prometheus_client` writes.
    pub fn summary<V: AsRef<str>>(&mut self, values: &[V], count: u64, sum: f64, created: Option<f64>) {
        if self.proto.is_some() {
            let summary = proto::Summary {
                sample_count: Some(count),
                sample_sum: Some(sum),
                quantile: Vec::new(),
                created_timestamp: created.map(proto::Timestamp::from_unix_seconds),
            };
            self.push_proto(values, None, 4, &summary);
            return;
        }
        self.sample("_count", values, None, count as f64);
        if self.sum_is_counter(sum, false) {
            self.sample("_sum", values, None, sum);
        }
        self.created(values, created);
    }

    fn created<V: AsRef<str>>(&mut self, values: &[V], created: Option<f64>) {
        if let (true, Format::OpenMetrics, Some(created)) = (self.enc.emit_created, self.enc.format, created)
        {
            self.sample("_created", values, None, created);
        }
    }

    /// Adds one protobuf metric with these labels and `value` as its field `tag` (the
    /// field numbers of `Metric` in metrics.proto).
    fn push_proto<V: AsRef<str>, M: Message>(
        &mut self,
        values: &[V],
        extra: ExtraLabel<'_>,
        tag: u32,
        value: &M,
    ) {
        let names = self.names.labels.iter().map(String::as_str);
        let labels = names.zip(values.iter().map(AsRef::as_ref)).chain(extra);
        self.proto
            .as_mut()
            .expect("a protobuf family")
            .push(self.enc.out, labels, tag, value);
    }

    /// Writes `<family><suffix>{labels} <value>\n`.
    fn sample<V: AsRef<str>>(&mut self, suffix: &str, values: &[V], extra: ExtraLabel<'_>, value: f64) {
        self.sample_with_exemplar(suffix, values, extra, value, None);
    }

    /// Writes a sample line, with ` # {labels} value timestamp` in OpenMetrics when an
    /// exemplar is given.
    fn sample_with_exemplar<V: AsRef<str>>(
        &mut self,
        suffix: &str,
        values: &[V],
        extra: ExtraLabel<'_>,
        value: f64,
        exemplar: Option<&Exemplar>,
    ) {
        let out = &mut *self.enc.out;
        let names = &self.names;
        if names.quoted {
            out.push(b'{');
            names.write_metric(out, suffix);
        } else {
            names.write_metric(out, suffix);
        }
        let pairs = names
            .labels
            .iter()
            .map(String::as_str)
            .zip(values.iter().map(AsRef::as_ref));
        write_labels(out, pairs.chain(extra), names.quoted);
        out.push(b' ');
        write_f64(out, value);
        if let (Some(exemplar), true) = (exemplar, self.enc.format.is_openmetrics()) {
            out.extend_from_slice(b" # ");
            let escaping = self.enc.escaping;
            let labels: Vec<(String, &str)> = exemplar
                .labels()
                .map(|(n, v)| (exemplar_label_name(n, escaping), v))
                .collect();
            write_labels(out, labels.iter().map(|(n, v)| (n.as_str(), *v)), false);
            out.push(b' ');
            write_f64(out, exemplar.value());
            out.push(b' ');
            write_f64(out, exemplar.timestamp());
        }
        out.push(b'\n');
    }
}

/// An exemplar label name as OpenMetrics text writes it.
fn exemplar_label_name(name: &str, escaping: Escaping) -> String {
    if crate::name::is_legacy_label(name) {
        return name.to_owned();
    }
    if escaping == Escaping::AllowUtf8 {
        let mut out = Vec::with_capacity(name.len() + 2);
        out.push(b'"');
        escape_into(&mut out, name, true);
        out.push(b'"');
        return String::from_utf8(out).expect("escaping keeps UTF-8");
    }
    escaping.escape(name)
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

fn proto_histogram(h: &HistogramSample<'_>) -> proto::Histogram {
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

/// Writes `{name="value",...}`, or only `,name="value"...}` when `open` says the brace
/// and the quoted metric name are already written. Nothing when there are no labels and
/// no brace is open.
fn write_labels<'l>(out: &mut Vec<u8>, pairs: impl Iterator<Item = (&'l str, &'l str)>, open: bool) {
    let mut first = !open;
    let mut any = open;
    for (name, value) in pairs {
        out.push(if first { b'{' } else { b',' });
        first = false;
        any = true;
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"=\"");
        escape_into(out, value, true);
        out.push(b'"');
    }
    if any {
        out.push(b'}');
    }
}

/// Escapes `\` and newline, and `"` when `quotes` is set: label values in both formats
/// and HELP in OpenMetrics escape quotes; HELP in text 0.0.4 does not. Most values need no
/// escaping, so `memchr` finds the next special byte and the rest is copied in bulk; a
/// short value (most label values) is checked byte by byte instead, which costs a third of
/// setting up the vector search.
pub(crate) fn escape_into(out: &mut Vec<u8>, text: &str, quotes: bool) {
    let special = if quotes { ESCAPED | QUOTE } else { ESCAPED };
    if text.len() <= SHORT_TEXT && !text.bytes().any(|b| SPECIAL[b as usize] & special != 0) {
        out.extend_from_slice(text.as_bytes());
        return;
    }
    let mut rest = text.as_bytes();
    loop {
        let special = if quotes {
            memchr::memchr3(b'\\', b'\n', b'"', rest)
        } else {
            memchr::memchr2(b'\\', b'\n', rest)
        };
        let Some(i) = special else {
            out.extend_from_slice(rest);
            return;
        };
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(match rest[i] {
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            _ => b"\\\"",
        });
        rest = &rest[i + 1..];
    }
}

/// Texts up to this long are checked for special bytes without `memchr`.
const SHORT_TEXT: usize = 32;

/// Per byte: whether it is escaped always (`ESCAPED`) or inside quotes (`QUOTE`).
static SPECIAL: [u8; 256] = {
    let mut table = [0; 256];
    table[b'\\' as usize] = ESCAPED;
    table[b'\n' as usize] = ESCAPED;
    table[b'"' as usize] = QUOTE;
    table
};
const ESCAPED: u8 = 1;
const QUOTE: u8 = 2;

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(text: &str, quotes: bool) -> String {
        let mut out = Vec::new();
        escape_into(&mut out, text, quotes);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn help_in_text_keeps_quotes() {
        assert_eq!(escaped("a\"b\\c\nd", false), "a\"b\\\\c\\nd");
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

    #[test]
    fn label_values_escape_quotes_backslashes_and_newlines() {
        assert_eq!(escaped("a\"b\\c\nd é", true), "a\\\"b\\\\c\\nd é");
        let long = format!("{}\"", "x".repeat(SHORT_TEXT));
        assert_eq!(escaped(&long, true), format!("{}\\\"", "x".repeat(SHORT_TEXT)));
        assert_eq!(escaped("plain", true), "plain");
    }
}
