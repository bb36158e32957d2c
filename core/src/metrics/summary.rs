//! Summaries: the count and sum of observed values, without quantiles (as
//! `prometheus_client` exposes them).

use super::clock::unix_now;
use super::histogram::check_observation;
use super::stored::StoredSeries;
use super::Metric;
use crate::error::Result;
use crate::model::{Descriptor, MetricType, SeriesValue, SummaryValue};
use crate::storage::cells::DistributionCells;
use crate::storage::{Slots, SummaryStore};
use std::sync::Arc;

/// A summary series: count and sum of observations, without quantiles (as
/// `prometheus_client` exposes them). Cloning is cheap and shares the series.
#[derive(Debug, Clone)]
pub struct Summary(Arc<SummaryCore>);

#[derive(Debug)]
struct SummaryCore {
    store: SummaryStore,
    created: f64,
    /// The family, for errors that name it.
    desc: Arc<Descriptor>,
}

impl Summary {
    /// Records one observation; NaN is refused as
    /// [`Histogram::observe`](crate::Histogram::observe) refuses it.
    #[inline]
    pub fn observe(&self, v: f64) -> Result<()> {
        check_observation(&self.0.desc, v)?;
        self.0.store.observe(v);
        Ok(())
    }

    /// The cells a binding may observe in place (see [`crate::storage::cells`]), one bucket;
    /// `None` in multi-process mode.
    pub fn cells(&self) -> Option<DistributionCells> {
        self.0.store.cells()
    }

    /// A consistent `(count, sum)` pair (of this process, in multi-process mode).
    pub fn get(&self) -> (u64, f64) {
        self.0.store.get()
    }

    /// A series kept in `slots` of the multi-process file, or in memory without them.
    fn with_slots(desc: &Arc<Descriptor>, slots: Option<Slots>) -> Self {
        Summary(Arc::new(SummaryCore {
            store: SummaryStore::new(slots),
            created: unix_now(),
            desc: desc.clone(),
        }))
    }
}

impl Metric for Summary {
    const TYPE: MetricType = MetricType::Summary;
    type Config = ();

    fn new_series(desc: &Arc<Descriptor>, _: &()) -> Self {
        Self::with_slots(desc, None)
    }

    fn with_value<R>(&self, _: &(), write: impl FnOnce(&SeriesValue<'_>) -> R) -> R {
        let (count, sum) = self.get();
        write(&SeriesValue::Summary(SummaryValue {
            count,
            sum,
            created: Some(self.0.created),
            quantiles: &[],
        }))
    }
}

impl StoredSeries for Summary {
    fn new_stored_series(desc: &Arc<Descriptor>, _: &(), slots: Slots) -> Self {
        Self::with_slots(desc, Some(slots))
    }
}
