//! Gauges: values that go up and down.

use super::clock::unix_now;
use super::stored::StoredSeries;
use super::Metric;
use crate::model::{Descriptor, MetricType, SeriesValue};
use crate::storage::cells::CellRun;
use crate::storage::{GaugeStore, Slots};
use std::sync::Arc;

/// A value that can be set, increased and decreased. Cloning is cheap and shares the series.
#[derive(Debug, Clone, Default)]
pub struct Gauge(Arc<GaugeCore>);

#[derive(Debug, Default)]
struct GaugeCore {
    store: GaugeStore,
}

impl Gauge {
    /// Sets the value.
    #[inline]
    pub fn set(&self, v: f64) {
        self.0.store.set(v);
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.add(1.0);
    }

    /// Subtracts one.
    #[inline]
    pub fn dec(&self) {
        self.add(-1.0);
    }

    /// Adds `delta` (negative to subtract).
    #[inline]
    pub fn add(&self, delta: f64) {
        self.0.store.add(delta);
    }

    /// Sets the value to the current Unix time in seconds.
    pub fn set_to_current_time(&self) {
        self.set(unix_now());
    }

    /// The cell holding the value's `f64` bits, for a binding to update in place (see
    /// [`crate::storage::cells`]); `None` for a multi-process gauge that stamps the time of writes.
    pub fn value_cell(&self) -> Option<CellRun> {
        self.0.store.value_cell()
    }

    /// The current value (of this process, in multi-process mode).
    pub fn get(&self) -> f64 {
        self.0.store.get()
    }
}

impl Metric for Gauge {
    const TYPE: MetricType = MetricType::Gauge;
    type Config = ();

    fn new_series(_: &Arc<Descriptor>, _: &()) -> Self {
        Gauge::default()
    }

    fn with_value<R>(&self, _: &(), write: impl FnOnce(&SeriesValue<'_>) -> R) -> R {
        write(&SeriesValue::Gauge(self.get()))
    }
}

impl StoredSeries for Gauge {
    fn new_stored_series(_: &Arc<Descriptor>, _: &(), slots: Slots) -> Self {
        Gauge(Arc::new(GaugeCore {
            store: GaugeStore::new(Some(slots)),
        }))
    }
}
