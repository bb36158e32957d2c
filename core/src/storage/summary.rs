//! Where a summary's count and sum are kept: the only place a summary branches on
//! storage mode.

use super::cells::DistributionCells;
use super::hot_cold::HotCold;
use super::layout::{SUMMARY_COUNT, SUMMARY_SUM};
use super::Slots;

/// A summary series' storage.
#[derive(Debug)]
pub(crate) enum SummaryStore {
    /// In memory: a classic histogram of one bucket, so count and sum are read together.
    InProcess(HotCold),
    /// Count and sum in this process's mapped file.
    Mapped(Slots),
}

impl SummaryStore {
    /// Storage in `slots` of the mapped file, or in memory without them.
    pub(crate) fn new(slots: Option<Slots>) -> Self {
        slots.map_or_else(|| Self::InProcess(HotCold::new(1)), Self::Mapped)
    }

    /// Counts `v`.
    #[inline]
    pub(crate) fn observe(&self, v: f64) {
        match self {
            Self::InProcess(buckets) => buckets.observe(0, v),
            Self::Mapped(slots) => {
                slots.add_u64(SUMMARY_COUNT, 1);
                slots.add_f64(SUMMARY_SUM, v);
            }
        }
    }

    /// The cells a binding may observe in place, one bucket; `None` when mapped.
    pub(crate) fn cells(&self) -> Option<DistributionCells> {
        match self {
            Self::InProcess(buckets) => Some(buckets.cells()),
            Self::Mapped(_) => None,
        }
    }

    /// A consistent `(count, sum)` pair (of this process, when mapped).
    pub(crate) fn get(&self) -> (u64, f64) {
        match self {
            Self::InProcess(buckets) => {
                let mut count = Vec::with_capacity(1);
                let sum = buckets.snapshot(&mut count);
                (count[0], sum)
            }
            Self::Mapped(slots) => (slots.get_u64(SUMMARY_COUNT), slots.get_f64(SUMMARY_SUM)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    #[test]
    fn a_mapped_summary_keeps_count_then_sum() {
        let words: Vec<AtomicU64> = (0..2).map(|_| AtomicU64::new(0)).collect();
        let slots = Slots::new(Box::leak(words.into_boxed_slice()), false);
        let store = SummaryStore::new(Some(slots));
        store.observe(1.5);
        store.observe(2.0);
        assert_eq!(
            (slots.get_u64(SUMMARY_COUNT), slots.get_f64(SUMMARY_SUM)),
            (2, 3.5)
        );
        assert_eq!(store.get(), (2, 3.5));
        assert!(store.cells().is_none());
    }

    #[test]
    fn a_summary_in_memory_is_one_bucket_of_the_hot_cold_cells() {
        let store = SummaryStore::new(None);
        store.observe(1.5);
        store.observe(2.0);
        assert_eq!(store.get(), (2, 3.5));
        let cells = store.cells().expect("in memory, the cells are exported");
        assert_eq!(cells.shards[0].buckets.count, 1);
    }
}
