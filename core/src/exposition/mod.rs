//! Writing metric families as Prometheus text 0.0.4 or OpenMetrics 1.0.0.
//!
//! One [`Encoder`] writes both formats; the few places where they differ (escaping of HELP,
//! the counter's `TYPE` name, `# UNIT`, `# EOF`, info metrics) are spelled out below, so the
//! rules of CONTRACT section 3 live in one file. The encoder appends to a caller-owned
//! buffer and never allocates per sample: a scrape that reuses its buffer allocates nothing
//! in the steady state.

mod number;

pub use number::write_f64;

use crate::descriptor::{Descriptor, MetricType};
use crate::name::LabelName;

/// An exposition format a scraper can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `text/plain; version=0.0.4`: the classic format, and the default.
    Text,
    /// `application/openmetrics-text; version=1.0.0`.
    OpenMetrics,
}

impl Format {
    /// The complete `Content-Type` of a response in this format (Prometheus 3 fails a
    /// scrape whose content type is missing or incomplete).
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// Writes metric families into a buffer in one format.
///
/// Collectors receive an encoder and call [`Encoder::family`] once per family they own,
/// then write its samples through the returned [`FamilyEncoder`], which keeps each family
/// contiguous by construction.
pub struct Encoder<'a> {
    format: Format,
    out: &'a mut Vec<u8>,
    emit_created: bool,
    /// Set by a collector that could not finish (see [`Encoder::fail`]).
    failed: bool,
}

impl<'a> Encoder<'a> {
    /// An encoder appending to `out`.
    pub fn new(format: Format, out: &'a mut Vec<u8>) -> Self {
        Self {
            format,
            out,
            emit_created: false,
            failed: false,
        }
    }

    /// Whether `_created` samples are written (OpenMetrics only).
    pub fn with_created(mut self, emit_created: bool) -> Self {
        self.emit_created = emit_created;
        self
    }

