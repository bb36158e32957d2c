//! The metric kinds and the labelled family that holds their series.

mod atomic;
mod counter;
mod family;
mod gauge;
mod histogram;
mod info;

pub use counter::Counter;
pub use family::Family;
pub use gauge::Gauge;
pub use histogram::{Buckets, Histogram, HistogramSnapshot, Summary, DEFAULT_BUCKETS};
pub use info::Info;

use crate::descriptor::{Descriptor, MetricType};
use crate::exposition::FamilyEncoder;
use std::sync::Arc;

/// A kind of metric series that a [`Family`] can hold.
///
/// Implemented by [`Counter`], [`Gauge`], [`Histogram`], [`Summary`] and [`Info`]; a
/// series is a cheap handle (an `Arc`) so it can be kept for hot loops.
pub trait Metric: Clone + Send + Sync + 'static {
    /// The exposed type of the family.
    const TYPE: MetricType;
    /// Settings shared by every series of a family (the buckets of a histogram).
    type Config: Send + Sync + 'static;

    /// A new series at its zero value.
    fn new_series(desc: &Arc<Descriptor>, config: &Self::Config) -> Self;

    /// Writes this series' samples.
    fn encode<V: AsRef<str>>(&self, config: &Self::Config, family: &mut FamilyEncoder<'_, '_>, values: &[V]);
}
