//! How a histogram keeps native (sparse, exponential) buckets: the settings a family is
//! registered with, checked here so every language gets the same rules and messages.
//! The buckets themselves are counted by [`crate::storage`] and shown as a
//! [`NativeSnapshot`](super::NativeSnapshot).

use crate::error::{Error, Result};
use std::time::Duration;

use super::native::{MAX_SCHEMA, MIN_SCHEMA};

/// How a histogram keeps native buckets: initial schema, zero threshold, bucket limit
/// and reset interval. The defaults are `client_java`'s: schema 5 (about 2% relative
/// error), zero threshold 2⁻¹²⁸, at most 160 buckets, never reset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NativeBuckets {
    pub(crate) schema: i32,
    pub(crate) zero_threshold: f64,
    pub(crate) max_buckets: usize,
    pub(crate) reset_after: Option<Duration>,
}

impl Default for NativeBuckets {
    fn default() -> Self {
        NativeBuckets {
            schema: 5,
            zero_threshold: 2f64.powi(-128),
            max_buckets: 160,
            reset_after: None,
        }
    }
}

impl NativeBuckets {
    /// The defaults (see the type's documentation).
    pub fn new() -> Self {
        Self::default()
    }

    /// The initial schema, from −4 (coarsest: each bucket 65536 times the previous) to 8
    /// (finest).
    pub fn schema(mut self, schema: i32) -> Self {
        self.schema = schema;
        self
    }

    /// Values with an absolute value up to this go to the zero bucket.
    pub fn zero_threshold(mut self, threshold: f64) -> Self {
        self.zero_threshold = threshold;
        self
    }

    /// The most populated buckets (both signs together) before the resolution is halved;
    /// 0 means no limit.
    pub fn max_buckets(mut self, max: usize) -> Self {
        self.max_buckets = max;
        self
    }

    /// Reset the whole series (a counter reset, which Prometheus handles) instead of
    /// halving the resolution when the bucket limit is hit and this long has passed
    /// since the last reset, so a spike does not coarsen the histogram for ever.
    pub fn reset_after(mut self, interval: Duration) -> Self {
        self.reset_after = Some(interval);
        self
    }

    /// Buckets per sign a multi-process file keeps for a series: the bucket limit, or
    /// 160 (the default limit) when there is none, since file slots are fixed.
    pub(crate) fn capacity(&self) -> usize {
        match self.max_buckets {
            0 => 160,
            max => max,
        }
    }

    /// The settings as a binding receives them from its caller: each `None` keeps the
    /// default, and `reset_after_seconds` is a number of seconds (languages have no
    /// `Duration`). Checked here, so every language gets the same rules and messages, and
    /// the mistake is reported where the settings are written.
    pub fn from_settings(
        schema: Option<i32>,
        zero_threshold: Option<f64>,
        max_buckets: Option<usize>,
        reset_after_seconds: Option<f64>,
    ) -> Result<Self> {
        let defaults = Self::default();
        let settings = Self {
            schema: schema.unwrap_or(defaults.schema),
            zero_threshold: zero_threshold.unwrap_or(defaults.zero_threshold),
            max_buckets: max_buckets.unwrap_or(defaults.max_buckets),
            reset_after: reset_after_seconds.map(reset_interval).transpose()?,
        };
        settings
            .check()
            .map_err(|reason| Error::InvalidNativeSettings { reason })?;
        Ok(settings)
    }

    /// Checks the settings for the histogram `metric`.
    pub(crate) fn validate(self, metric: &str) -> Result<Self> {
        self.check().map_err(|reason| Error::InvalidNativeBuckets {
            metric: metric.to_owned(),
            reason,
        })?;
        Ok(self)
    }

