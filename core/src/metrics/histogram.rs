//! Histograms: distributions of observed values, in classic buckets, native buckets (see
//! [`NativeBuckets`](crate::NativeBuckets)) or both.
//!
//! The kind checks observations and keeps the exemplar policy; where the observations
//! are kept (in memory, lock-free and read consistently, or in a multi-process file) is
//! [`crate::storage`]'s business.

use super::buckets::HistogramConfig;
use super::exemplar::ExemplarSlots;
use super::stored::StoredSeries;
use super::Metric;
use crate::error::{Error, Result};
use crate::model::{Descriptor, Exemplar, HistogramValue, MetricType, NativeSnapshot, SeriesValue};
use crate::storage::cells::DistributionCells;
use crate::storage::{HistogramStore, Slots};
use std::sync::Arc;

/// A consistent copy of a histogram's state.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSnapshot {
    /// Cumulative counts for each finite bound, then the `+Inf` count.
    pub cumulative: Vec<u64>,
    /// The sum of all observations.
    pub sum: f64,
}

impl HistogramSnapshot {
    /// The number of observations (`_count`, equal to the `+Inf` bucket).
    pub fn count(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }
}

/// A histogram series. Cloning is cheap and shares the series.
#[derive(Debug, Clone)]
pub struct Histogram(Arc<HistogramCore>);

#[derive(Debug)]
struct HistogramCore {
    store: HistogramStore,
    config: HistogramConfig,
    /// The newest exemplar of each classic bucket.
    exemplars: ExemplarSlots,
    /// The family, for errors that name it.
    desc: Arc<Descriptor>,
}

impl Histogram {
    /// Records one observation. NaN is refused ([`Error::NanObservation`]) and recorded
    /// nowhere, as a NaN counter increment is.
    #[inline]
    pub fn observe(&self, v: f64) -> Result<()> {
        check_observation(&self.0.desc, v)?;
        self.observe_at(self.0.config.index(v), v);
        Ok(())
    }

    /// Records `v`, whose classic bucket is `index`. A native series that resets on the
    /// way forgets its exemplars with its observations.
    #[inline]
    fn observe_at(&self, index: usize, v: f64) {
        self.0.store.observe(index, v, || self.0.exemplars.clear());
    }

    /// Records one observation and keeps `labels` (`trace_id`, `span_id`, ...) as the
    /// exemplar of its bucket (the newest per bucket wins), shown in OpenMetrics and
    /// protobuf. Fails, recording nothing, when the labels exceed the OpenMetrics limit
    /// of 128 characters.
    pub fn observe_with_exemplar(&self, v: f64, labels: &[(&str, &str)]) -> Result<()> {
        check_observation(&self.0.desc, v)?;
        let exemplar = Exemplar::new(self.0.desc.name(), labels, v)?;
        self.observe_with(v, exemplar);
        Ok(())
    }

    /// Records `v` and keeps `exemplar` (of value `v`) as the exemplar of its bucket.
    pub(crate) fn observe_with(&self, v: f64, exemplar: Exemplar) {
        let index = self.0.config.index(v);
        self.observe_at(index, v);
        self.0.store.share_exemplar(index, &exemplar);
        self.0.exemplars.record(self.0.config.slots(), index, exemplar);
    }

    /// The cells a binding may observe in place (see [`crate::storage::cells`]): a classic
    /// in-process histogram's; `None` with native buckets or in multi-process mode.
    pub fn cells(&self) -> Option<DistributionCells> {
        self.0.store.cells()
    }

    /// A consistent copy of the series (of this process, in multi-process mode).
    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut cumulative = Vec::with_capacity(self.0.config.slots());
        let sum = self.0.store.classic(&mut cumulative);
        HistogramSnapshot { cumulative, sum }
    }

    /// The native buckets, if the histogram keeps them.
    pub fn native_snapshot(&self) -> Option<NativeSnapshot> {
        self.0.store.native_snapshot()
    }

    /// The finite classic bucket bounds (empty for a native-only histogram).
    pub fn bounds(&self) -> &[f64] {
        self.0.config.bounds()
    }

    /// What the histogram keeps.
    pub fn config(&self) -> &HistogramConfig {
        &self.0.config
    }

    /// A series kept in `slots` of the multi-process file, or in memory without them.
    fn with_slots(desc: &Arc<Descriptor>, config: &HistogramConfig, slots: Option<Slots>) -> Self {
        let store = HistogramStore::new(
            slots,
            config.bounds().len(),
            config.native_buckets().copied(),
            desc.exemplars_across_processes(),
        );
        Histogram(Arc::new(HistogramCore {
            store,
            config: config.clone(),
            exemplars: ExemplarSlots::default(),
            desc: desc.clone(),
        }))
    }
}

