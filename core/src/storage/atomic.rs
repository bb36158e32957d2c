//! The in-process backend's building blocks: lock-free words a series keeps in memory,
//! and the one `f64` addition both backends use.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::OnceLock;

use super::cells::CellRun;

/// An `f64` stored as bits in an `AtomicU64`.
#[derive(Debug, Default)]
pub(crate) struct AtomicF64(AtomicU64);

impl AtomicF64 {
    #[inline]
    pub(crate) fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Relaxed))
    }

    #[inline]
    pub(crate) fn set(&self, v: f64) {
        self.0.store(v.to_bits(), Relaxed);
    }

    /// The word holding the bits, for [`crate::storage::cells`].
    pub(crate) fn cell(&self) -> &AtomicU64 {
        &self.0
    }

    #[inline]
    pub(crate) fn add(&self, delta: f64) {
        add_f64(&self.0, delta);
    }
}

/// A cache line of its own, so two stripes never share one (128 bytes covers the
/// adjacent-line prefetcher of x86 and the line size of Apple silicon).
#[repr(align(128))]
#[derive(Debug, Default)]
struct Padded(AtomicU64);

const STRIPES: usize = 8;

/// A `u64` counter that starts as one atomic and spreads over [`STRIPES`] cache lines
/// the first time two threads collide on it (the `LongAdder` idea).
///
/// Uncontended series pay one word and one compare-and-swap per increment; contended
/// ones stop bouncing a single cache line between cores.
#[derive(Debug, Default)]
pub(crate) struct StripedU64 {
    base: AtomicU64,
    stripes: OnceLock<Box<[Padded; STRIPES]>>,
}

impl StripedU64 {
    #[inline]
    pub(crate) fn add(&self, n: u64) {
        if let Some(stripes) = self.stripes.get() {
            stripes[stripe_index()].0.fetch_add(n, Relaxed);
            return;
        }
        let current = self.base.load(Relaxed);
        if self
            .base
            .compare_exchange(current, current.wrapping_add(n), Relaxed, Relaxed)
            .is_err()
        {
            self.add_contended(n);
        }
    }

    #[cold]
    fn add_contended(&self, n: u64) {
        let stripes = self.stripes.get_or_init(Default::default);
        stripes[stripe_index()].0.fetch_add(n, Relaxed);
    }

    /// The base word, for [`crate::storage::cells`]: added to by compare-and-swap until contended.
    pub(crate) fn base_cell(&self) -> CellRun {
        CellRun::one(&self.base)
    }

    /// The stripes, made now if need be, for [`crate::storage::cells`]. They never move once made.
    pub(crate) fn stripe_cells(&self) -> CellRun {
        let stripes = self.stripes.get_or_init(Default::default);
        CellRun::strided(&stripes[0].0, STRIPES, std::mem::size_of::<Padded>())
    }

    pub(crate) fn get(&self) -> u64 {
        let striped = self
            .stripes
            .get()
            .map_or(0, |s| s.iter().map(|p| p.0.load(Relaxed)).sum::<u64>());
        self.base.load(Relaxed).wrapping_add(striped)
    }

    pub(crate) fn reset(&self) {
        self.base.store(0, Relaxed);
        if let Some(stripes) = self.stripes.get() {
            stripes.iter().for_each(|p| p.0.store(0, Relaxed));
        }
    }
}

/// This thread's stripe, assigned round-robin on first use.
#[inline]
fn stripe_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: usize = NEXT.fetch_add(1, Relaxed) % STRIPES;
    }
    INDEX.with(|i| *i)
}

/// Adds `delta` to the `f64` whose bits are in `cell`, by a compare-and-swap loop.
#[inline(always)]
pub(crate) fn add_f64(cell: &AtomicU64, delta: f64) {
    let mut current = cell.load(Relaxed);
    loop {
        let next = (f64::from_bits(current) + delta).to_bits();
        match cell.compare_exchange_weak(current, next, Relaxed, Relaxed) {
            Ok(_) => return,
            Err(actual) => current = actual,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn striped_counter_loses_no_increment_under_contention() {
        let c = Arc::new(StripedU64::default());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || (0..100_000).for_each(|_| c.add(1)))
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(c.get(), 400_000);
    }

    #[test]
    fn atomic_f64_adds_exactly() {
        let f = AtomicF64::default();
        f.set(0.5);
        f.add(0.25);
        assert_eq!(f.get(), 0.75);
    }
}
