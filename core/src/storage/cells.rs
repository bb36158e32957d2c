//! The addresses of a series' value cells, for bindings that update them in place.
//!
//! A call from Java into Rust (JNI) costs more than the update it makes. So a binding may
//! take the addresses of a series' cells once and then update them itself, with the same
//! atomic operations the core uses on them (listed per kind below); the core goes on
//! reading, rendering and aggregating the same memory with atomics, so a scrape never sees
//! a torn value and no update is lost. Only what is described here is exported: a series
//! whose update is more than these cell operations (a native histogram behind its lock, a
//! `mostrecent` gauge that stamps the time in multi-process mode) exports no cells, and
//! the binding calls into the core as before.
//!
//! Every cell is one naturally aligned 8-byte word.
//!
//! # How long an address stays valid
//! In-process, the cells live inside the series' shared state: valid while any clone of
//! the series ([`Counter`](crate::Counter), ...) is alive, however the family stores,
//! removes or clears its series. The binding keeps a clone for as long as it holds the
//! addresses. In multi-process mode the cells are the series' slots in this process's
//! mapped file: the region is reserved at full size once and never unmapped or moved (the
//! file grows underneath it; a forked child maps its own file at the same address), so they
//! stay valid for the life of the process.
//!
//! # The operations, per kind
//! - Counter ([`Counter::base_cell`](crate::Counter::base_cell)): add `n` by one
//!   compare-and-swap of the base cell from its current value; if that fails (another
//!   thread got there), take [`Counter::stripe_cells`](crate::Counter::stripe_cells) once
//!   and from then on `fetch_add(n)` any one stripe. The total is the sum of all cells.
//! - Gauge ([`Gauge::value_cell`](crate::Gauge::value_cell)): the `f64` bits; set is a
//!   store, add a compare-and-swap loop on the bits.
//! - Histogram and summary ([`Histogram::cells`](crate::Histogram::cells),
//!   [`Summary::cells`](crate::Summary::cells)): the hot/cold scheme of `storage/hot_cold.rs`.
//!   `n = fetch_add(started_and_hot, 1)` (acquire); the hot shard is `n >> 63`; in it,
//!   add the value to `sum` by a compare-and-swap loop on its `f64` bits, then
//!   `fetch_add(1)` (release) the bucket of the value (the first bound not below it,
//!   `+Inf` last; a summary has the one bucket), in that order. A scrape flips the hot
//!   bit and waits for the cold buckets to add up to the observations started before
//!   it, so it reads every observation whole.

use std::sync::atomic::AtomicU64;

/// `count` cells, `stride` bytes apart, the first at `ptr`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellRun {
    /// The first cell.
    pub ptr: *const AtomicU64,
    /// How many cells.
    pub count: usize,
    /// Bytes from one cell to the next (8 for packed cells, a cache line for stripes).
    pub stride: usize,
}

impl CellRun {
    /// The one cell `cell`.
    pub(crate) fn one(cell: &AtomicU64) -> Self {
        Self::strided(cell, 1, CELL_BYTES)
    }

    /// Packed cells.
    pub(crate) fn packed(cells: &[AtomicU64]) -> Self {
        Self::strided(cells.as_ptr(), cells.len(), CELL_BYTES)
    }

    pub(crate) fn strided(first: *const AtomicU64, count: usize, stride: usize) -> Self {
        CellRun {
            ptr: first,
            count,
            stride,
        }
    }

    /// The bytes from the first cell to the end of the last: what a view must cover.
    pub fn byte_len(&self) -> usize {
        match self.count {
            0 => 0,
            n => (n - 1) * self.stride + CELL_BYTES,
        }
    }
}

/// The size of a cell.
pub const CELL_BYTES: usize = std::mem::size_of::<AtomicU64>();

/// The cells of one shard of a histogram or summary.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardCells {
    /// Per-bucket (not cumulative) counts, packed, `+Inf` last.
    pub buckets: CellRun,
    /// The `f64` bits of the sum.
    pub sum: CellRun,
}

