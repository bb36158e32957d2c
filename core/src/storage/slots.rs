//! The view a metric series has of its slots in this process's mapped file.

use std::sync::atomic::{
    fence, AtomicU64,
    Ordering::{Relaxed, Release},
};

/// The slots of one series in this process's file.
///
/// The mapping behind them is never unmapped (after a fork the child maps its own file
/// at the same address), so the slots live as long as the process and a series can keep a
/// plain `'static` reference: no lock, no pid check, no indirection on the hot path.
///
/// Public only inside this private module: the kinds' sealed `StoredSeries` trait names
/// it, and nothing outside the crate can reach it.
#[derive(Debug, Clone, Copy)]
pub struct Slots {
    words: &'static [AtomicU64],
    stamp_time: bool,
}

impl Slots {
    pub(crate) fn new(words: &'static [AtomicU64], stamp_time: bool) -> Self {
        Self { words, stamp_time }
    }

    /// Whether gauge writes record when they happened (`mostrecent` modes).
    #[inline]
    pub(crate) fn stamps_time(&self) -> bool {
        self.stamp_time
    }

    /// Slot `i`, for the exported cells: valid for the life of the process.
    pub(crate) fn cell(&self, i: usize) -> &'static AtomicU64 {
        &self.words[i]
    }

    #[inline]
    pub(crate) fn add_u64(&self, i: usize, n: u64) {
        self.words[i].fetch_add(n, Relaxed);
    }

    #[inline]
    pub(crate) fn add_f64(&self, i: usize, delta: f64) {
        super::add_f64(&self.words[i], delta);
    }

    #[inline]
    pub(crate) fn set_f64(&self, i: usize, v: f64) {
        self.words[i].store(v.to_bits(), Relaxed);
    }

    #[inline]
    pub(crate) fn get_u64(&self, i: usize) -> u64 {
        self.words[i].load(Relaxed)
    }

    #[inline]
    pub(crate) fn get_f64(&self, i: usize) -> f64 {
        f64::from_bits(self.words[i].load(Relaxed))
    }

    #[inline]
    pub(crate) fn set_u64(&self, i: usize, v: u64) {
        self.words[i].store(v, Relaxed);
    }

    /// Opens a seqlock write on the sequence word `i` (makes it odd). One writer only:
    /// the series' own lock serialises them.
    #[inline]
    pub(crate) fn write_begin(&self, i: usize) {
        self.words[i].fetch_add(1, Relaxed);
        fence(Release);
    }

    /// Closes the seqlock write on `i` (makes it even again).
    #[inline]
    pub(crate) fn write_end(&self, i: usize) {
        self.words[i].fetch_add(1, Release);
    }
}
