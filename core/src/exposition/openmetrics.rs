//! The rules OpenMetrics 1.0.0 adds to the text syntax: its type names (`info` and
//! `stateset` among them), `# UNIT`, exemplars after a sample, `_created` samples, a `_sum`
//! that must be a counter, and `# EOF` (the line syntax itself is [`super::text`]'s).

use super::escaping::Escaping;
use super::number::write_f64;
use super::text::{escape_into, write_labels};
use crate::model::{name::is_legacy_label, Exemplar, MetricType};

/// The name suffix and type word of a `# TYPE` line: OpenMetrics names the family.
pub(super) fn type_line(kind: MetricType) -> (&'static str, &'static str) {
    match kind {
        MetricType::Counter => ("", "counter"),
        MetricType::Gauge => ("", "gauge"),
        MetricType::Histogram => ("", "histogram"),
        MetricType::Summary => ("", "summary"),
        MetricType::Info => ("", "info"),
        MetricType::StateSet => ("", "stateset"),
        MetricType::Unknown => ("", "unknown"),
    }
}

/// Whether a histogram's or summary's `_sum` may be written. OpenMetrics treats it as a
/// counter: a histogram with negative bucket thresholds "MUST NOT" carry one, and no sum
/// may be negative, so such a series shows its buckets only (a histogram's `_count` goes
/// with its `_sum`, as the spec and `prometheus_client`'s parser require).
pub(super) fn sum_is_counter(sum: f64, negative_bounds: bool) -> bool {
    !negative_bounds && sum >= 0.0
}

/// Writes ` # {labels} value timestamp` after a sample.
pub(super) fn write_exemplar(out: &mut Vec<u8>, exemplar: &Exemplar, escaping: Escaping) {
    out.extend_from_slice(b" # ");
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

/// An exemplar label name as OpenMetrics text writes it.
fn exemplar_label_name(name: &str, escaping: Escaping) -> String {
    if is_legacy_label(name) {
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

/// The end of an OpenMetrics exposition.
pub(super) const EOF: &[u8] = b"# EOF\n";
