//! Validated metric and label names.
//!
//! Names are checked once, when a metric is defined, so a scrape can never fail on a
//! name (CONTRACT section 3). Any non-empty UTF-8 name is accepted unless the caller asks
//! for the legacy set; rendering quotes or escapes non-legacy names as the scraper
//! negotiated (`exposition::Escaping`).

use crate::error::{Error, Result};
use std::fmt;

/// Which names registration accepts.
///
/// Prometheus 3 takes any UTF-8 name; older Prometheus servers, and text 0.0.4, only the
/// legacy set. Names outside it are quoted or escaped at scrape time as the scraper
/// negotiated, so the default is [`NameValidation::Utf8`]; ask for
/// [`NameValidation::Legacy`] to refuse them at registration instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum NameValidation {
    /// Any non-empty UTF-8 name (label names still may not start with `__`).
    #[default]
    Utf8,
    /// Metric names `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names `[a-zA-Z_][a-zA-Z0-9_]*`.
    Legacy,
}

/// A validated metric family name; remembers whether it is in the legacy set, so
/// rendering writes legacy names without an escaping pass.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MetricName {
    name: Box<str>,
    legacy: bool,
}

impl MetricName {
    /// Checks `name` as a UTF-8 metric name: not empty.
    pub fn new(name: &str) -> Result<Self> {
        Self::with_validation(name, NameValidation::Utf8)
    }

    /// Checks `name` under `validation`.
    pub fn with_validation(name: &str, validation: NameValidation) -> Result<Self> {
        let legacy = is_legacy_name(name);
        let reason = if name.is_empty() {
            Some("it is empty")
        } else if validation == NameValidation::Legacy && !legacy {
            Some("it holds a character outside [a-zA-Z0-9_:] or starts with a digit (legacy names were asked for)")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(Error::InvalidMetricName {
                name: name.to_owned(),
                reason,
            }),
            None => Ok(Self {
                name: name.into(),
                legacy,
            }),
        }
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// Whether the name is in the legacy set `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    pub fn is_legacy(&self) -> bool {
        self.legacy
    }
}

impl fmt::Display for MetricName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// A label name: not empty and not starting with `__` (Prometheus reserves those for
/// itself); under [`NameValidation::Legacy`] also `[a-zA-Z_][a-zA-Z0-9_]*`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LabelName {
    name: Box<str>,
    legacy: bool,
}

impl LabelName {
    /// Checks `name` as a UTF-8 label of `metric` (the metric name only shapes the error).
    pub fn new(metric: &str, name: &str) -> Result<Self> {
        Self::with_validation(metric, name, NameValidation::Utf8)
    }

    /// Checks `name` under `validation`.
    pub fn with_validation(metric: &str, name: &str, validation: NameValidation) -> Result<Self> {
        let legacy = is_legacy_label(name);
        let reason = if name.is_empty() {
            Some("it is empty")
        } else if name.starts_with("__") {
            Some("names starting with `__` are reserved for Prometheus")
        } else if validation == NameValidation::Legacy && !legacy {
            Some("label names match [a-zA-Z_][a-zA-Z0-9_]* (no `:`, no leading digit; legacy names were asked for)")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(Error::InvalidLabelName {
                metric: metric.to_owned(),
                name: name.to_owned(),
                reason,
            }),
            None => Ok(Self {
                name: name.into(),
                legacy,
            }),
        }
    }

    /// Checks a whole list of label names, rejecting repeats and `reserved` ones
    /// (such as `le` for histograms).
    pub fn list<S: AsRef<str>>(metric: &str, names: &[S], reserved: &[&str]) -> Result<Box<[Self]>> {
        Self::list_with_validation(metric, names, reserved, NameValidation::Utf8)
    }

    /// [`LabelName::list`] under `validation`.
    pub fn list_with_validation<S: AsRef<str>>(
        metric: &str,
        names: &[S],
        reserved: &[&str],
        validation: NameValidation,
    ) -> Result<Box<[Self]>> {
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
            out.push(Self::with_validation(metric, name, validation)?);
        }
        Ok(out.into_boxed_slice())
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// Whether the name is in the legacy set `[a-zA-Z_][a-zA-Z0-9_]*`.
    pub fn is_legacy(&self) -> bool {
        self.legacy
    }
}

impl fmt::Display for LabelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// Whether `name` is a legacy metric name, `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub(crate) fn is_legacy_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .enumerate()
            .all(|(i, b)| is_name_byte(b, i == 0, true))
}

/// Whether `name` is a legacy label name, `[a-zA-Z_][a-zA-Z0-9_]*`.
pub(crate) fn is_legacy_label(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .enumerate()
            .all(|(i, b)| is_name_byte(b, i == 0, false))
}

pub(crate) fn is_name_byte(b: u8, first: bool, colon_ok: bool) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || (colon_ok && b == b':') || (!first && b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_metric_names_follow_the_prometheus_grammar() {
        let legacy = |name| MetricName::with_validation(name, NameValidation::Legacy);
        for ok in ["a", "_a", ":a", "a:b_c9", "http_server_requests_total"] {
            assert!(legacy(ok).is_ok(), "{ok}");
            assert!(MetricName::new(ok).unwrap().is_legacy(), "{ok}");
        }
        for bad in ["", "9a", "a-b", "a b", "é", "a\n"] {
            assert!(legacy(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn utf8_metric_names_need_only_be_non_empty() {
        for ok in ["9a", "a-b", "my.metric", "é", "a b"] {
            let name = MetricName::new(ok).unwrap();
            assert!(!name.is_legacy(), "{ok}");
        }
        assert!(MetricName::new("").is_err());
    }

    #[test]
    fn label_names_reject_double_underscore_and_legacy_ones_colons() {
        assert!(LabelName::new("m", "path").is_ok());
        assert!(LabelName::new("m", "_p").is_ok());
        assert!(LabelName::new("m", "http.method").is_ok());
        for bad in ["", "__name"] {
            assert!(LabelName::new("m", bad).is_err(), "{bad:?}");
        }
        for bad in ["", "a:b", "__name", "1a", "a-b"] {
            assert!(
                LabelName::with_validation("m", bad, NameValidation::Legacy).is_err(),
                "{bad:?}"
            );
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
