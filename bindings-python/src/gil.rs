//! Releasing the GIL for scrape-time work.
//!
//! Increments stay under the GIL (they take nanoseconds, and releasing and retaking the
//! lock would cost more), but rendering, compressing and aggregating a scrape touch only
//! core data, so other Python threads keep serving requests meanwhile.

use pyo3::marker::Ungil;
use pyo3::Python;

/// Runs `work` with the GIL released. `work` must not touch Python objects, which the
/// `Ungil` bound enforces.
pub(crate) fn without_gil<T, F>(py: Python<'_>, work: F) -> T
where
    F: Ungil + FnOnce() -> T,
    T: Ungil,
{
    py.detach(work)
}
