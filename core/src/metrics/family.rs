//! A metric family: one descriptor, and a series per distinct set of label values.
//!
//! Series are found by their full label values (a hash only picks the bucket; equality is
//! checked on the values), so two label sets never share a series. The series are split
//! into shards, each behind its own read-write lock on its own cache line, so threads
//! updating different series rarely touch the same lock word. Each shard keeps its series
//! in insertion order with their label values packed together ([`SeriesTable`]), so a
//! render reads memory in address order and its cost grows linearly with the series. No
//! lock guard ever leaves this module: callers get an owned handle or a closure runs under
//! the read lock.
//!
//! A family keeps at most its series limit of label sets (CONTRACT section 4): a client
//! that can choose a label value (a `Host` header, a path) must not be able to grow the
//! scrape without bound. Label sets beyond the limit share one overflow series, whose
//! every label is [`OVERFLOW_LABEL_VALUE`], and each refusal is counted in
//! `gds_metrics_series_refused_total{family="<name>"}`.

use super::series_table::SeriesTable;
use super::Metric;
use crate::error::Result;
use crate::exposition::Encoder;
use crate::metrics::self_metrics::LazyCounter;
use crate::model::Descriptor;
use crate::multiprocess::FamilyStore;
use parking_lot::RwLock;
use parking_lot::RwLockReadGuard;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::atomic::AtomicU64;
use std::sync::atomic::{AtomicUsize, Ordering::AcqRel, Ordering::Acquire, Ordering::Relaxed};
use std::sync::Arc;

const SHARDS: usize = 16;

/// Series a render writes per acquisition of the shard locks: enough that taking 16 locks
/// costs nothing per series, few enough (well under a millisecond) that a thread adding a
/// series, and the lookups queued behind it, never wait long for a scrape.
const RENDER_CHUNK: usize = 4096;

/// The label sets a family keeps unless told otherwise.
pub const DEFAULT_SERIES_LIMIT: usize = 2000;

/// The value of every label of a family's overflow series.
pub const OVERFLOW_LABEL_VALUE: &str = "__overflow__";

/// How many label sets a family keeps, and where it counts the ones it refuses.
#[derive(Debug, Clone)]
pub(crate) struct SeriesLimit {
    pub(crate) max: usize,
    pub(crate) refusals: Arc<LazyCounter>,
}

/// A shard on cache lines of its own (128 bytes covers the adjacent-line prefetcher), so
/// taking one shard's lock never invalidates the line of another's.
#[repr(align(128))]
struct Shard<M>(RwLock<SeriesTable<M>>);

struct Inner<M: Metric> {
    desc: Arc<Descriptor>,
    config: M::Config,
    /// The series of a family without labels, created up front so it is exposed at zero
    /// and reached without a lookup.
    solo: Option<M>,
    shards: Box<[Shard<M>; SHARDS]>,
    /// Where new series get their slots in multi-process mode.
    store: Option<FamilyStore>,
    /// `None` for the library's own families, whose label values it chooses itself.
    limit: Option<SeriesLimit>,
    /// The family's label count, beside the descriptor so the check on every lookup is
    /// one comparison.
    label_count: usize,
    /// Label sets held, the overflow series included: at most the limit plus one.
    len: AtomicUsize,
    /// The insertion number of the next new series, across shards.
    next_seq: AtomicU64,
}

/// A family of series of one metric kind, told apart by label values.
///
/// ```
/// use gds_metrics::{Counter, Opts, Registry};
/// let registry = Registry::new();
/// let jobs = registry.counter(Opts::new("jobs", "Jobs done.").labels(["queue"]))?;
/// jobs.labels(&["email"])?.inc();
/// jobs.with(&["sms"], |c| c.inc_by(2))?;
/// # Ok::<(), gds_metrics::Error>(())
/// ```
pub struct Family<M: Metric> {
    inner: Arc<Inner<M>>,
}

impl<M: Metric> Clone for Family<M> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<M: Metric> std::fmt::Debug for Family<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Family")
            .field("name", &self.inner.desc.name())
            .finish_non_exhaustive()
    }
}

impl<M: Metric> Family<M> {
    /// A family for `desc`, whose type must be `M::TYPE`.
    #[cfg(test)]
    pub(crate) fn new(desc: Descriptor, config: M::Config) -> Self {
        Self::with_store(desc, config, None, None)
    }

