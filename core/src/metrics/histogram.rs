//! Histograms and summaries: distributions of observed values.
//!
//! A histogram keeps classic buckets, native buckets (see [`NativeBuckets`]) or both.
//! Classic-only observation is lock-free and a scrape always sees a consistent snapshot (`+Inf` equals
//! `_count`, `_sum` covers exactly the counted observations). It uses the hot/cold scheme of
//! the Go client: observers count themselves in a shared word whose top bit names the
//! "hot" shard, then add to that shard's sum and count their bucket last; a scrape flips
//! that bit, waits until the now-cold shard's buckets add up to the observations started
//! before the flip, reads it, then folds it into the new hot shard.

use super::clock::unix_now;
use super::exemplar::ExemplarSlots;
use super::native::{AfterObserve, NativeBuckets, NativeState};
use super::Metric;
use crate::error::{Error, Result};
use crate::model::Exemplar;
use crate::model::{Descriptor, MetricType};
use crate::model::{HistogramValue, NativeSnapshot, SeriesValue, SummaryValue};
use crate::multiprocess::fork_generation;
use crate::storage::cells::{CellRun, DistributionCells, ShardCells};
use crate::storage::layout::{SeriesLayout, SUMMARY_COUNT, SUMMARY_SUM};
use crate::storage::{add_f64, NativeRegion, Slots};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::*};
use std::sync::Arc;

/// The default buckets of the request-duration histogram (CONTRACT section 4), also the
/// `prometheus_client` defaults.
pub const DEFAULT_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// The finite upper bounds of a histogram, validated: non-empty, finite, strictly rising.
/// A trailing `+Inf` is accepted and dropped (the `+Inf` bucket is always there).
#[derive(Clone, PartialEq)]
pub struct Buckets {
    /// The bounds, then (for up to [`SCANNED`] bounds) `+Inf` up to [`SCANNED`] entries,
    /// so [`Buckets::index`] compares a fixed-size array.
    padded: Arc<[f64]>,
    /// How many of `padded` are bounds.
    len: usize,
}

/// Up to this many bounds, finding a bucket compares the value with all of them at once.
const SCANNED: usize = 16;

impl Buckets {
    /// Validates `bounds` for the histogram `metric`.
    pub fn new(metric: &str, bounds: &[f64]) -> Result<Self> {
        let bounds = match bounds.split_last() {
            Some((last, rest)) if *last == f64::INFINITY => rest,
            _ => bounds,
        };
        let error = |reason: &str| Error::InvalidBuckets {
            metric: metric.to_owned(),
            reason: reason.to_owned(),
        };
        if bounds.is_empty() {
            return Err(error("give at least one finite bucket bound"));
        }
        if bounds.iter().any(|b| !b.is_finite()) {
            return Err(error("bounds must be finite numbers (+Inf is added for you)"));
        }
        if bounds.windows(2).any(|w| w[0] >= w[1]) {
            return Err(error("bounds must be in strictly increasing order"));
        }
        Ok(Self::from_valid(bounds))
    }

    fn from_valid(bounds: &[f64]) -> Self {
        let padding = SCANNED.saturating_sub(bounds.len());
        let padded = bounds
            .iter()
            .copied()
            .chain(std::iter::repeat_n(f64::INFINITY, padding));
        Buckets {
            padded: padded.collect(),
            len: bounds.len(),
        }
    }

    /// The finite bounds, ascending.
    pub fn bounds(&self) -> &[f64] {
        &self.padded[..self.len]
    }

    /// The index of the bucket `v` (not NaN) falls in (`bounds.len()` for `+Inf`).
    #[inline]
    fn index(&self, v: f64) -> usize {
        match <&[f64; SCANNED]>::try_from(&*self.padded) {
            // The number of bounds below `v`, the padding never: no branch, and it
            // vectorises, where a search that stops at the bucket mispredicts whenever
            // the bucket changes.
            Ok(scanned) => scanned.iter().filter(|b| **b < v).count(),
            Err(_) => self.bounds().partition_point(|b| *b < v),
        }
    }
}

impl std::fmt::Debug for Buckets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Buckets").field(&self.bounds()).finish()
    }
}

impl Default for Buckets {
    fn default() -> Self {
        Self::from_valid(DEFAULT_BUCKETS)
    }
}

/// What a histogram family keeps: classic buckets, native buckets, or both.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramConfig {
    classic: Option<Buckets>,
    native: Option<NativeBuckets>,
}

