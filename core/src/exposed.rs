//! The names a family is written under in each escaping a scrape can ask for.
//!
//! Names outside the legacy set are escaped at scrape time, so two names that differ as
//! declared can meet in a scrape: `a.b` and `a_b` are both `a_b` with
//! `escaping=underscores` (the default of text 0.0.4), and the label names `a-b` and `a_b`
//! both `a_b`. A repeated family makes promtool refuse the scrape and Prometheus keep one
//! value; a repeated label makes Prometheus mark the whole target down. So such names are
//! refused when they are declared, never escaped apart at scrape time (which would give a
//! name Prometheus' own escaping could not map back).

use crate::error::{Error, Result};
use crate::exposition::Escaping;
use crate::metrics::self_metrics::RESERVED_PREFIX;
use crate::model::Descriptor;
use std::collections::HashMap;

/// The schemes that rewrite names, all of which the endpoint negotiates. The names as
/// declared (`allow-utf-8`) are checked by the registry's own duplicate check.
const ESCAPINGS: [Escaping; 3] = [Escaping::Underscores, Escaping::Dots, Escaping::Values];

/// One family or sample name as one escaping scheme writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExposedName {
    escaping: Escaping,
    written: String,
    /// The family that writes it, as declared.
    family: String,
}

/// The names `descs` are written under in every escaping. Fails when two label names of
/// one family, or two of the families, would be written alike.
pub(crate) fn exposed_names(descs: &[Descriptor]) -> Result<Vec<ExposedName>> {
    let mut out: Vec<ExposedName> = Vec::new();
    for desc in descs {
        check_label_names(desc)?;
        let own = names_of(desc);
        check_free(&own, &out)?;
        out.extend(own);
    }
    Ok(out)
}

/// Fails if one of `new` starts with the library's reserved prefix, or is written by
/// another family of `taken` under the same escaping.
pub(crate) fn check_free<'a>(
    new: &[ExposedName],
    taken: impl IntoIterator<Item = &'a ExposedName>,
) -> Result<()> {
    if let Some(name) = new.iter().find(|n| n.written.starts_with(RESERVED_PREFIX)) {
        return Err(Error::ReservedName {
            name: name.family.clone(),
        });
    }
    let taken: HashMap<(Escaping, &str), &str> = taken
        .into_iter()
        .map(|n| ((n.escaping, n.written.as_str()), n.family.as_str()))
        .collect();
    for name in new {
        if let Some(other) = taken.get(&(name.escaping, name.written.as_str())) {
            return Err(Error::NameCollision {
                name: name.family.clone(),
                other: (*other).to_owned(),
                exposed: name.written.clone(),
                escaping: name.escaping.as_param(),
            });
        }
    }
    Ok(())
}

/// The family name and every sample name of `desc`, in each escaping.
fn names_of(desc: &Descriptor) -> Vec<ExposedName> {
    let suffixes = std::iter::once("").chain(desc.kind().sample_suffixes().iter().copied());
    let mut names: Vec<ExposedName> = Vec::new();
    for escaping in ESCAPINGS {
        let base = escaping.escape(desc.name());
        for suffix in suffixes.clone() {
            let name = ExposedName {
                escaping,
                written: format!("{base}{suffix}"),
                family: desc.name().to_owned(),
            };
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

/// Fails when two label names of `desc` (a state set's state label included) are written
/// alike under some escaping.
fn check_label_names(desc: &Descriptor) -> Result<()> {
    for escaping in ESCAPINGS {
        let mut seen: HashMap<String, &str> = HashMap::new();
        for label in desc.written_label_names() {
            let written = escaping.escape(label.as_str());
            if let Some(other) = seen.insert(written.clone(), label.as_str()) {
                return Err(Error::LabelNameCollision {
                    metric: desc.name().to_owned(),
                    name: label.as_str().to_owned(),
                    other: other.to_owned(),
                    exposed: written,
                    escaping: escaping.as_param(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MetricType, Opts};

    fn desc(name: &str, kind: MetricType, labels: &[&str]) -> Descriptor {
        Descriptor::new(Opts::new(name, "h").labels(labels.iter().copied()), kind).unwrap()
    }

    #[test]
    fn label_names_written_alike_are_refused_naming_both() {
        let err = exposed_names(&[desc("m", MetricType::Gauge, &["a-b", "a_b"])]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "label names `a_b` and `a-b` of metric `m` are both exposed as `a_b` with \
             escaping=underscores; rename one of them"
        );
    }

    #[test]
    fn a_label_written_like_a_state_sets_state_label_is_refused() {
        let err =
            exposed_names(&[desc("worker.state", MetricType::StateSet, &["worker_state"])]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "label names `worker.state` and `worker_state` of metric `worker.state` are both exposed as \
             `worker_state` with escaping=underscores; rename one of them"
        );
    }

    #[test]
    fn a_legacy_name_can_meet_another_only_under_values_escaping() {
        let names = exposed_names(&[
            desc("U__a_2e_b", MetricType::Gauge, &[]),
            desc("a.b", MetricType::Gauge, &[]),
        ]);
        assert!(matches!(
            names,
            Err(Error::NameCollision {
                escaping: "values",
                ..
            })
        ));
    }

    #[test]
    fn suffixed_sample_names_meet_escaped_family_names() {
        let err = exposed_names(&[
            desc("http.requests", MetricType::Counter, &[]),
            desc("http_requests_total", MetricType::Gauge, &[]),
        ])
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "metric `http_requests_total` would be exposed as `http_requests_total` with \
             escaping=underscores, as metric `http.requests` already is; rename one of them"
        );
    }

    #[test]
    fn distinct_names_stay_distinct() {
        assert!(exposed_names(&[
            desc("a.b", MetricType::Counter, &["x.y", "x_z"]),
            desc("a.c", MetricType::Histogram, &[]),
            desc("a_b", MetricType::Gauge, &[]),
        ])
        .is_err());
        assert!(exposed_names(&[
            desc("a.b", MetricType::Counter, &["x.y", "x_z"]),
            desc("a.c", MetricType::Histogram, &[]),
        ])
        .is_ok());
    }
}
