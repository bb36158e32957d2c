//! The native half of the `gds_metrics` gem: the gds-metrics core exposed to Ruby through
//! magnus as `GDS::Metrics::Native`. The Ruby files in `lib/` give it its Ruby shape
//! (keyword arguments, label Hashes, the Rack middleware); this crate only adapts types
//! and errors, and never decides anything the core decides.

// The only public item is the `Init_` function `magnus::init` generates, which cannot carry docs.
#![allow(missing_docs)]

mod config;
mod direct;
mod directory;
mod endpoint;
mod error;
mod fast;
mod gvl;
mod metrics;
mod registry;
mod targets;

use magnus::{prelude::*, Error, Ruby};

/// Defines the native classes under `GDS::Metrics` when Ruby loads the extension.
#[magnus::init(name = "gds_metrics_native")]
fn init(ruby: &Ruby) -> Result<(), Error> {
    let gds = ruby.define_module("GDS")?;
    let metrics = gds.define_module("Metrics")?;
    error::define(ruby, metrics)?;
    let native = metrics.define_module("Native")?;
    config::define(ruby, native)?;
    registry::define(ruby, native)?;
    endpoint::define(ruby, native)?;
    targets::define(native)?;
    metrics::define(ruby, native)?;
    directory::define(ruby, native)?;
    fast::define(native)?;
    Ok(())
}
