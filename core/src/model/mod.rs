//! What a scrape reads: metric and label names, the family descriptor, and the value of
//! each series (exemplars and native buckets included), with the native-bucket settings
//! that shape it.
//!
//! Every writer in [`crate::exposition`] reads these types and nothing else, and every
//! source of series (the metric kinds, the multi-process aggregate, collectors written in
//! Rust or in a binding's language) describes its series with them. This module sits just
//! above [`crate::error`] and imports nothing else of the crate, so the formats and the
//! storage never depend on each other.

mod descriptor;
mod exemplar;
pub(crate) mod name;
mod native;
mod native_settings;
mod series;
mod trace;

pub use descriptor::{Descriptor, MetricType, Opts};
pub use exemplar::{Exemplar, EXEMPLAR_MAX_RUNES};
pub use name::{LabelName, MetricName, NameValidation};
pub use native::{NativeSnapshot, SparseBuckets};
pub(crate) use native::{MAX_SCHEMA, MAX_SPAN, MIN_SCHEMA};
pub use native_settings::NativeBuckets;
pub use series::{
    ExtraLabel, FamilySink, FamilySnapshot, HistogramValue, OwnedValue, Quantile, SeriesSink, SeriesSnapshot,
    SeriesValue, State, SummaryValue,
};
pub use trace::{TraceIds, SPAN_ID_LABEL, TRACE_ID_LABEL};

/// Seconds since the Unix epoch, for `_created` and `set_to_current_time`.
pub(crate) fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}