/// The cells of a histogram or summary series (see the module docs for the protocol).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DistributionCells {
    /// Top bit: the hot shard; low bits: observations started.
    pub started_and_hot: CellRun,
    /// The two shards, by the hot bit's value.
    pub shards: [ShardCells; 2],
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Counter, Gauge, Histogram, Opts, Registry, Summary};
    use std::sync::atomic::Ordering::*;

    fn cell(run: &CellRun, i: usize) -> &AtomicU64 {
        assert!(i < run.count);
        // SAFETY: in bounds of a run the core exported, for a series the test keeps alive.
        unsafe { &*((run.ptr as *const u8).add(i * run.stride) as *const AtomicU64) }
    }

    fn counter(registry: &Registry) -> Counter {
        registry.counter(Opts::new("c", "c")).unwrap().get().unwrap()
    }

    #[test]
    fn a_counter_counts_what_is_added_to_its_base_and_to_every_stripe() {
        let c = counter(&Registry::new());
        cell(&c.base_cell(), 0).fetch_add(3, Relaxed);
        let stripes = c.stripe_cells();
        assert!(stripes.count > 1 && stripes.stride >= 64);
        (0..stripes.count).for_each(|i| {
            cell(&stripes, i).fetch_add(1, Relaxed);
        });
        c.inc();
        assert_eq!(c.get(), (3 + stripes.count + 1) as f64);
        assert_eq!(c.stripe_cells(), stripes, "stripes are made once and never move");
    }

    #[test]
    fn cells_outlive_removal_from_the_family() {
        let registry = Registry::new();
        let family = registry.counter(Opts::new("c", "c").labels(["l"])).unwrap();
        let c = family.labels(&["a"]).unwrap();
        let base = c.base_cell();
        assert!(family.remove(&["a"]).unwrap());
        cell(&base, 0).fetch_add(2, Relaxed);
        assert_eq!(c.get(), 2.0);
    }

    #[test]
    fn a_gauge_cell_holds_its_value_bits() {
        let registry = Registry::new();
        let g: Gauge = registry.gauge(Opts::new("g", "g")).unwrap().get().unwrap();
        let value = g.value_cell().expect("an in-process gauge exports its cell");
        cell(&value, 0).store(2.5f64.to_bits(), Relaxed);
        assert_eq!(g.get(), 2.5);
    }

    /// One observation by the protocol of the module docs.
    fn observe(cells: &DistributionCells, bucket: usize, v: f64) {
        let n = cell(&cells.started_and_hot, 0).fetch_add(1, Acquire);
        let shard = &cells.shards[(n >> 63) as usize];
        cell(&shard.sum, 0)
            .fetch_update(Relaxed, Relaxed, |bits| {
                Some((f64::from_bits(bits) + v).to_bits())
            })
            .unwrap();
        cell(&shard.buckets, bucket).fetch_add(1, Release);
    }

    #[test]
    fn histogram_observations_through_cells_survive_scrapes_in_between() {
        let registry = Registry::new();
        let h: Histogram = registry
            .histogram(Opts::new("h", "h"), Some(&[1.0, 2.0]))
            .unwrap()
            .get()
            .unwrap();
        let cells = h
            .cells()
            .expect("a classic in-process histogram exports its cells");
        assert_eq!(cells.shards[0].buckets.count, 3);
        observe(&cells, 0, 0.5);
        assert_eq!(h.snapshot().cumulative, vec![1, 1, 1]);
        observe(&cells, 2, 3.0);
        h.observe(1.5).unwrap();
        let s = h.snapshot();
        assert_eq!((s.cumulative, s.sum), (vec![1, 2, 3], 5.0));
    }

    #[test]
    fn a_summary_has_one_bucket() {
        let registry = Registry::new();
        let s: Summary = registry.summary(Opts::new("s", "s")).unwrap().get().unwrap();
        let cells = s.cells().expect("an in-process summary exports its cells");
        assert_eq!(cells.shards[1].buckets.count, 1);
        observe(&cells, 0, 2.0);
        assert_eq!(s.get(), (1, 2.0));
    }

    #[test]
    fn a_native_histogram_exports_no_cells() {
        let registry = Registry::new();
        let h = registry
            .native_histogram(Opts::new("n", "n"), crate::NativeBuckets::new(), None)
            .unwrap()
            .get()
            .unwrap();
        assert!(h.cells().is_none());
    }

    #[test]
    fn multi_process_counters_and_gauges_export_their_file_slots() {
        let dir = std::env::temp_dir().join(format!("gds-metrics-cells-{}", std::process::id()));
        let registry = Registry::multiprocess(crate::MultiProcess::open(&dir).unwrap());
        let c = counter(&registry);
        cell(&c.base_cell(), 0).fetch_add(4, Relaxed);
        let stripes = c.stripe_cells();
        assert_eq!(stripes.count, 1, "a file slot is not striped");
        cell(&stripes, 0).fetch_add(1, Relaxed);
        let g: Gauge = registry.gauge(Opts::new("g", "g")).unwrap().get().unwrap();
        cell(&g.value_cell().unwrap(), 0).store(7.0f64.to_bits(), Relaxed);
        let text = registry.render(crate::Format::Text);
        assert!(text.contains("c_total 5.0\n"), "{text}");
        let gauge = format!("g{{pid=\"{}\"}} 7.0\n", std::process::id());
        assert!(text.contains(&gauge), "{text}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
