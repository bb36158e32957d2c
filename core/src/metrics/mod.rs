//! The metric kinds and the labelled family that holds their series.

mod clock;
mod counter;
mod exemplar;
mod family;
mod gauge;
mod histogram;
mod info;
mod native;
pub(crate) mod self_metrics;
mod series_table;

pub(crate) use clock::unix_nanos_coarse;
pub use counter::Counter;
pub(crate) use family::SeriesLimit;
pub use family::{Family, DEFAULT_SERIES_LIMIT, OVERFLOW_LABEL_VALUE};
pub use gauge::Gauge;
pub use histogram::{Buckets, Histogram, HistogramConfig, HistogramSnapshot, Summary, DEFAULT_BUCKETS};
pub use info::Info;
pub use native::NativeBuckets;

use crate::model::{Descriptor, MetricType, SeriesValue};
use crate::storage::Slots;
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

    /// A new series whose value lives in `slots` of this process's multi-process file
    /// (laid out as `storage::layout` says for this kind).
    #[doc(hidden)]
    fn new_stored_series(desc: &Arc<Descriptor>, config: &Self::Config, slots: Slots) -> Self {
        let _ = slots;
        Self::new_series(desc, config)
    }

    /// The finite bucket bounds a multi-process file records for this family.
    #[doc(hidden)]
    fn bucket_bounds(config: &Self::Config) -> &[f64] {
        let _ = config;
        &[]
    }

    /// Native buckets per sign a multi-process file records for each series (0: none).
    #[doc(hidden)]
    fn native_capacity(config: &Self::Config) -> u32 {
        let _ = config;
        0
    }

    /// Hands this series' value to `write`, borrowed for the call (bucket counts in a
    /// reused buffer), so a scrape allocates nothing per series.
    fn with_value<R>(&self, config: &Self::Config, write: impl FnOnce(&SeriesValue<'_>) -> R) -> R;
}
