//! Counters: values that only go up.

use super::clock::unix_now;
use super::exemplar::ExemplarSlots;
use super::stored::StoredSeries;
use super::Metric;
use crate::error::{Error, Result};
use crate::model::{Descriptor, MetricType};
use crate::model::{Exemplar, SeriesValue};
use crate::storage::cells::CellRun;
use crate::storage::{CounterStore, Slots};
use std::sync::Arc;

/// A monotonic counter. Cloning is cheap and shares the series.
///
/// Whole increments go to a striped integer (exact, contention-friendly); fractional ones
/// to a float, so `inc()` never pays for floating point and `inc_by_f64(0.5)` still works.
/// In multi-process mode the same two values live in this process's file instead.
#[derive(Debug, Clone)]
pub struct Counter(Arc<CounterCore>);

#[derive(Debug)]
struct CounterCore {
    store: CounterStore,
    created: f64,
    desc: Arc<Descriptor>,
    /// The exemplar of the latest increment that carried one.
    exemplar: ExemplarSlots,
}

impl Counter {
    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.inc_by(1);
    }

    /// Adds `n`.
    #[inline]
    pub fn inc_by(&self, n: u64) {
        self.0.store.add(n);
    }

    /// Adds `amount`, which must be finite and not negative.
    pub fn inc_by_f64(&self, amount: f64) -> Result<()> {
        check_increment(&self.0.desc, amount)?;
        if amount.fract() == 0.0 && amount < u64::MAX as f64 {
            self.inc_by(amount as u64);
        } else {
            self.0.store.add_fraction(amount);
        }
        Ok(())
    }

    /// Adds `amount` (finite, not negative) and keeps `labels` (`trace_id`, `span_id`,
    /// ...) as the counter's exemplar, shown in OpenMetrics and protobuf. Fails, adding
    /// nothing, on a bad amount or labels beyond the OpenMetrics limit of 128 characters.
    pub fn inc_with_exemplar(&self, amount: f64, labels: &[(&str, &str)]) -> Result<()> {
        let exemplar = Exemplar::new(self.0.desc.name(), labels, amount)?;
        self.inc_by_f64(amount)?;
        self.keep_exemplar(exemplar);
        Ok(())
    }

    /// Whether a traced request whose duration falls in bucket `bucket` may set this
    /// series' exemplars in clock tick `tick` (see
    /// [`RequestMetrics::record`](crate::RequestMetrics::record)).
    pub(crate) fn claim_trace_tick(&self, tick: u64, bucket: usize) -> bool {
        self.0.exemplar.claim_tick(tick, bucket)
    }

    /// Gives back a claim taken for a request that carried no trace after all.
    pub(crate) fn release_trace_tick(&self, tick: u64, bucket: usize) {
        self.0.exemplar.release_tick(tick, bucket);
    }

    /// Adds one and keeps `exemplar` (of value 1) as the counter's exemplar.
    pub(crate) fn inc_with(&self, exemplar: Exemplar) {
        self.inc();
        self.keep_exemplar(exemplar);
    }

    fn keep_exemplar(&self, exemplar: Exemplar) {
        self.0.store.share_exemplar(&exemplar);
        self.0.exemplar.record(1, 0, exemplar);
    }

    /// The exemplar of the latest increment that carried one.
    pub fn exemplar(&self) -> Option<Exemplar> {
        self.0.exemplar.get(0)
    }

    /// The current total (of this process, in multi-process mode).
    pub fn get(&self) -> f64 {
        self.0.store.get()
    }

    /// When this series was created, in seconds since the Unix epoch.
    pub fn created(&self) -> f64 {
        self.0.created
    }

    /// Sets the series back to zero (for tests; Prometheus treats it as a counter reset).
    pub fn reset(&self) {
        self.0.store.reset();
        self.0.exemplar.clear();
    }
}

/// The cells a binding may update in place (see [`crate::storage::cells`]).
impl Counter {
    /// The base cell: in-process, add to it by one compare-and-swap and take
    /// [`Counter::stripe_cells`] when that fails; in multi-process mode it is the file slot.
    pub fn base_cell(&self) -> CellRun {
        self.0.store.base_cell()
    }

    /// Cells any of which `fetch_add` may add to, made on first call: the stripes
    /// in-process, the one file slot in multi-process mode.
    pub fn stripe_cells(&self) -> CellRun {
        self.0.store.stripe_cells()
    }
}

impl Counter {
    fn with_slots(desc: &Arc<Descriptor>, shared: Option<Slots>) -> Self {
        Counter(Arc::new(CounterCore {
            store: CounterStore::new(shared, desc.exemplars_across_processes()),
            created: unix_now(),
            desc: desc.clone(),
            exemplar: ExemplarSlots::default(),
        }))
    }
}

impl Metric for Counter {
    const TYPE: MetricType = MetricType::Counter;
    type Config = ();

    fn new_series(desc: &Arc<Descriptor>, _: &()) -> Self {
        Counter::with_slots(desc, None)
    }

    fn with_value<R>(&self, _: &(), write: impl FnOnce(&SeriesValue<'_>) -> R) -> R {
        let exemplar = self.exemplar();
        write(&SeriesValue::Counter {
            value: self.get(),
            created: Some(self.created()),
            exemplar: exemplar.as_ref(),
        })
    }
}

impl StoredSeries for Counter {
    fn new_stored_series(desc: &Arc<Descriptor>, _: &(), slots: Slots) -> Self {
        Counter::with_slots(desc, Some(slots))
    }
}

/// Refuses an amount a counter cannot add: negative, NaN or infinite.
fn check_increment(desc: &Descriptor, amount: f64) -> Result<()> {
    if amount.is_nan() || amount < 0.0 || amount.is_infinite() {
        return Err(Error::NegativeIncrement {
            metric: desc.name().to_owned(),
            amount,
        });
    }
    Ok(())
}

impl super::Family<Counter> {
    /// Adds `amount` to the series for `values`, checking the amount first: a rejected
    /// call creates no series, so bindings need not check arguments themselves.
    pub fn inc_by_f64<V: AsRef<str>>(&self, values: &[V], amount: f64) -> Result<()> {
        check_increment(self.descriptor(), amount)?;
        self.with(values, |counter| counter.inc_by_f64(amount))?
    }
}
