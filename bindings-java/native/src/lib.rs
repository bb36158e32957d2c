//! The JNI side of the gds-metrics Java library.
//!
//! Every function here is a `native` method of `uk.gov.gds.metrics.internal.Native`. Java
//! objects hold native state as opaque `long` handles (see [`handle`]); the Java classes
//! check a handle is live before passing it in, so natives trust the handles they get.
//!
//! Three kinds of natives:
//! - none on the usual hot paths: counter, gauge, classic histogram and summary updates
//!   are made by Java itself on the core's own cells, through direct buffers that
//!   [`cells`] hands out once per series;
//! - hot paths of what has no cells (native histograms, fractional counter amounts, series
//!   that export none) take only primitives, never touch the JNI environment and cannot
//!   panic, so a JIT-compiled call costs a plain native transition; the counter
//!   increments that take an amount touch it only to throw the core's error for an amount
//!   it refuses;
//! - everything else (registration, label lookups, scrapes) runs inside [`error::guard`],
//!   which throws a core error as the exception its kind maps to and a panic as
//!   `IllegalStateException`, so nothing ever unwinds into the JVM.

mod cells;
mod endpoint;
mod error;
mod foreign;
mod handle;
mod metrics;
mod registry;
mod request_metrics;
mod strings;
