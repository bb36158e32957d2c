//! Where a histogram's observations are kept: the only place a histogram branches on
//! storage mode.
//!
//! Classic buckets alone are kept lock-free ([`HotCold`] in memory, the file's slots when
//! mapped). Native buckets are kept behind one lock with the count, sum and classic
//! buckets, so a scrape sees them all of the same observations and a reset or a schema
//! change is atomic; when mapped, every observation is mirrored in the file's slots.

use super::cells::DistributionCells;
use super::exemplar_slots;
use super::generation::fork_generation;
use super::hot_cold::HotCold;
use super::layout::SeriesLayout;
use super::native_state::{AfterObserve, NativeState};
use super::{NativeRegion, Slots};
use crate::model::{unix_now, Exemplar, MetricType, NativeBuckets, NativeSnapshot};
use parking_lot::Mutex;

/// A histogram series' storage.
#[derive(Debug)]
pub(crate) struct HistogramStore {
    backend: Backend,
    /// When the series was created (a native series in memory keeps its own, which a
    /// reset moves).
    created: f64,
}

/// A `u8` tag of its own, so telling the in-memory classic series from the others is one
/// comparison on the hot path rather than the decoding of a niche.
#[derive(Debug)]
#[repr(u8)]
enum Backend {
    /// Classic buckets in memory: lock-free, read consistently.
    InProcess(HotCold),
    /// Classic buckets and the sum in this process's mapped file.
    Mapped(MappedSeries),
    /// Native buckets with classic ones beside them, behind one lock, mirrored in the
    /// mapped file when there is one. Boxed, so classic series do not carry its size.
    Native {
        series: Box<Mutex<NativeSeries>>,
        mirror: Option<MappedSeries>,
    },
}

/// What a scrape shows of a series, besides the cumulative classic counts.
#[derive(Debug)]
pub(crate) struct HistogramReading {
    pub(crate) count: u64,
    pub(crate) sum: f64,
    pub(crate) created: f64,
    /// The native buckets of a series that keeps them in memory.
    pub(crate) native: Option<NativeSnapshot>,
}

impl HistogramStore {
    /// Storage for a histogram with `bounds` finite classic bounds (0: native buckets
    /// only) and, if `native` is given, native buckets: in `slots` of the mapped file
    /// (with an exemplar region if `exemplars_across_processes`), or in memory without
    /// them.
    pub(crate) fn new(
        slots: Option<Slots>,
        bounds: usize,
        native: Option<NativeBuckets>,
        exemplars_across_processes: bool,
    ) -> Self {
        let mapped = slots.map(|slots| MappedSeries {
            slots,
            layout: SeriesLayout::new(
                MetricType::Histogram,
                bounds,
                native.map_or(0, |n| n.capacity()),
                exemplars_across_processes,
            ),
        });
        let backend = match (native, mapped) {
            (None, None) => Backend::InProcess(HotCold::new(bounds + 1)),
            (None, Some(mapped)) => Backend::Mapped(mapped),
            (Some(native), mirror) => {
                let series = NativeSeries::new(bounds + 1, native);
                if let Some((mirror, region)) = mirror.as_ref().and_then(MappedSeries::with_region) {
                    region.write(&mirror.slots, &series.native.snapshot);
                }
                Backend::Native {
                    series: Box::new(Mutex::new(series)),
                    mirror,
                }
            }
        };
        Self {
            backend,
            created: unix_now(),
        }
    }

    /// Counts `v` in the classic bucket `index` (`+Inf` last) and in its native bucket.
    /// `on_reset` runs, under the series' lock, when the observation reset a native
    /// series (its bucket limit hit after its reset interval), for the kind to forget
    /// what it keeps of the old observations.
    #[inline]
    pub(crate) fn observe(&self, index: usize, v: f64, on_reset: impl FnOnce()) {
        match &self.backend {
            Backend::InProcess(buckets) => buckets.observe(index, v),
            Backend::Mapped(mapped) => mapped.add_classic(index, v),
            Backend::Native { series, mirror } => observe_native(series, mirror.as_ref(), index, v, on_reset),
        }
    }

