//! Native (sparse, exponential) histogram buckets, as Prometheus 3 reads them from
//! protobuf.
//!
//! Bucket `i` of schema `s` holds values in `(2^((i-1)/2^s), 2^(i/2^s)]` (negative values
//! mirror it); values within the zero threshold go to the zero bucket. When more than
//! `max_buckets` buckets are populated, the histogram resets if its reset interval has
//! passed since the last reset, and otherwise halves its resolution (schema − 1, two
//! neighbouring buckets merged) until it fits, as `client_golang` and `client_java` do.

use crate::error::{Error, Result};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::model::{NativeSnapshot, SparseBuckets, MAX_SCHEMA, MAX_SPAN, MIN_SCHEMA};

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

/// The native buckets of one series, behind the series' lock.
#[derive(Debug)]
pub(crate) struct NativeState {
    config: NativeBuckets,
    pub(crate) snapshot: NativeSnapshot,
    last_reset: Instant,
}

/// What an observation did, for a mirror of the buckets (multi-process slots) to follow.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum AfterObserve {
    /// Counted in an existing bucket: `(negative, index)`, or `None` for the zero bucket.
    Counted(Option<(bool, i32)>),
    /// A new bucket, a lower schema, or nothing (NaN): the mirror must be rewritten.
    Reshaped,
    /// The bucket limit was hit and the reset interval has passed: reset the series.
    Reset,
}

impl NativeState {
    pub(crate) fn new(config: NativeBuckets) -> Self {
        NativeState {
            config,
            snapshot: empty_snapshot(&config),
            last_reset: Instant::now(),
        }
    }

    /// Counts `v` in its bucket (NaN is counted by the caller in count and sum only).
    pub(crate) fn observe(&mut self, v: f64) -> AfterObserve {
        if v.is_nan() {
            return AfterObserve::Reshaped;
        }
        let s = &mut self.snapshot;
        let (new_bucket, bucket) = if v.abs() <= s.zero_threshold {
            s.zero_count += 1;
            (false, None)
        } else if v > 0.0 {
            let index = bucket_index(v, s.schema);
            (s.positive.add(index, 1), Some((false, index)))
        } else {
            let index = bucket_index(-v, s.schema);
            (s.negative.add(index, 1), Some((true, index)))
        };
        if !new_bucket && !self.too_wide() {
            return AfterObserve::Counted(bucket);
        }
        self.limit()
    }

    fn too_wide(&self) -> bool {
        let s = &self.snapshot;
        s.positive.counts.len() > MAX_SPAN || s.negative.counts.len() > MAX_SPAN
    }

    fn too_many(&self) -> bool {
        let max = self.config.max_buckets;
        let s = &self.snapshot;
        (max > 0 && s.positive.populated() + s.negative.populated() > max) || self.too_wide()
    }

    fn limit(&mut self) -> AfterObserve {
        if !self.too_many() {
            return AfterObserve::Reshaped;
        }
        if let Some(interval) = self.config.reset_after {
            if self.last_reset.elapsed() >= interval {
                return AfterObserve::Reset;
            }
        }
        while self.too_many() && self.snapshot.schema > MIN_SCHEMA {
            let schema = self.snapshot.schema - 1;
            self.snapshot.reduce_to(schema);
        }
        AfterObserve::Reshaped
    }

    /// Back to no observations at the initial schema.
    pub(crate) fn reset(&mut self) {
        self.snapshot = empty_snapshot(&self.config);
        self.last_reset = Instant::now();
    }
}

fn empty_snapshot(config: &NativeBuckets) -> NativeSnapshot {
    NativeSnapshot {
        schema: config.schema,
        zero_threshold: config.zero_threshold,
        zero_count: 0,
        positive: SparseBuckets::default(),
        negative: SparseBuckets::default(),
    }
}

/// The index of the bucket holding `v > 0` at `schema`: the smallest `i` with
/// `v <= 2^(i / 2^schema)`. Exact at bucket boundaries, from the binary exponent and a
/// table of the fractional boundaries (as `client_golang` computes it).
pub(crate) fn bucket_index(v: f64, schema: i32) -> i32 {
    let (frac, exp) = frexp(v);
    if schema > 0 {
        let bounds = &boundaries()[schema as usize - 1];
        let i = bounds.partition_point(|b| *b < frac) as i32;
        return i + (exp - 1) * bounds.len() as i32;
    }
    let mut key = exp;
    if frac == 0.5 {
        key -= 1;
    }
    let offset = (1 << -schema) - 1;
    (key + offset) >> -schema
}

/// `v = frac * 2^exp` with `frac` in `[0.5, 1)`, for finite positive `v`.
fn frexp(v: f64) -> (f64, i32) {
    if v.is_infinite() {
        return (0.5, 1025);
    }
    let (v, bias) = if v < f64::MIN_POSITIVE {
        (v * 2f64.powi(64), 64)
    } else {
        (v, 0)
    };
    let bits = v.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32 - 1022 - bias;
    let frac = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (frac, exp)
}

/// For schemas 1 to 8, the `2^schema` boundaries `2^(k / 2^schema - 1)` in `[0.5, 1)`.
fn boundaries() -> &'static [Vec<f64>] {
    static TABLE: OnceLock<Vec<Vec<f64>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        (1..=MAX_SCHEMA)
            .map(|schema| {
                let n = 1usize << schema;
                (0..n).map(|k| (k as f64 / n as f64 - 1.0).exp2()).collect()
            })
            .collect()
    })
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
    fn bucket_boundaries_belong_to_the_lower_bucket() {
        assert_eq!(bucket_index(1.0, 0), 0);
        assert_eq!(bucket_index(1.5, 0), 1);
        assert_eq!(bucket_index(2.0, 0), 1);
        assert_eq!(bucket_index(2.1, 0), 2);
        assert_eq!(bucket_index(1.0, 3), 0);
        assert_eq!(bucket_index(2.0, 3), 8);
        assert_eq!(bucket_index(2.0f64.powf(0.125) * 1.0001, 3), 2);
        assert_eq!(bucket_index(4.0, -1), 1);
        assert_eq!(bucket_index(5.0, -1), 2);
        assert_eq!(bucket_index(0.5, 0), -1);
    }

    #[test]
    fn halving_merges_neighbours() {
        let mut s = SparseBuckets::default();
        for i in [-3, -2, -1, 0, 1, 2, 3] {
            s.add(i, 1);
        }
        s.halve();
        let got: Vec<(i32, u64)> = s.iter().collect();
        assert_eq!(got, vec![(-1, 2), (0, 2), (1, 2), (2, 1)]);
    }

    #[test]
    fn the_bucket_limit_lowers_the_schema() {
        let mut state = NativeState::new(NativeBuckets::new().schema(3).max_buckets(4));
        for v in [1.1, 1.3, 1.6, 1.9, 2.5, 3.0, 3.5] {
            state.observe(v);
        }
        assert!(state.snapshot.schema < 3);
        assert!(state.snapshot.positive.populated() <= 4);
        let total: u64 = state.snapshot.positive.iter().map(|(_, c)| c).sum();
        assert_eq!(total, 7);
    }

    #[test]
    fn settings_are_validated() {
        assert!(NativeBuckets::new().schema(9).validate("h").is_err());
        assert!(NativeBuckets::new().zero_threshold(-1.0).validate("h").is_err());
        assert!(NativeBuckets::new().validate("h").is_ok());
    }
}
