//! `gds_metrics._native`: the Rust core as a private Python module.
//!
//! The public, typed surface is the pure-Python package `gds_metrics`; this module only
//! exposes core objects (registry, metrics, endpoint, target files) with Python-shaped
//! arguments. Errors become `ValueError` (see `error.rs`); scrape-time work runs with the
//! GIL released (see `gil.rs`).

mod error;
mod gil;
mod metrics;

use pyo3::prelude::*;

#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<metrics::PyRegistry>()?;
    module.add_class::<metrics::Counter>()?;
    module.add_class::<metrics::Gauge>()?;
    module.add_class::<metrics::Histogram>()?;
    module.add_class::<metrics::Summary>()?;
    module.add_function(wrap_pyfunction!(metrics::default_registry, module)?)?;
    Ok(())
}
