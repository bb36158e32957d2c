//! Counters: values that only go up.

use super::atomic::{unix_now, AtomicF64, StripedU64};
use super::Metric;
use crate::descriptor::{Descriptor, MetricType};
use crate::error::{Error, Result};
use crate::exposition::FamilyEncoder;
use std::sync::Arc;

/// A monotonic counter. Cloning is cheap and shares the series.
///
/// Whole increments go to a striped integer (exact, contention-friendly); fractional ones
/// to a float, so `inc()` never pays for floating point and `inc_by_f64(0.5)` still works.
#[derive(Debug, Clone)]
pub struct Counter(Arc<CounterCore>);

#[derive(Debug)]
struct CounterCore {
    whole: StripedU64,
    fraction: AtomicF64,
    created: f64,
    desc: Arc<Descriptor>,
}

impl Counter {
    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.0.whole.add(1);
    }

    /// Adds `n`.
    #[inline]
    pub fn inc_by(&self, n: u64) {
        self.0.whole.add(n);
    }

    /// Adds `amount`, which must be finite and not negative.
    pub fn inc_by_f64(&self, amount: f64) -> Result<()> {
        if amount.is_nan() || amount < 0.0 || amount.is_infinite() {
            return Err(Error::NegativeIncrement {
                metric: self.0.desc.name().to_owned(),
                amount,
            });
        }
        if amount.fract() == 0.0 && amount < u64::MAX as f64 {
            self.0.whole.add(amount as u64);
        } else {
            self.0.fraction.add(amount);
        }
        Ok(())
    }

    /// The current total.
    pub fn get(&self) -> f64 {
        self.0.whole.get() as f64 + self.0.fraction.get()
    }

    /// When this series was created, in seconds since the Unix epoch.
    pub fn created(&self) -> f64 {
        self.0.created
    }

    /// Sets the series back to zero (for tests; Prometheus treats it as a counter reset).
    pub fn reset(&self) {
        self.0.whole.reset();
        self.0.fraction.set(0.0);
    }
}

impl Metric for Counter {
    const TYPE: MetricType = MetricType::Counter;
    type Config = ();

    fn new_series(desc: &Arc<Descriptor>, _: &()) -> Self {
        Counter(Arc::new(CounterCore {
            whole: StripedU64::default(),
            fraction: AtomicF64::default(),
            created: unix_now(),
            desc: desc.clone(),
        }))
    }

    fn encode<V: AsRef<str>>(&self, _: &(), family: &mut FamilyEncoder<'_, '_>, values: &[V]) {
        family.counter(values, self.get(), Some(self.created()));
    }
}
