//! The one slot-layout table: which slot of a series record in a mapped file holds what,
//! per metric kind. The kinds write through it, the aggregate reads through it and the
//! file format sizes records with it, so a layout change is made here and only here.
//!
//! ```text
//! counter    whole (u64) | fraction (f64) | [exemplar region]
//! gauge      value (f64) | stamp (f64, `mostrecent` modes)
//! summary    count (u64) | sum (f64)
//! histogram  bucket counts (u64, `+Inf` last) | sum (f64) | [native region] | [exemplar region]
//! ```
//!
//! The native region (histograms with native buckets): a sequence word, odd while the
//! writer rewrites the region (a seqlock, so readers retry rather than see half a schema
//! change), the schema (i64 bits), zero threshold (f64 bits), zero count, the number of
//! positive and of negative buckets used, then `capacity` (index i64 bits, count) pairs
//! for positive buckets and as many for negative ones, ascending by index.
//!
//! The exemplar region (families registered with `Opts::exemplars_across_processes`): a
//! sequence word (a seqlock), the bucket index, the value and the timestamp (f64 bits),
//! the byte length of the labels, then the labels as `u16` length + UTF-8 bytes for each
//! name and value, in [`EXEMPLAR_BYTES`] bytes of words.

use crate::model::MetricType;

/// Counter: whole increments (u64).
pub(crate) const COUNTER_WHOLE: usize = 0;
/// Counter: fractional increments (f64 bits); the archive keeps a counter's total here.
pub(crate) const COUNTER_FRACTION: usize = 1;
/// Gauge: the value (f64 bits).
pub(crate) const GAUGE_VALUE: usize = 0;
/// Gauge: when it was last written (f64 bits, `mostrecent` modes).
pub(crate) const GAUGE_STAMP: usize = 1;
/// Summary: the count (u64).
pub(crate) const SUMMARY_COUNT: usize = 0;
/// Summary: the sum (f64 bits).
pub(crate) const SUMMARY_SUM: usize = 1;

/// Native region, offsets from its start.
pub(crate) const NATIVE_SEQ: usize = 0;
pub(crate) const NATIVE_SCHEMA: usize = 1;
pub(crate) const NATIVE_ZERO_THRESHOLD: usize = 2;
pub(crate) const NATIVE_ZERO_COUNT: usize = 3;
pub(crate) const NATIVE_POSITIVE_USED: usize = 4;
pub(crate) const NATIVE_NEGATIVE_USED: usize = 5;
pub(crate) const NATIVE_PAIRS: usize = 6;

/// Exemplar region, offsets from its start.
pub(crate) const EXEMPLAR_SEQ: usize = 0;
pub(crate) const EXEMPLAR_BUCKET: usize = 1;
pub(crate) const EXEMPLAR_VALUE: usize = 2;
pub(crate) const EXEMPLAR_TIMESTAMP: usize = 3;
pub(crate) const EXEMPLAR_LABELS_LEN: usize = 4;
pub(crate) const EXEMPLAR_LABELS: usize = 5;
/// Bytes of exemplar labels a region holds: 128 code points of labels are at most 512
/// bytes, plus 4 bytes of lengths per label.
pub(crate) const EXEMPLAR_BYTES: usize = 768;
/// Slots of one exemplar region.
pub(crate) const EXEMPLAR_LEN: usize = EXEMPLAR_LABELS + EXEMPLAR_BYTES / 8;

/// Slots of the native region for `capacity` buckets per sign.
pub(crate) const fn native_len(capacity: usize) -> usize {
    NATIVE_PAIRS + 4 * capacity
}

/// Where everything of one series is in its slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SeriesLayout {
    kind: MetricType,
    /// Finite bucket bounds of a histogram (0 for other kinds).
    bounds: usize,
    /// Native buckets per sign of a histogram (0: classic only).
    native_capacity: usize,
    /// Whether the series keeps its newest exemplar (counters and histograms only).
    exemplars: bool,
}

impl SeriesLayout {
    /// The layout of a series of `kind` with `bounds` finite buckets, `native_capacity`
    /// native buckets per sign and, if `exemplars`, an exemplar region.
    #[inline]
    pub(crate) fn new(kind: MetricType, bounds: usize, native_capacity: usize, exemplars: bool) -> Self {
        let histogram = kind == MetricType::Histogram;
        Self {
            kind,
            bounds: if histogram { bounds } else { 0 },
            native_capacity: if histogram { native_capacity } else { 0 },
            exemplars: exemplars && matches!(kind, MetricType::Counter | MetricType::Histogram),
        }
    }

    /// The slots of the value itself, before any native or exemplar region.
    fn value_len(&self) -> usize {
        match self.kind {
            MetricType::Counter | MetricType::Gauge | MetricType::Summary => 2,
            MetricType::Histogram => self.bounds + 2,
            MetricType::Info | MetricType::StateSet | MetricType::Unknown => 0,
        }
    }

    /// Classic buckets of a histogram including `+Inf`: slots `0..buckets()`.
    pub(crate) fn buckets(&self) -> usize {
        self.bounds + 1
    }

    /// The histogram's sum, after its buckets.
    pub(crate) fn histogram_sum(&self) -> usize {
        self.buckets()
    }

    /// Where the native region starts, if the series has one (after the sum).
    pub(crate) fn native_start(&self) -> Option<usize> {
        (self.native_capacity > 0).then(|| self.value_len())
    }

    /// Native buckets per sign (0: none).
    pub(crate) fn native_capacity(&self) -> usize {
        self.native_capacity
    }

    fn native_len(&self) -> usize {
        match self.native_capacity {
            0 => 0,
            capacity => native_len(capacity),
        }
    }

    /// Where the exemplar region starts, if the series has one: after the counter's two
    /// slots, or after a histogram's buckets, sum and native region.
    pub(crate) fn exemplar_start(&self) -> Option<usize> {
        self.exemplars.then(|| self.value_len() + self.native_len())
    }

    /// How many slots the series has.
    pub(crate) fn len(&self) -> usize {
        self.value_len() + self.native_len() + if self.exemplars { EXEMPLAR_LEN } else { 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_keeps_its_exemplar_after_whole_and_fraction() {
        let layout = SeriesLayout::new(MetricType::Counter, 0, 0, true);
        assert_eq!(layout.exemplar_start(), Some(2));
        assert_eq!(layout.len(), 2 + EXEMPLAR_LEN);
    }

    #[test]
    fn a_histogram_keeps_buckets_sum_native_region_then_exemplar() {
        let layout = SeriesLayout::new(MetricType::Histogram, 3, 4, true);
        assert_eq!(layout.buckets(), 4);
        assert_eq!(layout.histogram_sum(), 4);
        assert_eq!(layout.native_start(), Some(5));
        assert_eq!(layout.exemplar_start(), Some(5 + native_len(4)));
        assert_eq!(layout.len(), 5 + native_len(4) + EXEMPLAR_LEN);
    }

    #[test]
    fn gauges_and_summaries_keep_two_slots_and_no_regions() {
        for kind in [MetricType::Gauge, MetricType::Summary] {
            let layout = SeriesLayout::new(kind, 5, 7, true);
            assert_eq!(
                (layout.len(), layout.native_start(), layout.exemplar_start()),
                (2, None, None)
            );
        }
    }
}