    /// The rules every setting must meet, as the reason a setting breaks them.
    fn check(&self) -> Result<(), String> {
        if !(MIN_SCHEMA..=MAX_SCHEMA).contains(&self.schema) {
            return Err(format!(
                "the schema must be between {MIN_SCHEMA} and {MAX_SCHEMA}, got {}",
                self.schema
            ));
        }
        if !(self.zero_threshold >= 0.0 && self.zero_threshold.is_finite()) {
            return Err(format!(
                "the zero threshold must be a finite number, 0 or more, got {}",
                self.zero_threshold
            ));
        }
        if self.reset_after == Some(Duration::ZERO) {
            return Err(reset_interval_rule(0.0));
        }
        Ok(())
    }
}

/// A reset interval given in seconds, which must be a finite number above zero.
fn reset_interval(seconds: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|interval| !interval.is_zero())
        .ok_or_else(|| Error::InvalidNativeSettings {
            reason: reset_interval_rule(seconds),
        })
}

fn reset_interval_rule(seconds: f64) -> String {
    format!("the reset interval (reset_after) must be a number of seconds above zero, got {seconds}")
}

/// The settings as the languages' keyword arguments name them, for a binding's `repr`:
/// `schema=5, zero_threshold=2.938735877055719e-39, max_buckets=160, reset_after=None`.
impl std::fmt::Display for NativeBuckets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "schema={}, zero_threshold={:e}, max_buckets={}, reset_after=",
            self.schema, self.zero_threshold, self.max_buckets
        )?;
        match self.reset_after {
            Some(interval) => write!(f, "{}", interval.as_secs_f64()),
            None => f.write_str("None"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_left_out_keep_the_defaults() {
        let settings = NativeBuckets::from_settings(None, None, None, None).unwrap();
        assert_eq!(settings, NativeBuckets::new());
        assert_eq!(
            settings.to_string(),
            "schema=5, zero_threshold=2.938735877055719e-39, max_buckets=160, reset_after=None"
        );
    }

    #[test]
    fn settings_given_replace_the_defaults() {
        let settings = NativeBuckets::from_settings(Some(3), Some(0.001), Some(50), Some(3600.0)).unwrap();
        let expected = NativeBuckets::new()
            .schema(3)
            .zero_threshold(0.001)
            .max_buckets(50)
            .reset_after(Duration::from_secs(3600));
        assert_eq!(settings, expected);
        assert_eq!(
            settings.to_string(),
            "schema=3, zero_threshold=1e-3, max_buckets=50, reset_after=3600"
        );
    }

    #[test]
    fn a_reset_interval_of_no_time_or_less_is_refused_with_one_message() {
        for seconds in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let error = NativeBuckets::from_settings(None, None, None, Some(seconds)).unwrap_err();
            assert_eq!(
                error.to_string(),
                format!(
                    "invalid native bucket settings: the reset interval (reset_after) must be a number \
                     of seconds above zero, got {seconds}"
                )
            );
        }
    }

    #[test]
    fn settings_out_of_range_are_refused_before_a_histogram_is_named() {
        let schema = NativeBuckets::from_settings(Some(9), None, None, None).unwrap_err();
        assert_eq!(
            schema.to_string(),
            "invalid native bucket settings: the schema must be between -4 and 8, got 9"
        );
        let threshold = NativeBuckets::from_settings(None, Some(-1.0), None, None).unwrap_err();
        assert_eq!(
            threshold.to_string(),
            "invalid native bucket settings: the zero threshold must be a finite number, 0 or more, got -1"
        );
        let named = NativeBuckets::new()
            .reset_after(Duration::ZERO)
            .validate("rpc_seconds");
        assert_eq!(
            named.unwrap_err().to_string(),
            "invalid native buckets for histogram `rpc_seconds`: the reset interval (reset_after) must be \
             a number of seconds above zero, got 0"
        );
    }

    #[test]
    fn settings_are_validated() {
        assert!(NativeBuckets::new().schema(9).validate("h").is_err());
        assert!(NativeBuckets::new().zero_threshold(-1.0).validate("h").is_err());
        assert!(NativeBuckets::new().validate("h").is_ok());
    }
}