impl Default for HistogramConfig {
    fn default() -> Self {
        Self::classic(Buckets::default())
    }
}

impl HistogramConfig {
    /// Classic buckets only.
    pub fn classic(buckets: Buckets) -> Self {
        HistogramConfig {
            classic: Some(buckets),
            native: None,
        }
    }

    /// Native buckets, with classic ones beside them when `classic` is given (text
    /// formats show only those; protobuf both).
    pub fn native(native: NativeBuckets, classic: Option<Buckets>, metric: &str) -> Result<Self> {
        Ok(HistogramConfig {
            classic,
            native: Some(native.validate(metric)?),
        })
    }

    /// The finite classic bounds (empty for a native-only histogram).
    pub fn bounds(&self) -> &[f64] {
        self.classic.as_ref().map_or(&[], Buckets::bounds)
    }

    /// The native-bucket settings, if the histogram keeps native buckets.
    pub fn native_buckets(&self) -> Option<&NativeBuckets> {
        self.native.as_ref()
    }

    /// The index of the classic bucket `v` falls in (0 without classic buckets: `+Inf`).
    #[inline(always)]
    fn index(&self, v: f64) -> usize {
        match &self.classic {
            Some(buckets) => buckets.index(v),
            None => 0,
        }
    }

    /// Classic buckets including `+Inf`.
    fn slots(&self) -> usize {
        self.bounds().len() + 1
    }

    /// Where a series of this histogram keeps each value in a multi-process file.
    #[inline]
    fn layout(&self, exemplars: bool) -> SeriesLayout {
        let native_capacity = self.native.map_or(0, |n| n.capacity());
        SeriesLayout::new(
            MetricType::Histogram,
            self.bounds().len(),
            native_capacity,
            exemplars,
        )
    }

    /// The slot of the sum in a multi-process file (the bucket counts come first, so a
    /// bucket's index is its slot).
    #[inline]
    fn sum_slot(&self) -> usize {
        self.layout(false).histogram_sum()
    }
}

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

const HOT_BIT: u64 = 1 << 63;

/// The cells of a classic histogram or summary, in one allocation, so an observation
/// computes every address from one pointer loaded before its first atomic:
/// `[started_and_hot, shard 0: sum, buckets.., shard 1: sum, buckets..]`.
///
/// `started_and_hot`: top bit the index of the hot shard, low bits the observations
/// started. In a shard, `sum` holds the `f64` bits of the sum and the buckets the
/// per-bucket (not cumulative) counts, `+Inf` last.
#[derive(Debug)]
struct Core {
    cells: Box<[AtomicU64]>,
    /// Buckets per shard, `+Inf` included.
    buckets: usize,
    /// Serialises scrapes of this series (observers never take it).
    scrape: Mutex<()>,
    created: f64,
    /// The newest exemplar of each classic bucket.
    exemplars: ExemplarSlots,
}

const STARTED_AND_HOT: usize = 0;

impl Core {
    fn new(buckets: usize) -> Self {
        Self {
            cells: (0..1 + 2 * (1 + buckets)).map(|_| AtomicU64::new(0)).collect(),
            buckets,
            scrape: Mutex::new(()),
            created: unix_now(),
            exemplars: ExemplarSlots::default(),
        }
    }

    /// Where shard `hot` (0 or 1) starts: its sum, then its buckets.
    #[inline(always)]
    fn shard_start(buckets: usize, hot: u64) -> usize {
        1 + hot as usize * (1 + buckets)
    }

    /// Three atomics: count in as started (which names the hot shard), add to the hot
    /// shard's sum, then count the bucket with release ordering. The bucket increment is
    /// also the sign that the observation is whole: a scrape that sees the cold shard's
    /// buckets add up to the observations started before its flip has seen their sums.
    #[inline(always)]
    fn observe(&self, index: usize, v: f64) {
        // Every address comes from these, read before the first atomic: none waits for it.
        let (cells, buckets) = (&self.cells[..], self.buckets);
        let started_and_hot = &cells[STARTED_AND_HOT];
        // The hot shard as it was just before: the count's answer then only confirms it
        // (a scrape flips it rarely), so the processor goes on to the sum on a predicted
        // branch instead of waiting for the atomic's result to find it.
        let expected = started_and_hot.load(Relaxed) >> 63;
        let n = started_and_hot.fetch_add(1, Acquire);
        if n >> 63 != expected {
            return Self::add_to_shard(cells, buckets, n >> 63, index, v);
        }
        Self::add_to_shard(cells, buckets, expected, index, v);
    }

