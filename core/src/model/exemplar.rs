//! Exemplars: one observation's trace context (`trace_id`, `span_id`, any labels),
//! attached to a counter or a histogram bucket and exposed in OpenMetrics and protobuf.

use super::trace::{TraceIds, SPAN_ID_LABEL, TRACE_ID_LABEL};
use super::unix_now;
use crate::error::{Error, Result};

/// OpenMetrics caps the label names and values of one exemplar at 128 code points.
pub const EXEMPLAR_MAX_RUNES: usize = 128;

/// A recorded exemplar: its labels, the value observed and when.
#[derive(Debug, Clone)]
pub struct Exemplar {
    labels: Labels,
    value: f64,
    timestamp: f64,
}

/// Equal when labels, value and timestamp are, however the labels are held.
impl PartialEq for Exemplar {
    fn eq(&self, other: &Self) -> bool {
        self.labels().eq(other.labels()) && self.value == other.value && self.timestamp == other.timestamp
    }
}

/// An exemplar's labels: as given, or the ids of a request's trace, held inline so that
/// recording a traced request allocates nothing.
#[derive(Debug, Clone)]
enum Labels {
    Given(Box<[(Box<str>, Box<str>)]>),
    Trace(TraceIds),
}

impl Exemplar {
    /// An exemplar recorded now. Fails when the labels are empty, a name is empty or
    /// repeated, or names and values together exceed [`EXEMPLAR_MAX_RUNES`].
    pub fn new(metric: &str, labels: &[(&str, &str)], value: f64) -> Result<Exemplar> {
        Self::at(metric, labels, value, unix_now())
    }

    /// An exemplar recorded at `timestamp` (seconds since the Unix epoch).
    pub fn at(metric: &str, labels: &[(&str, &str)], value: f64, timestamp: f64) -> Result<Exemplar> {
        let error = |reason: String| Error::InvalidExemplar {
            metric: metric.to_owned(),
            reason,
        };
        if labels.is_empty() {
            return Err(error("give at least one label, such as `trace_id`".to_owned()));
        }
        let mut runes = 0;
        for (i, (name, value)) in labels.iter().enumerate() {
            if name.is_empty() {
                return Err(error("exemplar label names may not be empty".to_owned()));
            }
            if labels[..i].iter().any(|(seen, _)| seen == name) {
                return Err(error(format!("the label `{name}` is given twice")));
            }
            runes += name.chars().count() + value.chars().count();
        }
        if runes > EXEMPLAR_MAX_RUNES {
            return Err(error(format!(
                "its labels hold {runes} characters; OpenMetrics allows {EXEMPLAR_MAX_RUNES} \
                 (names and values together): shorten or drop labels"
            )));
        }
        Ok(Exemplar {
            labels: Labels::Given(labels.iter().map(|(n, v)| ((*n).into(), (*v).into())).collect()),
            value,
            timestamp,
        })
    }

    /// The exemplar of a traced request: `trace_id` and `span_id` (80 characters, within
    /// the OpenMetrics limit by construction), recorded at `timestamp`.
    pub fn trace(ids: TraceIds, value: f64, timestamp: f64) -> Exemplar {
        Exemplar {
            labels: Labels::Trace(ids),
            value,
            timestamp,
        }
    }

    /// The labels, name and value, in the order given (`trace_id` then `span_id` for a
    /// traced request).
    pub fn labels(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let (given, trace): (&[(Box<str>, Box<str>)], _) = match &self.labels {
            Labels::Given(labels) => (labels, None),
            Labels::Trace(ids) => (&[], Some(ids)),
        };
        let trace = trace
            .into_iter()
            .flat_map(|ids| [(TRACE_ID_LABEL, ids.trace_id()), (SPAN_ID_LABEL, ids.span_id())]);
        given.iter().map(|(n, v)| (&**n, &**v)).chain(trace)
    }

    /// The observed value (the increment, for a counter).
    pub fn value(&self) -> f64 {
        self.value
    }

    /// When it was recorded, in seconds since the Unix epoch.
    pub fn timestamp(&self) -> f64 {
        self.timestamp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exemplars_hold_at_most_128_runes() {
        let long = "é".repeat(121);
        assert!(Exemplar::new("m", &[("trace_id", &long)], 1.0).is_err());
        assert!(Exemplar::new("m", &[("trace_id", &long[..2 * 100])], 1.0).is_ok());
        assert!(Exemplar::new("m", &[], 1.0).is_err());
        assert!(Exemplar::new("m", &[("a", "1"), ("a", "2")], 1.0).is_err());
    }
}
