//! Gauges: values that go up and down.

use super::atomic::{unix_now, AtomicF64};
use super::Metric;
use crate::cells::CellRun;
use crate::model::{Descriptor, MetricType, SeriesValue};
use crate::storage::layout::{GAUGE_STAMP, GAUGE_VALUE};
use crate::storage::Slots;
use std::sync::Arc;

/// A value that can be set, increased and decreased. Cloning is cheap and shares the series.
#[derive(Debug, Clone, Default)]
pub struct Gauge(Arc<GaugeCore>);

#[derive(Debug, Default)]
struct GaugeCore {
    value: AtomicF64,
    /// The value's home in multi-process mode.
    shared: Option<Slots>,
}

impl Gauge {
    /// Sets the value.
    #[inline]
    pub fn set(&self, v: f64) {
        match &self.0.shared {
            None => self.0.value.set(v),
            Some(slots) => {
                slots.set_f64(GAUGE_VALUE, v);
                stamp(slots);
            }
        }
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
        match &self.0.shared {
            None => self.0.value.add(delta),
            Some(slots) => {
                slots.add_f64(GAUGE_VALUE, delta);
                stamp(slots);
            }
        }
    }

    /// Sets the value to the current Unix time in seconds.
    pub fn set_to_current_time(&self) {
        self.set(unix_now());
    }

    /// The cell holding the value's `f64` bits, for a binding to update in place (see
    /// [`crate::cells`]); `None` for a multi-process gauge that stamps the time of writes.
    pub fn value_cell(&self) -> Option<CellRun> {
        match &self.0.shared {
            None => Some(CellRun::one(self.0.value.cell())),
            Some(slots) if !slots.stamps_time() => Some(CellRun::one(slots.cell(GAUGE_VALUE))),
            Some(_) => None,
        }
    }

    /// The current value (of this process, in multi-process mode).
    pub fn get(&self) -> f64 {
        match &self.0.shared {
            None => self.0.value.get(),
            Some(slots) => slots.get_f64(GAUGE_VALUE),
        }
    }
}

/// Records when a `mostrecent` gauge was written, so the newest write wins across
/// processes. Other modes skip the clock read.
#[inline]
fn stamp(slots: &Slots) {
    if slots.stamps_time() {
        slots.set_f64(GAUGE_STAMP, unix_now());
    }
}

impl Metric for Gauge {
    const TYPE: MetricType = MetricType::Gauge;
    type Config = ();

    fn new_series(_: &Arc<Descriptor>, _: &()) -> Self {
        Gauge::default()
    }

    fn new_stored_series(_: &Arc<Descriptor>, _: &(), slots: Slots) -> Self {
        Gauge(Arc::new(GaugeCore {
            value: AtomicF64::default(),
            shared: Some(slots),
        }))
    }

    fn with_value<R>(&self, _: &(), write: impl FnOnce(&SeriesValue<'_>) -> R) -> R {
        write(&SeriesValue::Gauge(self.get()))
    }
}