    /// Keeps `exemplar` of classic bucket `index` where other processes read it, if this
    /// storage shares exemplars.
    pub(crate) fn share_exemplar(&self, index: usize, exemplar: &Exemplar) {
        let (Backend::Mapped(mapped)
        | Backend::Native {
            mirror: Some(mapped), ..
        }) = &self.backend
        else {
            return;
        };
        if let Some(at) = mapped.layout.exemplar_start() {
            exemplar_slots::write(&mapped.slots, at, index, exemplar);
        }
    }

    /// The cells a binding may observe in place: a classic series' in memory; `None` with
    /// native buckets or when mapped.
    pub(crate) fn cells(&self) -> Option<DistributionCells> {
        match &self.backend {
            Backend::InProcess(buckets) => Some(buckets.cells()),
            _ => None,
        }
    }

    /// Cumulative classic counts into `cumulative` (of this process, when mapped);
    /// returns the sum.
    pub(crate) fn classic(&self, cumulative: &mut Vec<u64>) -> f64 {
        match &self.backend {
            Backend::InProcess(buckets) => buckets.snapshot(cumulative),
            Backend::Mapped(mapped)
            | Backend::Native {
                mirror: Some(mapped), ..
            } => mapped.classic(cumulative),
            Backend::Native { series, mirror: None } => {
                let series = series.lock();
                cumulate(&series.classic, cumulative);
                series.sum
            }
        }
    }

    /// Everything a scrape shows of the series: cumulative classic counts into
    /// `cumulative`, the rest returned. A series kept in memory with native buckets
    /// reads all of it under its lock.
    pub(crate) fn read(&self, cumulative: &mut Vec<u64>) -> HistogramReading {
        if let Backend::Native { series, mirror: None } = &self.backend {
            let series = series.lock();
            cumulate(&series.classic, cumulative);
            return HistogramReading {
                count: series.count,
                sum: series.sum,
                created: series.created,
                native: Some(series.native.snapshot.clone()),
            };
        }
        let sum = self.classic(cumulative);
        HistogramReading {
            count: cumulative.last().copied().unwrap_or(0),
            sum,
            created: self.created,
            native: None,
        }
    }

    /// The native buckets, if the series keeps them.
    pub(crate) fn native_snapshot(&self) -> Option<NativeSnapshot> {
        match &self.backend {
            Backend::Native { series, .. } => Some(series.lock().native.snapshot.clone()),
            _ => None,
        }
    }
}

/// Counts `v` in the native series and, when mapped, mirrors it in the file: the classic
/// slots always, the native region by one bucket or, when the buckets changed shape,
/// whole. Never inlined: its lock and state would make every caller of
/// [`HistogramStore::observe`] save registers and set up a stack frame, the classic
/// in-memory path included.
#[inline(never)]
fn observe_native(
    series: &Mutex<NativeSeries>,
    mirror: Option<&MappedSeries>,
    index: usize,
    v: f64,
    on_reset: impl FnOnce(),
) {
    let mut series = series.lock();
    let inherited = mirror.is_some() && series.generation != fork_generation();
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
        on_reset();
        if let Some(mirror) = mirror {
            mirror.clear_classic();
        }
        series.observe(index, v);
        outcome = AfterObserve::Reshaped;
    }
    let Some((mirror, region)) = mirror.and_then(MappedSeries::with_region) else {
        return;
    };
    mirror.add_classic(index, v);
    let mirrored = match outcome {
        AfterObserve::Counted(bucket) => region.add(&mirror.slots, bucket),
        _ => false,
    };
    if !mirrored {
        region.write(&mirror.slots, &series.native.snapshot);
    }
}

/// A series' slots in the mapped file, and where each value is in them.
#[derive(Debug)]
struct MappedSeries {
    slots: Slots,
    layout: SeriesLayout,
}

impl MappedSeries {
    /// Adds one observation to the classic bucket `index` and the sum.
    #[inline]
    fn add_classic(&self, index: usize, v: f64) {
        self.slots.add_u64(index, 1);
        self.slots.add_f64(self.layout.histogram_sum(), v);
    }

    /// Classic buckets and sum back to zero (a native series' reset).
    fn clear_classic(&self) {
        (0..self.layout.buckets()).for_each(|i| self.slots.set_u64(i, 0));
        self.slots.set_f64(self.layout.histogram_sum(), 0.0);
    }