    /// The rest of an observation counted in as started while shard `hot` was hot.
    #[inline(always)]
    fn add_to_shard(cells: &[AtomicU64], buckets: usize, hot: u64, index: usize, v: f64) {
        let shard = Self::shard_start(buckets, hot);
        add_f64(&cells[shard], v);
        cells[shard + 1 + index].fetch_add(1, Release);
    }

    /// The sum and buckets of shard `hot`.
    fn shard(&self, hot: u64) -> (&AtomicU64, &[AtomicU64]) {
        let start = Self::shard_start(self.buckets, hot);
        (
            &self.cells[start],
            &self.cells[start + 1..start + 1 + self.buckets],
        )
    }

    /// The cells of the hot/cold scheme, for a binding to observe in place.
    fn cells(&self) -> DistributionCells {
        let shard = |hot| {
            let (sum, buckets) = self.shard(hot);
            ShardCells {
                buckets: CellRun::packed(buckets),
                sum: CellRun::one(sum),
            }
        };
        DistributionCells {
            started_and_hot: CellRun::one(&self.cells[STARTED_AND_HOT]),
            shards: [shard(0), shard(1)],
        }
    }

    /// Reads a consistent snapshot: cumulative counts into `cumulative`, returns the sum.
    fn snapshot(&self, cumulative: &mut Vec<u64>) -> f64 {
        let _guard = self.scrape.lock();
        let n = self.cells[STARTED_AND_HOT].fetch_add(HOT_BIT, AcqRel);
        let started = n & !HOT_BIT;
        let (cold_sum, cold) = self.shard(n >> 63);
        let (hot_sum, hot) = self.shard((n >> 63) ^ 1);
        // Every observation that started before the flip counts itself in a cold bucket,
        // last; wait for the few still in flight (a handful of instructions each). Counts
        // only grow and add up to `started` once all are in, so a total of `started`
        // means every count read is final.
        while cold.iter().map(|b| b.load(Acquire)).sum::<u64>() != started {
            std::hint::spin_loop();
        }
        cumulative.clear();
        let mut total = 0;
        for (cold_bucket, hot_bucket) in cold.iter().zip(hot) {
            let count = cold_bucket.swap(0, Relaxed);
            hot_bucket.fetch_add(count, Release);
            total += count;
            cumulative.push(total);
        }
        let sum = f64::from_bits(cold_sum.swap(0f64.to_bits(), Relaxed));
        add_f64(hot_sum, sum);
        sum
    }
}

/// A histogram with native buckets: every field behind one lock, so a scrape sees count,
/// sum, classic and native buckets of the same observations, and a reset or a schema
/// change is atomic.
#[derive(Debug)]
struct NativeSeries {
    count: u64,
    sum: f64,
    /// Per-bucket classic counts, `+Inf` last (one slot for a native-only histogram).
    classic: Vec<u64>,
    native: NativeState,
    created: f64,
    /// The fork generation this state belongs to (see `multiprocess::fork_generation`).
    generation: u64,
}

impl NativeSeries {
    fn new(config: &HistogramConfig, native: NativeBuckets) -> Self {
        NativeSeries {
            count: 0,
            sum: 0.0,
            classic: vec![0; config.slots()],
            native: NativeState::new(native),
            created: unix_now(),
            generation: fork_generation(),
        }
    }

    fn observe(&mut self, index: usize, v: f64) -> AfterObserve {
        self.count += 1;
        self.sum += v;
        self.classic[index] += 1;
        self.native.observe(v)
    }

    fn reset(&mut self) {
        self.count = 0;
        self.sum = 0.0;
        self.classic.iter_mut().for_each(|c| *c = 0);
        self.native.reset();
        self.created = unix_now();
    }
}

/// A histogram series. Cloning is cheap and shares the series.
#[derive(Debug, Clone)]
pub struct Histogram {
    core: Arc<Core>,
    config: HistogramConfig,
    /// In multi-process mode: one count per bucket (`+Inf` last), then the sum.
    shared: Option<Slots>,
    /// Set when the histogram keeps native buckets.
    native: Option<Arc<Mutex<NativeSeries>>>,
    /// In multi-process mode, where the native buckets are mirrored in `shared`.
    region: Option<NativeRegion>,
    /// In multi-process mode, where the newest exemplar is kept in `shared`.
    exemplar_at: Option<usize>,
    /// The family, for errors that name it.
    desc: Arc<Descriptor>,
}