    /// A family whose series live in a multi-process file when `store` is given, holding
    /// at most `limit` label sets.
    pub(crate) fn with_store(
        desc: Descriptor,
        config: M::Config,
        store: Option<FamilyStore>,
        limit: Option<SeriesLimit>,
    ) -> Self {
        debug_assert_eq!(desc.kind(), M::TYPE);
        let desc = Arc::new(desc);
        let solo = desc
            .label_names()
            .is_empty()
            .then(|| new_series::<M, &str>(&desc, &config, store.as_ref(), &[]));
        let label_count = desc.label_names().len();
        let shards = Box::new(std::array::from_fn(|_| {
            Shard(RwLock::new(SeriesTable::new(label_count)))
        }));
        Self {
            inner: Arc::new(Inner {
                desc,
                config,
                solo,
                shards,
                store,
                limit,
                label_count,
                len: AtomicUsize::new(0),
                next_seq: AtomicU64::new(0),
            }),
        }
    }

    /// The family's definition.
    pub fn descriptor(&self) -> &Descriptor {
        &self.inner.desc
    }

    /// The settings shared by the family's series (the buckets of a histogram).
    pub fn config(&self) -> &M::Config {
        &self.inner.config
    }

    /// The series of a family without labels. For a labelled family this is an error
    /// naming the expected labels.
    pub fn get(&self) -> Result<M> {
        match &self.inner.solo {
            Some(series) => Ok(series.clone()),
            None => self.check_label_count(0).map(|_| unreachable!()),
        }
    }

    /// The series for `values` (in label-name order), created at zero if new. Keep the
    /// handle for hot loops: using it costs no lookup.
    pub fn labels<V: AsRef<str>>(&self, values: &[V]) -> Result<M> {
        self.with(values, M::clone)
    }

    /// Runs `f` on the series for `values`, created if new, without cloning a handle.
    #[inline]
    pub fn with<V: AsRef<str>, R>(&self, values: &[V], f: impl FnOnce(&M) -> R) -> Result<R> {
        if let Some(series) = &self.inner.solo {
            self.check_label_count(values.len())?;
            return Ok(f(series));
        }
        self.check_label_count(values.len())?;
        let hash = hash_values(values);
        if let Some(series) = self.shard(hash).read().find(hash, values) {
            return Ok(f(series));
        }
        Ok(f(&self.insert(hash, values).0))
    }

    /// The series for `values` and whether it is theirs: `false` when the family was full
    /// and refused the label set into its overflow series (counting the refusal). A binding
    /// that caches series by label values caches only its own ones, so the cache stays
    /// within the series limit and each later use of a refused label set is counted again.
    pub fn labels_kept<V: AsRef<str>>(&self, values: &[V]) -> Result<(M, bool)> {
        self.check_label_count(values.len())?;
        if let Some(series) = &self.inner.solo {
            return Ok((series.clone(), true));
        }
        let hash = hash_values(values);
        if let Some(series) = self.shard(hash).read().find(hash, values) {
            return Ok((series.clone(), true));
        }
        Ok(self.insert(hash, values))
    }

    #[inline]
    fn check_label_count(&self, got: usize) -> Result<()> {
        if got == self.inner.label_count {
            return Ok(());
        }
        self.wrong_label_count(got)
    }

    /// The error naming the expected labels, out of the lookup's way.
    #[cold]
    #[inline(never)]
    fn wrong_label_count(&self, got: usize) -> Result<()> {
        self.inner.desc.check_label_count(got)
    }

    #[inline]
    fn shard(&self, hash: u64) -> &RwLock<SeriesTable<M>> {
        &self.inner.shards[shard_of(hash)].0
    }

    /// A new label set's series, and whether it is theirs (see [`Family::labels_kept`]).
    #[cold]
    fn insert<V: AsRef<str>>(&self, hash: u64, values: &[V]) -> (M, bool) {
        if self.is_full() {
            return (self.overflow(values.len()), false);
        }
        (self.insert_values(hash, values), true)
    }

    /// Whether a new label set must go to the overflow series.
    fn is_full(&self) -> bool {
        let inner = &*self.inner;
        inner
            .limit
            .as_ref()
            .is_some_and(|limit| inner.len.load(Relaxed) >= limit.max)
    }

    /// The overflow series, created on the first refusal; counts the refusal.
    fn overflow(&self, label_count: usize) -> M {
        if let Some(limit) = &self.inner.limit {
            limit.refusals.inc(self.inner.desc.name());
        }
        let values = vec![OVERFLOW_LABEL_VALUE; label_count];
        self.insert_values(hash_values(&values), &values)
    }

