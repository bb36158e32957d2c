//! What a histogram family keeps: classic bucket bounds (validated, and the bucket a
//! value falls in), native-bucket settings, or both.

use crate::error::{Error, Result};
use crate::model::NativeBuckets;
use std::sync::Arc;

/// The default buckets of the request-duration histogram (CONTRACT section 4), also the
/// `prometheus_client` defaults.
pub const DEFAULT_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// The finite upper bounds of a histogram, validated: non-empty, finite, strictly rising.
/// A trailing `+Inf` is accepted and dropped (the `+Inf` bucket is always there).
#[derive(Clone, PartialEq)]
pub struct Buckets {
    /// The bounds, then `+Inf` up to [`SEARCHED`] entries (at least one `+Inf`), so for
    /// up to `SEARCHED - 1` bounds [`Buckets::index`] searches a fixed-size array.
    padded: Arc<[f64]>,
    /// How many of `padded` are bounds.
    len: usize,
}

/// Below this many bounds, finding a bucket is a fixed search of this many entries.
const SEARCHED: usize = 16;

impl Buckets {
    /// Validates `bounds` for the histogram `metric`.
    pub fn new(metric: &str, bounds: &[f64]) -> Result<Self> {
        let bounds = match bounds.split_last() {
            Some((last, rest)) if *last == f64::INFINITY => rest,
            _ => bounds,
        };
        let error = |reason: &str| Error::InvalidBuckets {
            metric: metric.to_owned(),
            reason: reason.to_owned(),
        };
        if bounds.is_empty() {
            return Err(error("give at least one finite bucket bound"));
        }
        if bounds.iter().any(|b| !b.is_finite()) {
            return Err(error("bounds must be finite numbers (+Inf is added for you)"));
        }
        if bounds.windows(2).any(|w| w[0] >= w[1]) {
            return Err(error("bounds must be in strictly increasing order"));
        }
        Ok(Self::from_valid(bounds))
    }

    fn from_valid(bounds: &[f64]) -> Self {
        let padding = SEARCHED.saturating_sub(bounds.len()).max(1);
        let padded = bounds
            .iter()
            .copied()
            .chain(std::iter::repeat_n(f64::INFINITY, padding));
        Buckets {
            padded: padded.collect(),
            len: bounds.len(),
        }
    }

    /// The finite bounds, ascending.
    pub fn bounds(&self) -> &[f64] {
        &self.padded[..self.len]
    }

    /// The index of the bucket `v` (not NaN) falls in (`bounds.len()` for `+Inf`).
    #[inline]
    pub(super) fn index(&self, v: f64) -> usize {
        match <&[f64; SEARCHED]>::try_from(&*self.padded) {
            // The number of entries below `v` (the last is `+Inf`, never below it), in
            // four halving steps of a compare and a conditional move each: no branch to
            // mispredict when the bucket changes, and a quarter of the instructions of
            // comparing `v` with every entry and counting the matches (x86-64's baseline
            // has no popcount).
            Ok(padded) => {
                let mut below = 0;
                for step in [8, 4, 2, 1] {
                    if padded[below + step - 1] < v {
                        below += step;
                    }
                }
                below
            }
            Err(_) => self.bounds().partition_point(|b| *b < v),
        }
    }
}

impl std::fmt::Debug for Buckets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Buckets").field(&self.bounds()).finish()
    }
}

impl Default for Buckets {
    fn default() -> Self {
        Self::from_valid(DEFAULT_BUCKETS)
    }
}

/// What a histogram family keeps: classic buckets, native buckets, or both.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramConfig {
    classic: Option<Buckets>,
    native: Option<NativeBuckets>,
}

impl Default for HistogramConfig {
    fn default() -> Self {
        Self::classic(Buckets::default())
    }
}

impl HistogramConfig {
    /// Classic buckets only.
    pub fn classic(buckets: Buckets) -> Self {
        HistogramConfig {
            classic: Some(buckets),
            native: None,
        }
    }

    /// Native buckets, with classic ones beside them when `classic` is given (text
    /// formats show only those; protobuf both).
    pub fn native(native: NativeBuckets, classic: Option<Buckets>, metric: &str) -> Result<Self> {
        Ok(HistogramConfig {
            classic,
            native: Some(native.validate(metric)?),
        })
    }

    /// The finite classic bounds (empty for a native-only histogram).
    pub fn bounds(&self) -> &[f64] {
        self.classic.as_ref().map_or(&[], Buckets::bounds)
    }

    /// The native-bucket settings, if the histogram keeps native buckets.
    pub fn native_buckets(&self) -> Option<&NativeBuckets> {
        self.native.as_ref()
    }

    /// The index of the classic bucket `v` falls in (0 without classic buckets: `+Inf`).
    #[inline(always)]
    pub(super) fn index(&self, v: f64) -> usize {
        match &self.classic {
            Some(buckets) => buckets.index(v),
            None => 0,
        }
    }

    /// Classic buckets including `+Inf`.
    pub(super) fn slots(&self) -> usize {
        self.bounds().len() + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_validated() {
        assert!(Buckets::new("h", &[]).is_err());
        assert!(Buckets::new("h", &[2.0, 1.0]).is_err());
        assert!(Buckets::new("h", &[1.0, 1.0]).is_err());
        assert!(Buckets::new("h", &[f64::NAN]).is_err());
        assert_eq!(Buckets::new("h", &[1.0, f64::INFINITY]).unwrap().bounds(), &[1.0]);
    }

    #[test]
    fn large_bucket_lists_use_the_same_rule() {
        let bounds: Vec<f64> = (1..=40).map(f64::from).collect();
        let b = Buckets::new("h", &bounds).unwrap();
        assert_eq!(b.index(1.0), 0);
        assert_eq!(b.index(1.5), 1);
        assert_eq!(b.index(40.0), 39);
        assert_eq!(b.index(41.0), 40);
    }

    #[test]
    fn a_short_bucket_list_counts_the_bounds_below_the_value() {
        let b = Buckets::new("h", &[1.0, 2.0, 4.0]).unwrap();
        assert_eq!(b.bounds(), &[1.0, 2.0, 4.0]);
        let indexes: Vec<usize> = [f64::NEG_INFINITY, -1.0, 1.0, 1.5, 2.0, 4.0, 4.5, f64::INFINITY]
            .into_iter()
            .map(|v| b.index(v))
            .collect();
        assert_eq!(indexes, vec![0, 0, 0, 1, 1, 2, 3, 3]);
        let full: Vec<f64> = (1..=16).map(f64::from).collect();
        let b = Buckets::new("h", &full).unwrap();
        assert_eq!(
            (b.index(16.0), b.index(16.5), b.index(f64::INFINITY)),
            (15, 16, 16)
        );
    }

    #[test]
    fn every_length_of_bucket_list_finds_the_first_bound_not_below_the_value() {
        for len in 1..=20u32 {
            let bounds: Vec<f64> = (1..=len).map(f64::from).collect();
            let b = Buckets::new("h", &bounds).unwrap();
            for tenths in -10..=(len as i32 + 1) * 10 {
                let v = f64::from(tenths) / 10.0;
                assert_eq!(
                    b.index(v),
                    bounds.partition_point(|x| *x < v),
                    "{len} bounds, {v}"
                );
            }
            assert_eq!(
                (b.index(f64::NEG_INFINITY), b.index(f64::INFINITY)),
                (0, len as usize)
            );
        }
    }
}