impl Histogram {
    /// Records one observation. NaN is refused ([`Error::NanObservation`]) and recorded
    /// nowhere, as a NaN counter increment is.
    #[inline]
    pub fn observe(&self, v: f64) -> Result<()> {
        check_observation(&self.desc, v)?;
        self.observe_at(self.config.index(v), v);
        Ok(())
    }

    /// Records `v`, whose classic bucket is `index`.
    #[inline]
    fn observe_at(&self, index: usize, v: f64) {
        match (&self.native, &self.shared) {
            (None, None) => self.core.observe(index, v),
            (None, Some(slots)) => add_classic(slots, self.config.sum_slot(), index, v),
            (Some(native), _) => self.observe_native(native, index, v),
        }
    }

    /// Counts `v` in the native series and, in multi-process mode, mirrors it in the
    /// file: the classic slots always, the native region by one bucket or, when the
    /// buckets changed shape, whole.
    fn observe_native(&self, native: &Mutex<NativeSeries>, index: usize, v: f64) {
        let mut series = native.lock();
        let inherited = self.shared.is_some() && series.generation != fork_generation();
        if inherited {
            // From the parent, whose file holds these counts; the child's slots start
            // from zero, so must this.
            series.reset();
            series.generation = fork_generation();
        }
        let mut outcome = series.observe(index, v);
        if inherited {
            outcome = AfterObserve::Reshaped;
        }
        if outcome == AfterObserve::Reset {
            series.reset();
            self.core.exemplars.clear();
            if let Some(slots) = &self.shared {
                (0..self.config.slots()).for_each(|i| slots.set_u64(i, 0));
                slots.set_f64(self.config.sum_slot(), 0.0);
            }
            series.observe(index, v);
            outcome = AfterObserve::Reshaped;
        }
        let (Some(slots), Some(region)) = (&self.shared, &self.region) else {
            return;
        };
        add_classic(slots, self.config.sum_slot(), index, v);
        let mirrored = match outcome {
            AfterObserve::Counted(bucket) => region.add(slots, bucket),
            _ => false,
        };
        if !mirrored {
            region.write(slots, &series.native.snapshot);
        }
    }

    /// Records one observation and keeps `labels` (`trace_id`, `span_id`, ...) as the
    /// exemplar of its bucket (the newest per bucket wins), shown in OpenMetrics and
    /// protobuf. Fails, recording nothing, when the labels exceed the OpenMetrics limit
    /// of 128 characters.
    pub fn observe_with_exemplar(&self, v: f64, labels: &[(&str, &str)]) -> Result<()> {
        check_observation(&self.desc, v)?;
        let exemplar = Exemplar::new(self.desc.name(), labels, v)?;
        self.observe_with(v, exemplar);
        Ok(())
    }

    /// Records `v` and keeps `exemplar` (of value `v`) as the exemplar of its bucket.
    pub(crate) fn observe_with(&self, v: f64, exemplar: Exemplar) {
        let index = self.config.index(v);
        self.observe_at(index, v);
        if let (Some(slots), Some(at)) = (&self.shared, self.exemplar_at) {
            crate::storage::exemplar_slots::write(slots, at, index, &exemplar);
        }
        self.core.exemplars.record(self.config.slots(), index, exemplar);
    }

    /// The cells a binding may observe in place (see [`crate::storage::cells`]): a classic
    /// in-process histogram's; `None` with native buckets or in multi-process mode.
    pub fn cells(&self) -> Option<DistributionCells> {
        (self.native.is_none() && self.shared.is_none()).then(|| self.core.cells())
    }

