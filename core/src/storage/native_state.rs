//! Native (sparse, exponential) histogram buckets counted in memory, as Prometheus 3
//! reads them from protobuf.
//!
//! Bucket `i` of schema `s` holds values in `(2^((i-1)/2^s), 2^(i/2^s)]` (negative values
//! mirror it); values within the zero threshold go to the zero bucket. When more than
//! `max_buckets` buckets are populated, the histogram resets if its reset interval has
//! passed since the last reset, and otherwise halves its resolution (schema − 1, two
//! neighbouring buckets merged) until it fits, as `client_golang` and `client_java` do.

use std::sync::OnceLock;
use std::time::Instant;

use crate::model::{NativeBuckets, NativeSnapshot, SparseBuckets, MAX_SCHEMA, MAX_SPAN, MIN_SCHEMA};

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
fn bucket_index(v: f64, schema: i32) -> i32 {
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
}
