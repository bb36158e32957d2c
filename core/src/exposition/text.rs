//! The Prometheus text formats (0.0.4, and 1.0.0 with quoted UTF-8 names) and the line
//! syntax OpenMetrics shares with them: `# HELP`/`# TYPE` lines and one line per sample.
//! Where OpenMetrics differs, [`super::openmetrics`] says how. The Prometheus formats have
//! no info or state-set type: those are gauges with the same samples.
//!
//! Lines are appended to the caller's buffer; writing a series allocates nothing for
//! legacy names.

use super::number::{self, write_f64};
use super::openmetrics;
use super::{Escaping, ExtraLabel, Format, Names};
use crate::model::{Descriptor, Exemplar, HistogramValue, MetricType, SeriesValue, State, SummaryValue};

/// The name suffix and type word of a `# TYPE` line in the Prometheus text formats,
/// which have no info or state-set type and name counters by their sample name.
fn type_line(kind: MetricType) -> (&'static str, &'static str) {
    match kind {
        MetricType::Counter => ("_total", "counter"),
        MetricType::Gauge => ("", "gauge"),
        MetricType::Histogram => ("", "histogram"),
        MetricType::Summary => ("", "summary"),
        MetricType::Info => ("_info", "gauge"),
        MetricType::StateSet => ("", "gauge"),
        MetricType::Unknown => ("", "untyped"),
    }
}

/// Writes a family's `HELP`, `TYPE` and (OpenMetrics) `UNIT` lines.
pub(super) fn header(out: &mut Vec<u8>, names: &Names, desc: &Descriptor, format: Format) {
    let om = format == Format::OpenMetrics;
    let (type_name_suffix, type_word) = if om {
        openmetrics::type_line(desc.kind())
    } else {
        type_line(desc.kind())
    };
    out.extend_from_slice(b"# HELP ");
    names.write_metric(out, type_name_suffix);
    out.push(b' ');
    escape_into(out, desc.help(), om);
    out.extend_from_slice(b"\n# TYPE ");
    names.write_metric(out, type_name_suffix);
    out.push(b' ');
    out.extend_from_slice(type_word.as_bytes());
    out.push(b'\n');
    if let (true, Some(unit)) = (om, desc.unit()) {
        out.extend_from_slice(b"# UNIT ");
        names.write_metric(out, "");
        out.push(b' ');
        out.extend_from_slice(unit.as_bytes());
        out.push(b'\n');
    }
}

/// The lines of one series: where they go, how names are written, and its labels.
pub(super) struct Lines<'w, V> {
    pub(super) out: &'w mut Vec<u8>,
    pub(super) names: &'w Names,
    pub(super) format: Format,
    pub(super) escaping: Escaping,
    pub(super) emit_created: bool,
    pub(super) values: &'w [V],
    pub(super) extra: ExtraLabel<'w>,
}

