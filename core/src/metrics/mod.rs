//! The metric kinds and the labelled family that holds their series.

mod buckets;
mod clock;
mod counter;
mod exemplar;
mod family;
mod gauge;
mod histogram;
mod info;
pub(crate) mod self_metrics;
mod series_table;
mod stored;
mod summary;

pub use buckets::{Buckets, HistogramConfig, DEFAULT_BUCKETS};
pub(crate) use clock::unix_nanos_coarse;
pub use counter::Counter;
pub(crate) use family::SeriesLimit;
pub use family::{Family, DEFAULT_SERIES_LIMIT, OVERFLOW_LABEL_VALUE};
pub use gauge::Gauge;
pub use histogram::{Histogram, HistogramSnapshot};
pub use info::Info;
pub use summary::Summary;

use crate::model::{Descriptor, MetricType, SeriesValue};
use std::sync::Arc;

/// A kind of metric series that a [`Family`] can hold.
///
/// Implemented by [`Counter`], [`Gauge`], [`Histogram`], [`Summary`] and [`Info`], and
/// by nothing outside the crate (where a kind keeps its series in a multi-process file is
/// the crate's own business); a series is a cheap handle (an `Arc`) so it can be kept for
/// hot loops.
pub trait Metric: Clone + Send + Sync + 'static + stored::StoredSeries {
    /// The exposed type of the family.
    const TYPE: MetricType;
    /// Settings shared by every series of a family (the buckets of a histogram).
    type Config: Send + Sync + 'static;

    /// A new series at its zero value.
    fn new_series(desc: &Arc<Descriptor>, config: &Self::Config) -> Self;

    /// Hands this series' value to `write`, borrowed for the call (bucket counts in a
    /// reused buffer), so a scrape allocates nothing per series.
    fn with_value<R>(&self, config: &Self::Config, write: impl FnOnce(&SeriesValue<'_>) -> R) -> R;
}
