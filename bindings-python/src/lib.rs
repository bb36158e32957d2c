//! `gds_metrics._native`: the Rust core as a private Python module.
//!
//! The public, typed surface is the pure-Python package `gds_metrics`; this module only
//! exposes core objects (registry, metrics, endpoint, server directory, target files) with
//! Python-shaped arguments. Core errors become Python exceptions through one table
//! (`error.rs`); scrape-time work runs with the GIL released (`gil.rs`), and families that
//! Python computes at scrape time are written by the core's encoder (`collector.rs`).

mod collector;
mod endpoint;
mod error;
mod fast_path;
mod gil;
mod metrics;
mod multiprocess;
mod registry;
mod targets;

use pyo3::prelude::*;

/// Every class is `frozen` and the core is thread-safe, so the module declares that it
/// runs without the GIL on free-threaded CPython builds.
#[pymodule(gil_used = false)]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    module.add("ConfigurationError", py.get_type::<error::ConfigurationError>())?;
    module.add("ConflictError", py.get_type::<error::ConflictError>())?;
    module.add_class::<registry::PyRegistry>()?;
    module.add_class::<metrics::Counter>()?;
    module.add_class::<metrics::Gauge>()?;
    module.add_class::<metrics::Histogram>()?;
    module.add_class::<metrics::PyNativeBuckets>()?;
    module.add_class::<metrics::Summary>()?;
    metrics::install_fast_paths(module)?;
    module.add_function(wrap_pyfunction!(registry::default_registry, module)?)?;
    module.add_function(wrap_pyfunction!(metrics::metric_name, module)?)?;
    module.add_function(wrap_pyfunction!(collector::check_family, module)?)?;
    module.add_function(wrap_pyfunction!(multiprocess::fold_dead, module)?)?;
    module.add_class::<multiprocess::PyServerDirectory>()?;
    module.add("EXPORTED_VARIABLE", gds_metrics::EXPORTED_VARIABLE)?;
    module.add_class::<endpoint::Endpoint>()?;
    module.add_class::<targets::PyTargetStore>()?;
    module.add_function(wrap_pyfunction!(targets::render_target_file, module)?)?;
    module.add_function(wrap_pyfunction!(targets::read_target_file, module)?)?;
    Ok(())
}