impl Metric for Histogram {
    const TYPE: MetricType = MetricType::Histogram;
    type Config = HistogramConfig;

    fn new_series(desc: &Arc<Descriptor>, config: &HistogramConfig) -> Self {
        Self::with_slots(desc, config, None)
    }

    fn with_value<R>(&self, config: &HistogramConfig, write: impl FnOnce(&SeriesValue<'_>) -> R) -> R {
        SCRATCH.with_borrow_mut(|(cumulative, exemplars)| {
            let reading = self.0.store.read(cumulative);
            self.0.exemplars.copy_into(exemplars);
            // A native-only histogram kept in memory shows no classic buckets.
            let native_only = reading.native.is_some() && config.bounds().is_empty();
            write(&SeriesValue::Histogram(HistogramValue {
                bounds: config.bounds(),
                cumulative: if native_only { &[] } else { cumulative },
                count: reading.count,
                sum: reading.sum,
                created: Some(reading.created),
                exemplars,
                native: reading.native.as_ref(),
            }))
        })
    }
}

impl StoredSeries for Histogram {
    fn new_stored_series(desc: &Arc<Descriptor>, config: &HistogramConfig, slots: Slots) -> Self {
        Self::with_slots(desc, config, Some(slots))
    }

    fn bucket_bounds(config: &HistogramConfig) -> &[f64] {
        config.bounds()
    }

    fn native_capacity(config: &HistogramConfig) -> u32 {
        config.native_buckets().map_or(0, |n| n.capacity() as u32)
    }
}

/// NaN is no observation: a histogram's or summary's sum would stay NaN for good.
/// Infinities are counted (in `+Inf`, or the lowest bucket), as Prometheus clients do.
#[inline]
pub(super) fn check_observation(desc: &Descriptor, v: f64) -> Result<()> {
    if v.is_nan() {
        return Err(nan_observation(desc));
    }
    Ok(())
}

/// The error of a NaN observation, out of line: building it allocates, which would make
/// every observation set up a stack frame for it.
#[cold]
#[inline(never)]
fn nan_observation(desc: &Descriptor) -> Error {
    Error::NanObservation {
        metric: desc.name().to_owned(),
    }
}

thread_local! {
    /// Reused bucket and exemplar buffers, so rendering a histogram allocates nothing in
    /// the steady state.
    static SCRATCH: std::cell::RefCell<(Vec<u64>, Vec<Option<Exemplar>>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Buckets;

    fn histogram(bounds: &[f64]) -> Histogram {
        let desc = Arc::new(
            crate::Opts::new("h", "h")
                .into_descriptor(MetricType::Histogram)
                .unwrap(),
        );
        Histogram::new_series(
            &desc,
            &HistogramConfig::classic(Buckets::new("h", bounds).unwrap()),
        )
    }

    #[test]
    fn observations_land_in_the_first_bucket_that_holds_them() {
        let h = histogram(&[1.0, 2.0]);
        for v in [0.5, 1.0, 1.5, 3.0, f64::INFINITY] {
            h.observe(v).unwrap();
        }
        let s = h.snapshot();
        assert_eq!(s.cumulative, vec![2, 3, 5]);
        assert_eq!(s.count(), 5);
    }

    #[test]
    fn snapshots_repeat_and_keep_history() {
        let h = histogram(&[1.0]);
        h.observe(0.5).unwrap();
        assert_eq!(h.snapshot().cumulative, vec![1, 1]);
        h.observe(2.0).unwrap();
        let s = h.snapshot();
        assert_eq!(s.cumulative, vec![1, 2]);
        assert_eq!(s.sum, 2.5);
        assert_eq!(h.snapshot(), s);
    }
}