    /// A consistent copy of the series (of this process, in multi-process mode).
    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut cumulative = Vec::with_capacity(self.config.slots());
        let sum = self.snapshot_into(&mut cumulative);
        HistogramSnapshot { cumulative, sum }
    }

    /// The native buckets, if the histogram keeps them.
    pub fn native_snapshot(&self) -> Option<NativeSnapshot> {
        Some(self.native.as_ref()?.lock().native.snapshot.clone())
    }

    /// Cumulative counts into `cumulative`; returns the sum.
    fn snapshot_into(&self, cumulative: &mut Vec<u64>) -> f64 {
        if let Some(slots) = &self.shared {
            let buckets = self.config.slots();
            cumulative.clear();
            let mut total = 0;
            for i in 0..buckets {
                total += slots.get_u64(i);
                cumulative.push(total);
            }
            return slots.get_f64(buckets);
        }
        if let Some(native) = &self.native {
            let series = native.lock();
            cumulate(&series.classic, cumulative);
            return series.sum;
        }
        self.core.snapshot(cumulative)
    }

    /// The finite classic bucket bounds (empty for a native-only histogram).
    pub fn bounds(&self) -> &[f64] {
        self.config.bounds()
    }

    /// What the histogram keeps.
    pub fn config(&self) -> &HistogramConfig {
        &self.config
    }

    fn with_native_value<R>(
        &self,
        native: &Mutex<NativeSeries>,
        write: impl FnOnce(&SeriesValue<'_>) -> R,
    ) -> R {
        let (count, sum, created, snapshot) = SCRATCH.with_borrow_mut(|(cumulative, _)| {
            let series = native.lock();
            cumulate(&series.classic, cumulative);
            (
                series.count,
                series.sum,
                series.created,
                series.native.snapshot.clone(),
            )
        });
        SCRATCH.with_borrow_mut(|(cumulative, exemplars)| {
            self.core.exemplars.copy_into(exemplars);
            let classic = !self.config.bounds().is_empty();
            write(&SeriesValue::Histogram(HistogramValue {
                bounds: self.config.bounds(),
                cumulative: if classic { cumulative } else { &[] },
                count,
                sum,
                created: Some(created),
                exemplars,
                native: Some(&snapshot),
            }))
        })
    }
}

/// Adds one observation to the classic buckets (slot `index`) and the sum (slot `sum`)
/// in a multi-process file.
#[inline]
fn add_classic(slots: &Slots, sum: usize, index: usize, v: f64) {
    slots.add_u64(index, 1);
    slots.add_f64(sum, v);
}

/// Per-bucket counts to cumulative ones.
fn cumulate(buckets: &[u64], cumulative: &mut Vec<u64>) {
    cumulative.clear();
    let mut total = 0;
    cumulative.extend(buckets.iter().map(|n| {
        total += n;
        total
    }));
}

impl Metric for Histogram {
    const TYPE: MetricType = MetricType::Histogram;
    type Config = HistogramConfig;

    fn new_series(desc: &Arc<Descriptor>, config: &HistogramConfig) -> Self {
        let native = config
            .native
            .map(|n| Arc::new(Mutex::new(NativeSeries::new(config, n))));
        let core_len = if native.is_some() { 0 } else { config.slots() };
        Histogram {
            core: Arc::new(Core::new(core_len)),
            config: config.clone(),
            shared: None,
            native,
            region: None,
            exemplar_at: None,
            desc: desc.clone(),
        }
    }

    fn new_stored_series(desc: &Arc<Descriptor>, config: &HistogramConfig, slots: Slots) -> Self {
        let layout = config.layout(desc.exemplars_across_processes());
        let exemplar_at = layout.exemplar_start();
        let native = config
            .native
            .map(|n| Arc::new(Mutex::new(NativeSeries::new(config, n))));
        let region = layout.native_start().map(|start| NativeRegion {
            start,
            capacity: layout.native_capacity(),
        });
        if let (Some(native), Some(region)) = (&native, &region) {
            region.write(&slots, &native.lock().native.snapshot);
        }
        Histogram {
            core: Arc::new(Core::new(0)),
            config: config.clone(),
            shared: Some(slots),
            native,
            region,
            exemplar_at,
            desc: desc.clone(),
        }
    }

    fn bucket_bounds(config: &HistogramConfig) -> &[f64] {
        config.bounds()
    }

    fn native_capacity(config: &HistogramConfig) -> u32 {
        config.native.map_or(0, |n| n.capacity() as u32)
    }