    fn insert_values<V: AsRef<str>>(&self, hash: u64, values: &[V]) -> M {
        let mut shard = self.shard(hash).write();
        if let Some(series) = shard.find(hash, values) {
            return series.clone();
        }
        let inner = &*self.inner;
        let series: M = new_series(&inner.desc, &inner.config, inner.store.as_ref(), values);
        // Taken under the shard's write lock, so numbers rise along each shard.
        let seq = inner.next_seq.fetch_add(1, AcqRel);
        shard.insert(seq, hash, values, series.clone());
        inner.len.fetch_add(1, Relaxed);
        series
    }

    /// Removes the series for `values`; returns whether it existed. Handles to it keep
    /// working but are no longer exposed.
    pub fn remove<V: AsRef<str>>(&self, values: &[V]) -> Result<bool> {
        self.check_label_count(values.len())?;
        let hash = hash_values(values);
        let removed = self.shard(hash).write().remove(hash, values);
        if removed {
            self.inner.len.fetch_sub(1, Relaxed);
        }
        Ok(removed)
    }

    /// Removes every labelled series.
    pub fn clear(&self) {
        for Shard(shard) in self.inner.shards.iter() {
            let mut shard = shard.write();
            self.inner.len.fetch_sub(shard.len(), Relaxed);
            shard.clear();
        }
    }

    /// The number of label sets held (the overflow series included).
    pub fn series_count(&self) -> usize {
        self.inner.len.load(Relaxed)
    }

    /// Calls `f` with the label values and handle of every series (for adapters such as
    /// the multi-process store; rendering uses [`Family::encode`]).
    pub fn for_each(&self, mut f: impl FnMut(&[&str], &M)) {
        if let Some(series) = &self.inner.solo {
            f(&[], series);
        }
        for Shard(shard) in self.inner.shards.iter() {
            shard.read().for_each(&mut f);
        }
    }

    /// Writes the family: header, then every series in insertion order (see
    /// [`Family::in_insertion_order`]).
    pub fn encode(&self, encoder: &mut Encoder<'_>) {
        let config = &self.inner.config;
        let mut family = encoder.family(&self.inner.desc);
        if let Some(series) = &self.inner.solo {
            series.with_value(config, |value| family.series::<&str>(&[], None, value));
        }
        self.in_insertion_order(|values, series| {
            series.with_value(config, |value| family.series(values, None, value));
        });
    }

    /// Calls `f` for every labelled series in the order they were added, merging the
    /// shards. Series were allocated in that order too, so the walk reads their cells at
    /// rising addresses, as the hardware prefetcher likes; shard by shard it would jump
    /// 16 series ahead each time. The locks are taken for [`RENDER_CHUNK`] series at a
    /// time. Only series numbered below the count at the start are visited: one added
    /// meanwhile waits for the next render, so a label set removed and added again between
    /// two chunks (under a new number) cannot be written twice; a removed one is not
    /// visited once gone. Every series that lives through the walk is visited once.
    fn in_insertion_order(&self, mut f: impl FnMut(&[&str], &M)) {
        // Acquire: pairs with the `AcqRel` numbering of inserts, whose shard lock a chunk
        // then waits for, so every number below `end` is in its shard when visited.
        let end = self.inner.next_seq.load(Acquire);
        let mut from = 0;
        while let Some(next) = self.visit_chunk(from, end, &mut f) {
            from = next;
        }
    }