    /// The format being written.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Starts a family: writes its `HELP`, `TYPE` and (OpenMetrics) `UNIT` lines.
    pub fn family<'e>(&'e mut self, desc: &'e Descriptor) -> FamilyEncoder<'e, 'a> {
        let name = desc.name();
        let (type_name_suffix, type_word) = self.type_line(desc.kind());
        self.out.extend_from_slice(b"# HELP ");
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(type_name_suffix.as_bytes());
        self.out.push(b' ');
        escape_into(self.out, desc.help(), self.format == Format::OpenMetrics);
        self.out.extend_from_slice(b"\n# TYPE ");
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(type_name_suffix.as_bytes());
        self.out.push(b' ');
        self.out.extend_from_slice(type_word.as_bytes());
        self.out.push(b'\n');
        if let (Format::OpenMetrics, Some(unit)) = (self.format, desc.unit()) {
            self.out.extend_from_slice(b"# UNIT ");
            self.out.extend_from_slice(name.as_bytes());
            self.out.push(b' ');
            self.out.extend_from_slice(unit.as_bytes());
            self.out.push(b'\n');
        }
        FamilyEncoder { enc: self, desc }
    }

    /// The name suffix and type word of a `# TYPE` line. Text 0.0.4 has no info type and
    /// names counters by their sample name; OpenMetrics names the family.
    fn type_line(&self, kind: MetricType) -> (&'static str, &'static str) {
        match (self.format, kind) {
            (Format::Text, MetricType::Counter) => ("_total", "counter"),
            (Format::Text, MetricType::Info) => ("_info", "gauge"),
            (Format::Text, MetricType::Unknown) => ("", "untyped"),
            (_, MetricType::Counter) => ("", "counter"),
            (_, MetricType::Gauge) => ("", "gauge"),
            (_, MetricType::Histogram) => ("", "histogram"),
            (_, MetricType::Summary) => ("", "summary"),
            (Format::OpenMetrics, MetricType::Info) => ("", "info"),
            (Format::OpenMetrics, MetricType::Unknown) => ("", "unknown"),
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

    /// Ends the exposition (`# EOF` in OpenMetrics, nothing in text).
    pub fn finish(self) {
        if self.format == Format::OpenMetrics {
            self.out.extend_from_slice(b"# EOF\n");
        }
    }
}

/// An extra label added by the encoder's caller rather than the family, such as `pid` for
/// multi-process gauges.
pub type ExtraLabel<'l> = Option<(&'l str, &'l str)>;

/// Writes the samples of one family. Obtained from [`Encoder::family`].
pub struct FamilyEncoder<'e, 'a> {
    enc: &'e mut Encoder<'a>,
    desc: &'e Descriptor,
}

impl FamilyEncoder<'_, '_> {
    /// A counter sample `<name>_total`, plus `_created` when enabled and known.
    pub fn counter<V: AsRef<str>>(&mut self, values: &[V], value: f64, created: Option<f64>) {
        self.sample("_total", values, None, value);
        self.created(values, created);
    }

    /// A gauge (or unknown-type) sample.
    pub fn gauge<V: AsRef<str>>(&mut self, values: &[V], extra: ExtraLabel<'_>, value: f64) {
        self.sample("", values, extra, value);
    }

    /// An info sample `<name>_info{...} 1`.
    pub fn info<V: AsRef<str>>(&mut self, values: &[V]) {
        self.sample("_info", values, None, 1.0);
    }

    /// A histogram: `bounds` are the finite upper bounds, `cumulative` the cumulative
    /// counts for each bound followed by the `+Inf` count (which is also `_count`).
    pub fn histogram<V: AsRef<str>>(
        &mut self,
        values: &[V],
        bounds: &[f64],
        cumulative: &[u64],
        sum: f64,
        created: Option<f64>,
    ) {
        debug_assert_eq!(bounds.len() + 1, cumulative.len());
        let mut le = ryu::Buffer::new();
        for (bound, count) in bounds.iter().zip(cumulative) {
            let le = number::format_f64(&mut le, *bound);
            self.sample("_bucket", values, Some(("le", le)), *count as f64);
        }
        let count = *cumulative.last().unwrap_or(&0) as f64;
        self.sample("_bucket", values, Some(("le", "+Inf")), count);
        self.sample("_count", values, None, count);
        self.sample("_sum", values, None, sum);
        self.created(values, created);
    }

    /// A summary without quantiles: `_count` and `_sum`, as `prometheus_client` writes.
    pub fn summary<V: AsRef<str>>(&mut self, values: &[V], count: u64, sum: f64, created: Option<f64>) {
        self.sample("_count", values, None, count as f64);
        self.sample("_sum", values, None, sum);
        self.created(values, created);
    }

    fn created<V: AsRef<str>>(&mut self, values: &[V], created: Option<f64>) {
        if let (true, Format::OpenMetrics, Some(created)) = (self.enc.emit_created, self.enc.format, created)
        {
            self.sample("_created", values, None, created);
        }
    }

    /// Writes `<family><suffix>{labels} <value>\n`.
    fn sample<V: AsRef<str>>(&mut self, suffix: &str, values: &[V], extra: ExtraLabel<'_>, value: f64) {
        let out = &mut *self.enc.out;
        out.extend_from_slice(self.desc.name().as_bytes());
        out.extend_from_slice(suffix.as_bytes());
        write_labels(out, self.desc.label_names(), values, extra);
        out.push(b' ');
        write_f64(out, value);
        out.push(b'\n');
    }
}

fn write_labels<V: AsRef<str>>(out: &mut Vec<u8>, names: &[LabelName], values: &[V], extra: ExtraLabel<'_>) {
    if names.is_empty() && extra.is_none() {
        return;
    }
    out.push(b'{');
    let mut first = true;
    let pairs = names
        .iter()
        .map(LabelName::as_str)
        .zip(values.iter().map(AsRef::as_ref));
    for (name, value) in pairs.chain(extra) {
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"=\"");
        escape_into(out, value, true);
        out.push(b'"');
    }
    out.push(b'}');
}

/// Escapes `\` and newline, and `"` when `quotes` is set: label values in both formats
/// and HELP in OpenMetrics escape quotes; HELP in text 0.0.4 does not. Most values need no
/// escaping, so `memchr` finds the next special byte and the rest is copied in bulk.
pub(crate) fn escape_into(out: &mut Vec<u8>, text: &str, quotes: bool) {
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
    fn label_values_escape_quotes_backslashes_and_newlines() {
        assert_eq!(escaped("a\"b\\c\nd é", true), "a\\\"b\\\\c\\nd é");
    }
}
