//! Writing metric families as Prometheus text (0.0.4 and 1.0.0), OpenMetrics 1.0.0 or
//! Prometheus protobuf.
//!
//! Writers read only [`crate::model`]: a family's [`Descriptor`] and each series'
//! [`SeriesValue`]. One file per format says how it writes them (CONTRACT section 3):
//! [`text`] for Prometheus text 0.0.4 and 1.0.0 (and the line syntax OpenMetrics shares),
//! [`openmetrics`] for what OpenMetrics 1.0.0 adds, [`protobuf`] for the Prometheus
//! protobuf stream. Each dispatches on the kind of a series once. Text is appended to a
//! caller-owned buffer without allocating per sample for legacy names; protobuf writes each
//! family's message straight into the buffer and puts its length in front when the family
//! ends, so neither format holds more than the output (plus one series) while rendering.

mod escaping;
mod number;
mod openmetrics;
pub mod proto;
mod protobuf;
mod text;

pub use escaping::Escaping;
pub use number::write_f64;

pub use crate::model::ExtraLabel;
use crate::model::{Descriptor, FamilySnapshot, LabelName, SeriesValue};
use protobuf::ProtoFamily;

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
    pub fn family(&mut self, desc: &Descriptor) -> FamilyEncoder<'_, 'a> {
        let names = Names::of(desc, self.format, self.escaping);
        let proto = if self.format == Format::Protobuf {
            Some(ProtoFamily::start(&names, desc, self.out))
        } else {
            text::header(self.out, &names, desc, self.format);
            None
        };
        FamilyEncoder {
            enc: self,
            names,
            proto,
        }
    }

    /// Writes a family computed at scrape time (a family without series writes nothing
    /// in protobuf, and its `HELP` and `TYPE` lines in text).
    pub fn write(&mut self, family: &FamilySnapshot) {
        let mut out = self.family(&family.descriptor);
        for series in &family.series {
            out.series(&series.labels, None, &series.value.as_value());
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
            self.out.extend_from_slice(openmetrics::EOF);
        }
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
    /// Text formats: what a sample line writes before each label value, so that a label
    /// costs two appends rather than six: `{name="` for the first (`,name="` after a
    /// quoted metric name, which opens the brace), `",name="` for the others.
    text_labels: Vec<String>,
    /// A state set's state label as written, like the other label names.
    state: Option<String>,
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
            .collect::<Vec<_>>();
        let text_labels = if format.is_text() {
            text::label_prefixes(&labels, quoted)
        } else {
            Vec::new()
        };
        let state = desc
            .state_label()
            .map(|label| label_as_written(label, format, escaping));
        Names {
            metric,
            quoted,
            labels,
            text_labels,
            state,
        }
    }

    /// Writes the metric name and `suffix`, quoted if needed (for HELP/TYPE lines).
    fn write_metric(&self, out: &mut Vec<u8>, suffix: &str) {
        if self.quoted {
            out.push(b'"');
            text::escape_into(out, &self.metric, true);
            out.extend_from_slice(suffix.as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(self.metric.as_bytes());
            // Most samples (gauges, untyped, summary quantiles) have no suffix.
            if !suffix.is_empty() {
                out.extend_from_slice(suffix.as_bytes());
            }
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
        text::escape_into(&mut out, label.as_str(), true);
        out.push(b'"');
        return String::from_utf8(out).expect("escaping keeps UTF-8");
    }
    escaping.escape(label.as_str())
}

/// Writes the samples of one family. Obtained from [`Encoder::family`].
pub struct FamilyEncoder<'e, 'a> {
    enc: &'e mut Encoder<'a>,
    names: Names,
    /// The protobuf message being written, whose length goes in front when the family ends.
    proto: Option<ProtoFamily>,
}

impl Drop for FamilyEncoder<'_, '_> {
    fn drop(&mut self) {
        if let Some(family) = self.proto.take() {
            family.finish(self.enc.out);
        }
    }
}

impl FamilyEncoder<'_, '_> {
    /// Writes one series: `values` in the order of the family's label names, then `extra`
    /// (such as the `pid` of a multi-process gauge), and its value.
    pub fn series<V: AsRef<str>>(&mut self, values: &[V], extra: ExtraLabel<'_>, value: &SeriesValue<'_>) {
        if let Some(proto) = &mut self.proto {
            let names = self.names.labels.iter().map(String::as_str);
            let labels = names.zip(values.iter().map(AsRef::as_ref)).chain(extra);
            proto.series(self.enc.out, labels, value);
            return;
        }
        text::Lines {
            out: self.enc.out,
            names: &self.names,
            format: self.enc.format,
            escaping: self.enc.escaping,
            emit_created: self.enc.emit_created,
            values,
            extra,
        }
        .series(value);
    }

    /// A gauge (or unknown-type) series: shorthand for [`FamilyEncoder::series`] with
    /// [`SeriesValue::Gauge`].
    pub fn gauge<V: AsRef<str>>(&mut self, values: &[V], extra: ExtraLabel<'_>, value: f64) {
        self.series(values, extra, &SeriesValue::Gauge(value));
    }

    /// A counter series without exemplar: shorthand for [`FamilyEncoder::series`] with
    /// [`SeriesValue::Counter`].
    pub fn counter<V: AsRef<str>>(&mut self, values: &[V], value: f64, created: Option<f64>) {
        let exemplar = None;
        self.series(
            values,
            None,
            &SeriesValue::Counter {
                value,
                created,
                exemplar,
            },
        );
    }
}