    /// Visits up to [`RENDER_CHUNK`] series numbered from `from` up to `end` (excluded),
    /// oldest first, under every shard's read lock; returns the number to go on from, or
    /// `None` when done.
    fn visit_chunk(&self, from: u64, end: u64, f: &mut impl FnMut(&[&str], &M)) -> Option<u64> {
        let tables: [RwLockReadGuard<'_, SeriesTable<M>>; SHARDS] =
            std::array::from_fn(|i| self.inner.shards[i].0.read());
        let mut pos: [usize; SHARDS] = std::array::from_fn(|i| tables[i].position_of(from));
        let mut oldest = Oldest::new(std::array::from_fn(|i| tables[i].seq_at(pos[i])));
        let mut values = Vec::with_capacity(self.inner.desc.label_names().len());
        let mut next = from;
        for _ in 0..RENDER_CHUNK {
            let (shard, seq) = oldest.get().filter(|&(_, seq)| seq < end)?;
            let table = &tables[shard];
            table.visit(pos[shard], &mut values, f);
            next = seq + 1;
            pos[shard] += 1;
            oldest.replace(shard, table.seq_at(pos[shard]));
        }
        Some(next)
    }
}

/// Which shard's next series is the oldest: a tournament tree over the shards' next
/// insertion numbers, so replacing one shard's entry costs four comparisons rather than a
/// scan of all sixteen. Each key is `seq << 4 | shard` (the numbers stay far below 2^60),
/// `u64::MAX` for a shard with no series left.
struct Oldest {
    /// Node `i` holds the smaller key of nodes `2i` and `2i + 1`; the leaves are
    /// `SHARDS..2 * SHARDS`, the winner is node 1.
    tree: [u64; 2 * SHARDS],
}

const SHARD_BITS: u32 = SHARDS.trailing_zeros();

impl Oldest {
    fn new(heads: [Option<u64>; SHARDS]) -> Self {
        let mut tree = [u64::MAX; 2 * SHARDS];
        for (shard, head) in heads.into_iter().enumerate() {
            tree[SHARDS + shard] = Self::key(shard, head);
        }
        for node in (1..SHARDS).rev() {
            tree[node] = tree[2 * node].min(tree[2 * node + 1]);
        }
        Self { tree }
    }

    fn key(shard: usize, seq: Option<u64>) -> u64 {
        seq.map_or(u64::MAX, |seq| seq << SHARD_BITS | shard as u64)
    }

    /// The shard holding the oldest next series and its number, or `None` when all are done.
    #[inline]
    fn get(&self) -> Option<(usize, u64)> {
        let key = self.tree[1];
        (key != u64::MAX).then_some(((key as usize) & (SHARDS - 1), key >> SHARD_BITS))
    }

