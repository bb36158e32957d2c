//! Info metrics: a constant `1` whose labels carry facts (a version, a build).

use super::stored::StoredSeries;
use super::Metric;
use crate::model::{Descriptor, MetricType, SeriesValue};
use std::sync::Arc;

/// One info series. The facts are its label values; create it with
/// [`Family::labels`](crate::Family::labels) and keep it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Info;

impl Metric for Info {
    const TYPE: MetricType = MetricType::Info;
    type Config = ();

    fn new_series(_: &Arc<Descriptor>, _: &()) -> Self {
        Info
    }

    fn with_value<R>(&self, _: &(), write: impl FnOnce(&SeriesValue<'_>) -> R) -> R {
        write(&SeriesValue::Info)
    }
}

/// An info series has no value to keep: in a multi-process file it is only its labels.
impl StoredSeries for Info {}
