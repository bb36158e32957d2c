//! Classic histogram and summary buckets in memory: lock-free observation, and a scrape
//! that always sees a consistent snapshot (`+Inf` equals `_count`, `_sum` covers exactly
//! the counted observations).
//!
//! The hot/cold scheme of the Go client: observers count themselves in a shared word
//! whose top bit names the "hot" shard, then add to that shard's sum and count their
//! bucket last; a scrape flips that bit, waits until the now-cold shard's buckets add up
//! to the observations started before the flip, reads it, then folds it into the new hot
//! shard. Bindings may observe into the same cells themselves (see
//! [`crate::storage::cells`]).

use super::add_f64;
use super::cells::{CellRun, DistributionCells, ShardCells};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::*};

const HOT_BIT: u64 = 1 << 63;
const STARTED_AND_HOT: usize = 0;

/// The cells of a classic histogram or summary, in one allocation, so an observation
/// computes every address from one pointer loaded before its first atomic:
/// `[started_and_hot, shard 0: sum, buckets.., shard 1: sum, buckets..]`.
///
/// `started_and_hot`: top bit the index of the hot shard, low bits the observations
/// started. In a shard, `sum` holds the `f64` bits of the sum and the buckets the
/// per-bucket (not cumulative) counts, `+Inf` last.
#[derive(Debug)]
pub(crate) struct HotCold {
    cells: Box<[AtomicU64]>,
    /// Buckets per shard, `+Inf` included.
    buckets: usize,
    /// Serialises scrapes of this series (observers never take it).
    scrape: Mutex<()>,
}

impl HotCold {
    /// `buckets` buckets per shard, `+Inf` included (1 for a summary), all at zero.
    pub(crate) fn new(buckets: usize) -> Self {
        Self {
            cells: (0..1 + 2 * (1 + buckets)).map(|_| AtomicU64::new(0)).collect(),
            buckets,
            scrape: Mutex::new(()),
        }
    }

    /// Where shard `hot` (0 or 1) starts: its sum, then its buckets.
    #[inline(always)]
    fn shard_start(buckets: usize, hot: u64) -> usize {
        1 + hot as usize * (1 + buckets)
    }

    /// Counts `v` in bucket `index` (`+Inf` last).
    ///
    /// Three atomics: count in as started (which names the hot shard), add to the hot
    /// shard's sum, then count the bucket with release ordering. The bucket increment is
    /// also the sign that the observation is whole: a scrape that sees the cold shard's
    /// buckets add up to the observations started before its flip has seen their sums.
    #[inline(always)]
    pub(crate) fn observe(&self, index: usize, v: f64) {
        // Every address comes from these, read before the first atomic: none waits for it.
        let (cells, buckets) = (&self.cells[..], self.buckets);
        let started_and_hot = &cells[STARTED_AND_HOT];
        // The hot shard as it was just before: the count's answer then only confirms it
        // (a scrape flips it rarely), so the processor goes on to the sum on a predicted
        // branch instead of waiting for the atomic's result to find it.
        let expected = started_and_hot.load(Relaxed) >> 63;
        let n = started_and_hot.fetch_add(1, Acquire);
        if n >> 63 != expected {
            return Self::add_to_shard(cells, buckets, n >> 63, index, v);
        }
        Self::add_to_shard(cells, buckets, expected, index, v);
    }

    /// The rest of an observation counted in as started while shard `hot` was hot.
    #[inline(always)]
    fn add_to_shard(cells: &[AtomicU64], buckets: usize, hot: u64, index: usize, v: f64) {
        let shard = Self::shard_start(buckets, hot);
        add_f64(&cells[shard], v);
        cells[shard + 1 + index].fetch_add(1, Release);
    }

    /// The sum and buckets of shard `hot`.
    fn shard(&self, hot: u64) -> (&AtomicU64, &[AtomicU64]) {
        let start = Self::shard_start(self.buckets, hot);
        (
            &self.cells[start],
            &self.cells[start + 1..start + 1 + self.buckets],
        )
    }

    /// The cells of the hot/cold scheme, for a binding to observe in place.
    pub(crate) fn cells(&self) -> DistributionCells {
        let shard = |hot| {
            let (sum, buckets) = self.shard(hot);
            ShardCells {
                buckets: CellRun::packed(buckets),
                sum: CellRun::one(sum),
            }
        };
        DistributionCells {
            started_and_hot: CellRun::one(&self.cells[STARTED_AND_HOT]),
            shards: [shard(0), shard(1)],
        }
    }

    /// Reads a consistent snapshot: cumulative counts into `cumulative`, returns the sum.
    pub(crate) fn snapshot(&self, cumulative: &mut Vec<u64>) -> f64 {
        let _guard = self.scrape.lock();
        let n = self.cells[STARTED_AND_HOT].fetch_add(HOT_BIT, AcqRel);
        let started = n & !HOT_BIT;
        let (cold_sum, cold) = self.shard(n >> 63);
        let (hot_sum, hot) = self.shard((n >> 63) ^ 1);
        // Every observation that started before the flip counts itself in a cold bucket,
        // last; wait for the few still in flight (a handful of instructions each). Counts
        // only grow and add up to `started` once all are in, so a total of `started`
        // means every count read is final.
        while cold.iter().map(|b| b.load(Acquire)).sum::<u64>() != started {
            std::hint::spin_loop();
        }
        cumulative.clear();
        let mut total = 0;
        for (cold_bucket, hot_bucket) in cold.iter().zip(hot) {
            let count = cold_bucket.swap(0, Relaxed);
            hot_bucket.fetch_add(count, Release);
            total += count;
            cumulative.push(total);
        }
        let sum = f64::from_bits(cold_sum.swap(0f64.to_bits(), Relaxed));
        add_f64(hot_sum, sum);
        sum
    }
}