    /// Sets `shard`'s next series number (`None`: it has no more).
    #[inline]
    fn replace(&mut self, shard: usize, seq: Option<u64>) {
        let mut node = SHARDS + shard;
        self.tree[node] = Self::key(shard, seq);
        while node > 1 {
            node /= 2;
            self.tree[node] = self.tree[2 * node].min(self.tree[2 * node + 1]);
        }
    }
}

/// A series at zero, in the multi-process file when the family has a store with room.
fn new_series<M: Metric, V: AsRef<str>>(
    desc: &Arc<Descriptor>,
    config: &M::Config,
    store: Option<&FamilyStore>,
    values: &[V],
) -> M {
    match store.and_then(|s| s.slots(values)) {
        Some(slots) => M::new_stored_series(desc, config, slots),
        None => M::new_series(desc, config),
    }
}

/// One fixed-seed hasher for the process, over the values element by element (`str`'s
/// `Hash` ends each with a marker, so `["ab", "c"]` and `["a", "bc"]` differ). The count
/// is not hashed: every label set of a family has the same one.
#[inline]
fn hash_values<V: AsRef<str>>(values: &[V]) -> u64 {
    let mut hasher = foldhash::fast::FixedState::default().build_hasher();
    for v in values {
        v.as_ref().hash(&mut hasher);
    }
    hasher.finish()
}

/// The shard of a hash, from bits the shard's own table does not use: hashbrown takes its
/// 7-bit tags from the top bits and its bucket from the bottom ones, so the top bits would
/// leave every entry of a shard sharing most of its tag and make lookups compare more
/// entries.
#[inline]
fn shard_of(hash: u64) -> usize {
    (hash >> 32) as usize % SHARDS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MetricType;
    use crate::{Counter, Opts};

    fn family(labels: &[&str]) -> Family<Counter> {
        let desc = Opts::new("c", "h")
            .labels(labels.iter().copied())
            .into_descriptor(MetricType::Counter)
            .unwrap();
        Family::new(desc, ())
    }

    #[test]
    fn different_label_sets_never_share_a_series() {
        let f = family(&["a", "b"]);
        f.labels(&["x", "yz"]).unwrap().inc();
        f.labels(&["xy", "z"]).unwrap().inc_by(5);
        assert_eq!(f.labels(&["x", "yz"]).unwrap().get(), 1.0);
        assert_eq!(f.labels(&["xy", "z"]).unwrap().get(), 5.0);
    }

    #[test]
    fn handles_share_the_series() {
        let f = family(&["a"]);
        let h = f.labels(&["x"]).unwrap();
        h.inc();
        f.with(&["x"], |c| c.inc()).unwrap();
        assert_eq!(h.get(), 2.0);
    }

    #[test]
    fn remove_and_clear_forget_series() {
        let f = family(&["a"]);
        f.labels(&["x"]).unwrap().inc();
        assert!(f.remove(&["x"]).unwrap());
        assert!(!f.remove(&["x"]).unwrap());
        assert_eq!(f.labels(&["x"]).unwrap().get(), 0.0);
        f.clear();
        let mut n = 0;
        f.for_each(|_, _| n += 1);
        assert_eq!(n, 0);
    }

    #[test]
    fn series_are_written_in_insertion_order_across_shards() {
        let f = family(&["a"]);
        // Unique keys in no sorted order, over more than one render chunk.
        let keys: Vec<String> = (0..2 * RENDER_CHUNK + 7)
            .map(|i| format!("k{}", (i * 7919) % 100_003))
            .collect();
        keys.iter().for_each(|k| f.labels(&[k]).unwrap().inc());
        let mut seen = Vec::new();
        f.in_insertion_order(|v, _| seen.push(v[0].to_owned()));
        assert_eq!(seen, keys);
    }

    #[test]
    fn a_walk_resumed_after_changes_visits_every_survivor_once() {
        let f = family(&["a"]);
        let key = |i: usize| format!("k{i}");
        (0..RENDER_CHUNK + 100).for_each(|i| f.labels(&[key(i)]).unwrap().inc());
        let end = f.inner.next_seq.load(Relaxed);
        let mut seen = Vec::new();
        let next = f.visit_chunk(0, end, &mut |v, _| seen.push(v[0].to_owned()));
        assert_eq!(next, Some(RENDER_CHUNK as u64));
        // Between two chunks: one visited series and one not yet visited go, one comes,
        // and a visited one goes and comes back.
        assert!(f.remove(&[key(10)]).unwrap());
        assert!(f.remove(&[key(RENDER_CHUNK + 50)]).unwrap());
        assert!(f.remove(&[key(20)]).unwrap());
        f.labels(&[key(20)]).unwrap();
        f.labels(&["late"]).unwrap();
        let mut from = next;
        while let Some(next) =
            from.and_then(|n| f.visit_chunk(n, end, &mut |v, _| seen.push(v[0].to_owned())))
        {
            from = Some(next);
        }
        let expected: Vec<String> = (0..RENDER_CHUNK + 100)
            .filter(|&i| i != RENDER_CHUNK + 50)
            .map(key)
            .collect();
        assert_eq!(seen, expected, "each once, the late ones left for the next walk");
        let mut next_walk = Vec::new();
        f.in_insertion_order(|v, _| next_walk.push(v[0].to_owned()));
        assert_eq!(next_walk.last().map(String::as_str), Some("late"));
    }

    #[test]
    fn the_oldest_shard_wins() {
        let mut heads = [None; SHARDS];
        heads[3] = Some(9);
        heads[7] = Some(2);
        heads[15] = Some(5);
        let mut oldest = Oldest::new(heads);
        assert_eq!(oldest.get(), Some((7, 2)));
        oldest.replace(7, None);
        assert_eq!(oldest.get(), Some((15, 5)));
        oldest.replace(15, Some(12));
        assert_eq!(oldest.get(), Some((3, 9)));
        oldest.replace(3, None);
        oldest.replace(15, None);
        assert_eq!(oldest.get(), None);
    }

    #[test]
    fn labels_kept_says_which_label_sets_were_refused() {
        let desc = Opts::new("c", "h")
            .labels(["a"])
            .into_descriptor(MetricType::Counter)
            .unwrap();
        let limit = SeriesLimit {
            max: 1,
            refusals: Arc::new(LazyCounter::new("refused", "Refusals.", "family", None)),
        };
        let f: Family<Counter> = Family::with_store(desc, (), None, Some(limit));
        assert!(f.labels_kept(&["x"]).unwrap().1);
        assert!(f.labels_kept(&["x"]).unwrap().1);
        let (overflow, kept) = f.labels_kept(&["y"]).unwrap();
        assert!(!kept);
        overflow.inc();
        assert_eq!(f.labels(&[OVERFLOW_LABEL_VALUE]).unwrap().get(), 1.0);
        assert!(f.labels_kept::<&str>(&[]).is_err());
    }

    #[test]
    fn wrong_label_counts_are_errors() {
        assert!(family(&["a"]).labels::<&str>(&[]).is_err());
        assert!(family(&[]).labels(&["x"]).is_err());
        assert!(family(&["a"]).get().is_err());
        assert!(family(&[]).get().is_ok());
    }
}