impl<V: AsRef<str>> Lines<'_, V> {
    /// Writes the series' samples, by its kind.
    pub(super) fn series(&mut self, value: &SeriesValue<'_>) {
        match value {
            SeriesValue::Counter {
                value,
                created,
                exemplar,
            } => {
                self.sample("_total", None, *value, *exemplar);
                self.created(*created);
            }
            SeriesValue::Gauge(value) => self.sample("", None, *value, None),
            SeriesValue::Info => self.sample("_info", None, 1.0, None),
            SeriesValue::Histogram(h) => self.histogram(h),
            SeriesValue::Summary(s) => self.summary(s),
            SeriesValue::StateSet(states) => self.states(states),
        }
    }

    /// One sample per state, carrying the state as the value of the family's state label
    /// after the series' own labels: 1 when set, 0 when not. A state-set value in a family
    /// of another type has no state label and writes nothing
    /// ([`FamilySnapshot::new`](crate::model::FamilySnapshot::new) refuses such a family).
    fn states(&mut self, states: &[State]) {
        let names = self.names;
        let Some(label) = names.state.as_deref() else {
            return;
        };
        for state in states {
            self.sample("", Some((label, state.name.as_str())), state.value(), None);
        }
    }

    /// Classic buckets (a native-only histogram shows its `+Inf` bucket), count and sum;
    /// native buckets exist only in protobuf.
    fn histogram(&mut self, h: &HistogramValue<'_>) {
        let exemplar = |i: usize| h.exemplars.get(i).and_then(Option::as_ref);
        let mut le = ryu::Buffer::new();
        for (i, (bound, count)) in h.bounds.iter().zip(h.cumulative).enumerate() {
            let le = number::format_f64(&mut le, *bound);
            self.sample("_bucket", Some(("le", le)), *count as f64, exemplar(i));
        }
        let count = h.count as f64;
        self.sample("_bucket", Some(("le", "+Inf")), count, exemplar(h.bounds.len()));
        if self.sum_is_counter(h.sum, h.bounds.first().is_some_and(|b| *b < 0.0)) {
            self.sample("_count", None, count, None);
            self.sample("_sum", None, h.sum, None);
        }
        self.created(h.created);
    }

    /// Quantiles, then `_count` and `_sum`.
    fn summary(&mut self, s: &SummaryValue<'_>) {
        let mut buffer = ryu::Buffer::new();
        for q in s.quantiles {
            let quantile = number::format_f64(&mut buffer, q.quantile);
            self.sample("", Some(("quantile", quantile)), q.value, None);
        }
        self.sample("_count", None, s.count as f64, None);
        if self.sum_is_counter(s.sum, false) {
            self.sample("_sum", None, s.sum, None);
        }
        self.created(s.created);
    }

    /// Whether `_sum` may be written: always, but in OpenMetrics.
    fn sum_is_counter(&self, sum: f64, negative_bounds: bool) -> bool {
        self.format != Format::OpenMetrics || openmetrics::sum_is_counter(sum, negative_bounds)
    }

    fn created(&mut self, created: Option<f64>) {
        if let (true, Format::OpenMetrics, Some(created)) = (self.emit_created, self.format, created) {
            self.sample("_created", None, created, None);
        }
    }

    /// Writes `<family><suffix>{labels} <value>\n`, with the exemplar in OpenMetrics.
    fn sample(&mut self, suffix: &str, label: ExtraLabel<'_>, value: f64, exemplar: Option<&Exemplar>) {
        let out = &mut *self.out;
        let names = self.names;
        if names.quoted {
            out.push(b'{');
        }
        names.write_metric(out, suffix);
        let mut labelled = false;
        for (prefix, value) in names.text_labels.iter().zip(self.values) {
            out.extend_from_slice(prefix.as_bytes());
            escape_into(out, value.as_ref(), true);
            labelled = true;
        }
        if labelled {
            out.push(b'"');
        }
        let open = names.quoted || labelled;
        // Most samples have no label of their own, and at most one is set in practice (a
        // gauge's `pid`, a bucket's `le`, a quantile).
        match (self.extra, label) {
            (None, None) if open => out.push(b'}'),
            (None, None) => {}
            (Some(extra), Some(label)) => write_labels(out, [extra, label].into_iter(), open),
            (extra, label) => write_labels(out, extra.or(label).into_iter(), open),
        }
        out.push(b' ');
        write_f64(out, value);
        if let (Some(exemplar), Format::OpenMetrics) = (exemplar, self.format) {
            openmetrics::write_exemplar(out, exemplar, self.escaping);
        }
        out.push(b'\n');
    }
}

/// What a sample line writes before each of a family's label values (see
/// [`Names`]): `labels` are the label names as written, `quoted` whether the brace is
/// already open.
pub(super) fn label_prefixes(labels: &[String], quoted: bool) -> Vec<String> {
    let first = if quoted { "," } else { "{" };
    labels
        .iter()
        .enumerate()
        .map(|(i, name)| format!("{}{name}=\"", if i == 0 { first } else { "\"," }))
        .collect()
}

/// Writes `{name="value",...}`, or only `,name="value"...}` when `open` says the brace
/// and the quoted metric name are already written. Nothing when there are no labels and
/// no brace is open.
pub(super) fn write_labels<'l>(
    out: &mut Vec<u8>,
    pairs: impl Iterator<Item = (&'l str, &'l str)>,
    open: bool,
) {
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
/// escaping and are short: their bytes' classes are or-ed together (no branch per byte)
/// and the value copied at once, inline at the caller. Longer values and those that need
/// escaping go to [`escape_long_into`].
#[inline]
pub(super) fn escape_into(out: &mut Vec<u8>, text: &str, quotes: bool) {
    let special = if quotes { ESCAPED | QUOTE } else { ESCAPED };
    let classes = || text.bytes().fold(0, |seen, b| seen | SPECIAL[b as usize]);
    if text.len() <= SHORT_TEXT && classes() & special == 0 {
        out.extend_from_slice(text.as_bytes());
    } else {
        escape_long_into(out, text, quotes);
    }
}

/// [`escape_into`] for any text: `memchr` finds the next special byte and the rest is
/// copied in bulk.
fn escape_long_into(out: &mut Vec<u8>, text: &str, quotes: bool) {
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
    fn label_values_escape_quotes_backslashes_and_newlines() {
        assert_eq!(escaped("a\"b\\c\nd é", true), "a\\\"b\\\\c\\nd é");
        let long = format!("{}\"", "x".repeat(SHORT_TEXT));
        assert_eq!(escaped(&long, true), format!("{}\\\"", "x".repeat(SHORT_TEXT)));
        assert_eq!(escaped("plain", true), "plain");
    }
}
