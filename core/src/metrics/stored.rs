//! What a family needs of a kind to keep its series in a multi-process file. The trait
//! is sealed (public in a private module, so nothing outside the crate can name or
//! implement it): the storage it speaks of stays inside the crate, and [`Metric`] shows
//! only the kind's API.

use super::Metric;
use crate::model::Descriptor;
use crate::storage::Slots;
use std::sync::Arc;

/// How a kind's series are kept in a multi-process file (laid out as
/// `storage::layout` says for the kind).
pub trait StoredSeries {
    /// A new series whose value lives in `slots` of this process's multi-process file.
    fn new_stored_series(desc: &Arc<Descriptor>, config: &<Self as Metric>::Config, slots: Slots) -> Self
    where
        Self: Metric,
    {
        let _ = slots;
        Self::new_series(desc, config)
    }

    /// The finite bucket bounds a multi-process file records for the family.
    fn bucket_bounds(config: &<Self as Metric>::Config) -> &[f64]
    where
        Self: Metric,
    {
        let _ = config;
        &[]
    }

    /// Native buckets per sign a multi-process file records for each series (0: none).
    fn native_capacity(config: &<Self as Metric>::Config) -> u32
    where
        Self: Metric,
    {
        let _ = config;
        0
    }
}
