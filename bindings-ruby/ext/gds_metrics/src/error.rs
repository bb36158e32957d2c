//! Core errors as Ruby exceptions, raised at the caller's line.
//!
//! Metric mistakes (bad names, wrong labels, negative increments) are `ArgumentError`, as
//! a Ruby programmer expects for a bad argument. Bad configuration is
//! `GDS::Metrics::ConfigurationError`, so an app can tell it apart at boot.

use magnus::{exception::ExceptionClass, prelude::*, value::Lazy, Error, RModule, Ruby};
use std::fmt::Display;

/// `GDS::Metrics::ConfigurationError`, defined by the extension's init.
pub static CONFIGURATION_ERROR: Lazy<ExceptionClass> = Lazy::new(|ruby| {
    let metrics: RModule = ruby
        .class_object()
        .const_get::<_, RModule>("GDS")
        .and_then(|gds| gds.const_get("Metrics"))
        .expect("GDS::Metrics is defined by init");
    metrics
        .const_get("ConfigurationError")
        .expect("GDS::Metrics::ConfigurationError is defined by init")
});

/// An `ArgumentError` carrying the core's message.
pub fn argument_error(err: impl Display) -> Error {
    let ruby = Ruby::get().expect("called from a Ruby thread");
    Error::new(ruby.exception_arg_error(), err.to_string())
}

/// A `GDS::Metrics::ConfigurationError` carrying the core's message.
pub fn configuration_error(err: impl Display) -> Error {
    let ruby = Ruby::get().expect("called from a Ruby thread");
    Error::new(ruby.get_inner(&CONFIGURATION_ERROR), err.to_string())
}

/// A `RuntimeError` for a panic caught in Rust code, which must never unwind into Ruby.
pub fn internal_error(what: &str) -> Error {
    let ruby = Ruby::get().expect("called from a Ruby thread");
    Error::new(
        ruby.exception_runtime_error(),
        format!("gds_metrics: internal error while {what}; please report it"),
    )
}
