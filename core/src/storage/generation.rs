//! Which fork of the program this process is, so state a series keeps in memory beside
//! its slots (native histogram buckets) can tell it was inherited from a parent: a forked
//! child's slots start at zero in a file of its own, and so must that state.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

static GENERATION: AtomicU64 = AtomicU64::new(0);

/// How many forks led to this process (0 in the first one).
#[inline]
pub(crate) fn fork_generation() -> u64 {
    GENERATION.load(Relaxed)
}

/// Counts a fork, in the child (the multi-process fork hook calls it once the child has a
/// file of its own).
pub(crate) fn count_fork_in_child() {
    GENERATION.fetch_add(1, Relaxed);
}
