//! Atomic arithmetic on words shared by both backends.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

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
