//! Validated metric and label names.
//!
//! Names are checked once, when a metric is defined, so that rendering can write them
//! without escaping and a scrape can never fail on a name (CONTRACT section 3).

use crate::error::{Error, Result};
use std::fmt;

/// A metric family name matching `[a-zA-Z_:][a-zA-Z0-9_:]*`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MetricName(Box<str>);

impl MetricName {
    /// Checks `name` against the Prometheus grammar.
    pub fn new(name: &str) -> Result<Self> {
        let reason = if name.is_empty() {
            Some("it is empty")
        } else if !name
            .bytes()
            .enumerate()
            .all(|(i, b)| is_name_byte(b, i == 0, true))
        {
            Some("it holds a character outside [a-zA-Z0-9_:] or starts with a digit")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(Error::InvalidMetricName {
                name: name.to_owned(),
                reason,
            }),
            None => Ok(Self(name.into())),
        }
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MetricName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A label name matching `[a-zA-Z_][a-zA-Z0-9_]*` and not starting with `__`
/// (Prometheus reserves those for itself).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LabelName(Box<str>);

impl LabelName {
    /// Checks `name` for use as a label of `metric` (the metric name only shapes the error).
    pub fn new(metric: &str, name: &str) -> Result<Self> {
        let reason = if name.is_empty() {
            Some("it is empty")
        } else if name.starts_with("__") {
            Some("names starting with `__` are reserved for Prometheus")
        } else if !name
            .bytes()
            .enumerate()
            .all(|(i, b)| is_name_byte(b, i == 0, false))
        {
            Some("label names match [a-zA-Z_][a-zA-Z0-9_]* (no `:`, no leading digit)")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(Error::InvalidLabelName {
                metric: metric.to_owned(),
                name: name.to_owned(),
                reason,
            }),
            None => Ok(Self(name.into())),
        }
    }

    /// Checks a whole list of label names, rejecting repeats and `reserved` ones
    /// (such as `le` for histograms).
    pub fn list<S: AsRef<str>>(metric: &str, names: &[S], reserved: &[&str]) -> Result<Box<[Self]>> {
        let mut out: Vec<Self> = Vec::with_capacity(names.len());
        for name in names {
            let name = name.as_ref();
            if reserved.contains(&name) {
                return Err(Error::InvalidLabelName {
                    metric: metric.to_owned(),
                    name: name.to_owned(),
                    reason: "this label is reserved for this metric type",
                });
            }
            if out.iter().any(|seen| seen.as_str() == name) {
                return Err(Error::DuplicateLabelName {
                    metric: metric.to_owned(),
                    name: name.to_owned(),
                });
            }
            out.push(Self::new(metric, name)?);
        }
        Ok(out.into_boxed_slice())
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LabelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub(crate) fn is_name_byte(b: u8, first: bool, colon_ok: bool) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || (colon_ok && b == b':') || (!first && b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_follow_the_prometheus_grammar() {
        for ok in ["a", "_a", ":a", "a:b_c9", "http_server_requests_total"] {
            assert!(MetricName::new(ok).is_ok(), "{ok}");
        }
        for bad in ["", "9a", "a-b", "a b", "é", "a\n"] {
            assert!(MetricName::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn label_names_reject_colons_and_double_underscore() {
        assert!(LabelName::new("m", "path").is_ok());
        assert!(LabelName::new("m", "_p").is_ok());
        for bad in ["", "a:b", "__name", "1a", "a-b"] {
            assert!(LabelName::new("m", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn label_lists_reject_repeats_and_reserved_names() {
        assert!(matches!(
            LabelName::list("m", &["a", "a"], &[]),
            Err(Error::DuplicateLabelName { .. })
        ));
        assert!(LabelName::list("m", &["le"], &["le"]).is_err());
        assert_eq!(LabelName::list("m", &["a", "b"], &[]).unwrap().len(), 2);
    }
}
