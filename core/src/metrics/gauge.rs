//! Gauges: values that go up and down.

use super::atomic::{unix_now, AtomicF64};
use super::Metric;
use crate::descriptor::{Descriptor, MetricType};
use crate::exposition::FamilyEncoder;
use std::sync::Arc;

/// A value that can be set, increased and decreased. Cloning is cheap and shares the series.
#[derive(Debug, Clone, Default)]
pub struct Gauge(Arc<AtomicF64>);

impl Gauge {
    /// Sets the value.
    #[inline]
    pub fn set(&self, v: f64) {
        self.0.set(v);
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.0.add(1.0);
    }

    /// Subtracts one.
    #[inline]
    pub fn dec(&self) {
        self.0.add(-1.0);
    }

    /// Adds `delta` (negative to subtract).
    #[inline]
    pub fn add(&self, delta: f64) {
        self.0.add(delta);
    }

    /// Sets the value to the current Unix time in seconds.
    pub fn set_to_current_time(&self) {
        self.0.set(unix_now());
    }

    /// The current value.
    pub fn get(&self) -> f64 {
        self.0.get()
    }
}

impl Metric for Gauge {
    const TYPE: MetricType = MetricType::Gauge;
    type Config = ();

    fn new_series(_: &Arc<Descriptor>, _: &()) -> Self {
        Gauge::default()
    }

    fn encode<V: AsRef<str>>(&self, _: &(), family: &mut FamilyEncoder<'_, '_>, values: &[V]) {
        family.gauge(values, None, self.get());
    }
}
