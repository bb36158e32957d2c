//! Custom metrics with the `prometheus_client` call style, over the core's families.
//!
//! A Python metric object is either a parent (what `Counter(name, documentation,
//! labelnames)` returns) or a child (what `.labels(...)` returns), as in
//! `prometheus_client`. Both hold the core family; a child, and a parent without labels,
//! also hold the core series they update, so `inc()` is one atomic add under the GIL.
//! Validation of names, label counts and amounts is the core's; these modules only
//! turn Python arguments into core calls.

// The constructors take prometheus_client's arguments, one Rust parameter each.
#![allow(clippy::too_many_arguments)]

mod args;
mod context;
mod counter;
mod gauge;
mod handle;
mod histogram;
mod native;
mod summary;

pub(crate) use args::metric_name;
pub(crate) use counter::Counter;
pub(crate) use gauge::refresh_functions;
pub(crate) use gauge::Gauge;
pub(crate) use histogram::Histogram;
pub(crate) use native::PyNativeBuckets;
pub(crate) use summary::Summary;

use pyo3::prelude::*;

/// Puts the fast functions of the hot methods over pyo3's (see [`crate::fast_path`]).
pub(crate) fn install_fast_paths(module: &Bound<'_, PyModule>) -> PyResult<()> {
    counter::install_fast_paths(module)?;
    histogram::install_fast_paths(module)
}