    /// Cumulative classic counts into `cumulative`; returns the sum.
    fn classic(&self, cumulative: &mut Vec<u64>) -> f64 {
        cumulative.clear();
        let mut total = 0;
        for i in 0..self.layout.buckets() {
            total += self.slots.get_u64(i);
            cumulative.push(total);
        }
        self.slots.get_f64(self.layout.histogram_sum())
    }

    /// These slots and their native region, if the series has one.
    fn with_region(&self) -> Option<(&Self, NativeRegion)> {
        let region = NativeRegion {
            start: self.layout.native_start()?,
            capacity: self.layout.native_capacity(),
        };
        Some((self, region))
    }
}

/// A histogram with native buckets, behind the store's lock.
#[derive(Debug)]
struct NativeSeries {
    count: u64,
    sum: f64,
    /// Per-bucket classic counts, `+Inf` last (one bucket for a native-only histogram).
    classic: Vec<u64>,
    native: NativeState,
    created: f64,
    /// The fork generation this state belongs to (see [`fork_generation`]).
    generation: u64,
}

impl NativeSeries {
    fn new(buckets: usize, native: NativeBuckets) -> Self {
        NativeSeries {
            count: 0,
            sum: 0.0,
            classic: vec![0; buckets],
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

/// Per-bucket counts to cumulative ones.
fn cumulate(buckets: &[u64], cumulative: &mut Vec<u64>) {
    cumulative.clear();
    let mut total = 0;
    cumulative.extend(buckets.iter().map(|n| {
        total += n;
        total
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;
    use std::time::Duration;

    fn slots(len: usize) -> Slots {
        let words: Vec<AtomicU64> = (0..len).map(|_| AtomicU64::new(0)).collect();
        Slots::new(Box::leak(words.into_boxed_slice()), false)
    }

    #[test]
    fn a_mapped_series_counts_its_bucket_and_sum_where_the_layout_says() {
        let layout = SeriesLayout::new(MetricType::Histogram, 2, 0, false);
        let slots = slots(layout.len());
        let store = HistogramStore::new(Some(slots), 2, None, false);
        store.observe(1, 2.5, || unreachable!("a classic series never resets"));
        store.observe(2, 4.0, || unreachable!("a classic series never resets"));
        let words: Vec<u64> = (0..layout.buckets()).map(|i| slots.get_u64(i)).collect();
        assert_eq!(words, vec![0, 1, 1]);
        assert_eq!(slots.get_f64(layout.histogram_sum()), 6.5);
        let mut cumulative = Vec::new();
        assert_eq!(store.classic(&mut cumulative), 6.5);
        assert_eq!(cumulative, vec![0, 1, 2]);
        assert!(store.cells().is_none(), "a file slot is no in-memory cell");
    }

    #[test]
    fn a_native_series_past_its_limit_and_reset_interval_starts_over_and_says_so() {
        let settings = NativeBuckets::new()
            .max_buckets(1)
            .reset_after(Duration::from_millis(1));
        let store = HistogramStore::new(None, 0, Some(settings), false);
        store.observe(0, 1.0, || unreachable!("one bucket is within the limit"));
        std::thread::sleep(Duration::from_millis(2));
        let mut reset = false;
        store.observe(0, 100.0, || reset = true);
        assert!(reset);
        let reading = store.read(&mut Vec::new());
        assert_eq!((reading.count, reading.sum), (1, 100.0));
        let native = reading
            .native
            .expect("a native series in memory shows its buckets");
        assert_eq!(native.positive.iter().map(|(_, n)| n).sum::<u64>(), 1);
    }

    #[test]
    fn a_mapped_native_series_mirrors_its_buckets_in_the_region() {
        let settings = NativeBuckets::new();
        let layout = SeriesLayout::new(MetricType::Histogram, 1, settings.capacity(), false);
        let slots = slots(layout.len());
        let store = HistogramStore::new(Some(slots), 1, Some(settings), false);
        for v in [0.5, 3.0, 3.0] {
            store.observe(usize::from(v > 1.0), v, || {});
        }
        let region = NativeRegion {
            start: layout.native_start().unwrap(),
            capacity: layout.native_capacity(),
        };
        let mirrored = crate::storage::native_slots::read(&|i| slots.get_u64(i), region);
        assert_eq!(Some(mirrored), store.native_snapshot());
        let mut cumulative = Vec::new();
        assert_eq!(store.classic(&mut cumulative), 6.5);
        assert_eq!(cumulative, vec![1, 3]);
    }
}