    fn with_value<R>(&self, config: &HistogramConfig, write: impl FnOnce(&SeriesValue<'_>) -> R) -> R {
        if let (Some(native), None) = (&self.native, &self.shared) {
            return self.with_native_value(native, write);
        }
        SCRATCH.with_borrow_mut(|(cumulative, exemplars)| {
            let sum = self.snapshot_into(cumulative);
            self.core.exemplars.copy_into(exemplars);
            write(&SeriesValue::Histogram(HistogramValue {
                bounds: config.bounds(),
                cumulative,
                count: cumulative.last().copied().unwrap_or(0),
                sum,
                created: Some(self.core.created),
                exemplars,
                native: None,
            }))
        })
    }
}

/// NaN is no observation: a histogram's or summary's sum would stay NaN for good.
/// Infinities are counted (in `+Inf`, or the lowest bucket), as Prometheus clients do.
#[inline]
fn check_observation(desc: &Descriptor, v: f64) -> Result<()> {
    if v.is_nan() {
        return Err(Error::NanObservation {
            metric: desc.name().to_owned(),
        });
    }
    Ok(())
}

thread_local! {
    /// Reused bucket and exemplar buffers, so rendering a histogram allocates nothing in
    /// the steady state.
    static SCRATCH: std::cell::RefCell<(Vec<u64>, Vec<Option<Exemplar>>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// A summary series: count and sum of observations, without quantiles (as
/// `prometheus_client` exposes them). Cloning is cheap and shares the series.
#[derive(Debug, Clone)]
pub struct Summary {
    core: Arc<Core>,
    /// In multi-process mode: count, then sum.
    shared: Option<Slots>,
    /// The family, for errors that name it.
    desc: Arc<Descriptor>,
}

impl Summary {
    /// Records one observation; NaN is refused as [`Histogram::observe`] refuses it.
    #[inline]
    pub fn observe(&self, v: f64) -> Result<()> {
        check_observation(&self.desc, v)?;
        match &self.shared {
            None => self.core.observe(0, v),
            Some(slots) => {
                slots.add_u64(SUMMARY_COUNT, 1);
                slots.add_f64(SUMMARY_SUM, v);
            }
        }
        Ok(())
    }

    /// The cells a binding may observe in place (see [`crate::storage::cells`]), one bucket;
    /// `None` in multi-process mode.
    pub fn cells(&self) -> Option<DistributionCells> {
        self.shared.is_none().then(|| self.core.cells())
    }

    /// A consistent `(count, sum)` pair (of this process, in multi-process mode).
    pub fn get(&self) -> (u64, f64) {
        if let Some(slots) = &self.shared {
            return (slots.get_u64(SUMMARY_COUNT), slots.get_f64(SUMMARY_SUM));
        }
        let mut count = Vec::with_capacity(1);
        let sum = self.core.snapshot(&mut count);
        (count[0], sum)
    }
}

impl Metric for Summary {
    const TYPE: MetricType = MetricType::Summary;
    type Config = ();

    fn new_series(desc: &Arc<Descriptor>, _: &()) -> Self {
        Summary {
            core: Arc::new(Core::new(1)),
            shared: None,
            desc: desc.clone(),
        }
    }

    fn new_stored_series(desc: &Arc<Descriptor>, _: &(), slots: Slots) -> Self {
        Summary {
            core: Arc::new(Core::new(0)),
            shared: Some(slots),
            desc: desc.clone(),
        }
    }

    fn with_value<R>(&self, _: &(), write: impl FnOnce(&SeriesValue<'_>) -> R) -> R {
        let (count, sum) = self.get();
        write(&SeriesValue::Summary(SummaryValue {
            count,
            sum,
            created: Some(self.core.created),
            quantiles: &[],
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn buckets_are_validated() {
        assert!(Buckets::new("h", &[]).is_err());
        assert!(Buckets::new("h", &[2.0, 1.0]).is_err());
        assert!(Buckets::new("h", &[1.0, 1.0]).is_err());
        assert!(Buckets::new("h", &[f64::NAN]).is_err());
        assert_eq!(Buckets::new("h", &[1.0, f64::INFINITY]).unwrap().bounds(), &[1.0]);
    }

    #[test]
    fn large_bucket_lists_use_the_same_rule() {
        let bounds: Vec<f64> = (1..=40).map(f64::from).collect();
        let b = Buckets::new("h", &bounds).unwrap();
        assert_eq!(b.index(1.0), 0);
        assert_eq!(b.index(1.5), 1);
        assert_eq!(b.index(40.0), 39);
        assert_eq!(b.index(41.0), 40);
    }

    #[test]
    fn a_short_bucket_list_counts_the_bounds_below_the_value() {
        let b = Buckets::new("h", &[1.0, 2.0, 4.0]).unwrap();
        assert_eq!(b.bounds(), &[1.0, 2.0, 4.0]);
        let indexes: Vec<usize> = [f64::NEG_INFINITY, -1.0, 1.0, 1.5, 2.0, 4.0, 4.5, f64::INFINITY]
            .into_iter()
            .map(|v| b.index(v))
            .collect();
        assert_eq!(indexes, vec![0, 0, 0, 1, 1, 2, 3, 3]);
        let full: Vec<f64> = (1..=16).map(f64::from).collect();
        let b = Buckets::new("h", &full).unwrap();
        assert_eq!(
            (b.index(16.0), b.index(16.5), b.index(f64::INFINITY)),
            (15, 16, 16)
        );
    }
}
