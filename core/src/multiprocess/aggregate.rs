//! Combining the series of many files into one set of families.
//!
//! The same rules serve the scrape (archive + every file) and the fold (archive + dead
//! files, written back as the new archive), so what a scrape shows never changes when a
//! dead worker's file is folded away.
//!
//! A series is matched by its label values as the files encode them (the same values are
//! the same bytes), hashed with foldhash, and its values copied once into its family: a
//! file's series are borrowed from its mapping, never copied per scrape.

use super::format::{self, FamilyDef, Parsed, RecordWriter, Role, SeriesDef, HEADER_LEN};
use super::gauge_mode::GaugeMode;
use crate::model::{Descriptor, MetricType, Opts};
use crate::model::{Exemplar, FamilySink, HistogramValue, NativeSnapshot, SeriesValue, SummaryValue};
use crate::storage::layout::{self as slot, SeriesLayout, EXEMPLAR_LEN};
use crate::storage::{exemplar_slots, native_slots, NativeRegion};
use foldhash::fast::FixedState;
use hashbrown::HashTable;
use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::Ordering;

/// Where a file's series come from, which decides what `live` gauges do with them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// A running process (or this one).
    Live,
    /// An exited process, being folded.
    Dead,
    /// The archive of folded processes.
    Archive,
}

/// One series' combined value.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Counter(f64),
    Gauge {
        value: f64,
        stamp: f64,
    },
    Histogram {
        buckets: Vec<u64>,
        sum: f64,
        native: Option<NativeSnapshot>,
    },
    Summary {
        count: u64,
        sum: f64,
    },
    Info,
}

/// One series of a family: its label values, encoded as files hold them, in the family's
/// `keys`, and for an `all`/`liveall` gauge the process.
#[derive(Debug, Clone, Copy)]
struct SeriesKey {
    at: u32,
    len: u32,
    pid: Option<u32>,
}

struct FamilyAgg {
    def: FamilyDef,
    /// The label values of every series, one after another: one copy per series for the
    /// aggregate's life, however many files and scrapes hold it.
    keys: Vec<u8>,
    series: Vec<SeriesKey>,
    /// Series indices by their key's hash (foldhash over the encoded values and pid).
    table: HashTable<u32>,
    values: Vec<Value>,
    /// Whether `values[i]` holds a contribution of this round yet.
    seen: Vec<bool>,
    /// The newest exemplar of each classic bucket (one slot for a counter) of each series,
    /// over every file; empty for a series without any.
    exemplars: Vec<Vec<Option<Exemplar>>>,
    /// Series indices in label-value order, for stable output; stale when shorter than
    /// `series`.
    order: Vec<u32>,
}

impl FamilyAgg {
    fn new(def: &FamilyDef) -> FamilyAgg {
        FamilyAgg {
            def: def.clone(),
            keys: Vec::new(),
            series: Vec::new(),
            table: HashTable::new(),
            values: Vec::new(),
            seen: Vec::new(),
            exemplars: Vec::new(),
            order: Vec::new(),
        }
    }

    fn key(&self, i: u32) -> &[u8] {
        let key = self.series[i as usize];
        &self.keys[key.at as usize..(key.at + key.len) as usize]
    }

    /// The index of the series with encoded values `raw` (and `pid`), added if new.
    /// `None` if the values are not UTF-8 once copied (a file changed under the reader)
    /// or the family outgrew the index type.
    fn intern(&mut self, raw: &[u8], pid: Option<u32>) -> Option<u32> {
        let hash = key_hash(raw, pid);
        let found = self.table.find(hash, |&i| {
            self.series[i as usize].pid == pid && {
                let key = self.series[i as usize];
                &self.keys[key.at as usize..(key.at + key.len) as usize] == raw
            }
        });
        if let Some(&i) = found {
            return Some(i);
        }
        let at = u32::try_from(self.keys.len()).ok()?;
        let len = u32::try_from(raw.len()).ok()?;
        let index = u32::try_from(self.series.len()).ok()?;
        at.checked_add(len)?;
        self.keys.extend_from_slice(raw);
        let copied = &self.keys[at as usize..];
        if !format::split_values(copied).all(|v| format::utf8(v).is_some()) {
            self.keys.truncate(at as usize);
            return None;
        }
        self.series.push(SeriesKey { at, len, pid });
        self.values.push(Value::Info);
        self.seen.push(false);
        self.exemplars.push(Vec::new());
        let (keys, series) = (&self.keys, &self.series);
        self.table.insert_unique(hash, index, |&i| {
            let key = series[i as usize];
            key_hash(&keys[key.at as usize..(key.at + key.len) as usize], key.pid)
        });
        Some(index)
    }

    /// Keeps `exemplar` of `bucket` for `series` if it is newer than the one there.
    fn offer_exemplar(&mut self, series: u32, bucket: usize, exemplar: Exemplar) {
        let buckets = match self.def.kind {
            MetricType::Histogram => self.def.bounds.len() + 1,
            _ => 1,
        };
        if bucket >= buckets {
            return;
        }
        let slots = &mut self.exemplars[series as usize];
        if slots.is_empty() {
            slots.resize(buckets, None);
        }
        let newer = slots[bucket]
            .as_ref()
            .is_none_or(|old| exemplar.timestamp() >= old.timestamp());
        if newer {
            slots[bucket] = Some(exemplar);
        }
    }

    /// Folds the value of `series` in the file `bytes` (whose definition is `def`) into
    /// the aggregate's: the first of a round is taken as it is. Counters, the most common
    /// series, are added in place.
    fn contribute(&mut self, index: u32, def: &FamilyDef, bytes: &[u8], series: &SeriesDef) {
        let i = index as usize;
        let first = !std::mem::replace(&mut self.seen[i], true);
        if def.kind == MetricType::Counter {
            let slots = format::slots(bytes, series);
            let word = |k: usize| slots.get(k).map_or(0, |w| w.load(Ordering::Relaxed));
            let total = word(slot::COUNTER_WHOLE) as f64 + f64::from_bits(word(slot::COUNTER_FRACTION));
            match &mut self.values[i] {
                Value::Counter(sum) if !first => *sum += total,
                value => *value = Value::Counter(total),
            }
            return;
        }
        let value = read_value(def, bytes, series);
        if first {
            self.values[i] = value;
        } else {
            combine(&mut self.values[i], value, self.def.mode);
        }
    }

    /// Brings `order` up to date with the series added since it was sorted.
    fn sort(&mut self) {
        if self.order.len() == self.series.len() {
            return;
        }
        let mut order: Vec<u32> = (0..self.series.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| {
            format::split_values(self.key(a))
                .cmp(format::split_values(self.key(b)))
                .then(self.series[a as usize].pid.cmp(&self.series[b as usize].pid))
        });
        self.order = order;
    }

    /// The label values of `series`, into `values`.
    fn values_of<'k>(&'k self, series: u32, values: &mut Vec<&'k str>) {
        values.clear();
        // SAFETY: `intern` keeps only keys whose values are UTF-8, checked on the copy in
        // `keys`, which nothing writes afterwards.
        values.extend(
            format::split_values(self.key(series)).map(|v| unsafe { std::str::from_utf8_unchecked(v) }),
        );
    }
}

fn key_hash(raw: &[u8], pid: Option<u32>) -> u64 {
    let mut hasher = FixedState::default().build_hasher();
    hasher.write(raw);
    hasher.write_u32(pid.map_or(0, |p| p.wrapping_add(1)));
    hasher.finish()
}

/// Where one series of a file goes in the aggregate.
#[derive(Debug, Clone, Copy)]
struct Contribution {
    family: u32,
    series: u32,
    /// Its index in the file's parsed series.
    record: u32,
}

/// How one file's series map onto an aggregate, kept with the file between scrapes so
/// that reading it again only matches the records it gained.
#[derive(Debug)]
pub(crate) struct FilePlan {
    source: Source,
    /// For each family of the file, the aggregate's family its series go to (`None`:
    /// it contradicts the family of that name seen first).
    families: Vec<Option<u32>>,
    contributions: Vec<Contribution>,
    /// How many of the file's series have been matched.
    matched: usize,
}

impl FilePlan {
    pub(crate) fn new(source: Source) -> FilePlan {
        FilePlan {
            source,
            families: Vec::new(),
            contributions: Vec::new(),
            matched: 0,
        }
    }

    /// What kind of file the plan is for.
    pub(crate) fn source(&self) -> Source {
        self.source
    }
}

/// Families combined from any number of files.
///
/// Building one has two steps per file: matching ([`Aggregate::match_file`]) finds, once,
/// which series of the aggregate each series of the file adds to; accumulating
/// ([`Aggregate::accumulate`]) reads the file's slots into them. A scrape that finds the
/// same files as the last one only accumulates again (after [`Aggregate::begin_round`]).
#[derive(Default)]
pub(crate) struct Aggregate {
    families: Vec<FamilyAgg>,
    by_name: BTreeMap<String, u32>,
}

impl Aggregate {
    /// Matches and accumulates every family and series of a parsed file whose bytes are
    /// `bytes`. Families that contradict one already seen (another type, labels or
    /// buckets) are skipped and reported through `warn`.
    pub(crate) fn add(
        &mut self,
        parsed: &Parsed,
        bytes: &[u8],
        source: Source,
        warn: &mut dyn FnMut(String),
    ) {
        let mut plan = FilePlan::new(source);
        self.match_file(&mut plan, parsed, bytes, warn);
        self.accumulate(&plan, parsed, bytes);
    }

    /// Extends `plan` with the families and series `parsed` gained since it was matched.
    pub(crate) fn match_file(
        &mut self,
        plan: &mut FilePlan,
        parsed: &Parsed,
        bytes: &[u8],
        warn: &mut dyn FnMut(String),
    ) {
        for def in &parsed.families[plan.families.len()..] {
            let admitted = self.admit(def, warn);
            plan.families.push(admitted);
        }
        for (record, series) in parsed.series.iter().enumerate().skip(plan.matched) {
            if let Some(contribution) = self.match_series(plan, parsed, bytes, series) {
                plan.contributions.push(Contribution {
                    record: record as u32,
                    ..contribution
                });
            }
        }
        plan.matched = parsed.series.len();
    }

    fn match_series(
        &mut self,
        plan: &FilePlan,
        parsed: &Parsed,
        bytes: &[u8],
        series: &SeriesDef,
    ) -> Option<Contribution> {
        let family_index = plan.families[series.family]?;
        let family = &mut self.families[family_index as usize];
        let mode = family.def.mode;
        let gauge = family.def.kind == MetricType::Gauge;
        if gauge && mode.live_only() && plan.source != Source::Live {
            return None;
        }
        let pid = match series.origin_pid {
            0 => parsed.pid,
            origin => origin,
        };
        let pid = (gauge && mode.per_process()).then_some(pid);
        let index = family.intern(series.raw_values(bytes), pid)?;
        Some(Contribution {
            family: family_index,
            series: index,
            record: 0,
        })
    }

    /// Starts a new reading of the same files: every series waits for its first value.
    pub(crate) fn begin_round(&mut self) {
        for family in &mut self.families {
            family.seen.fill(false);
            family.exemplars.iter_mut().for_each(Vec::clear);
        }
    }

    /// Reads the slots of the series `plan` matched from `bytes` into the aggregate.
    pub(crate) fn accumulate(&mut self, plan: &FilePlan, parsed: &Parsed, bytes: &[u8]) {
        for c in &plan.contributions {
            let series = &parsed.series[c.record as usize];
            let def = &parsed.families[series.family];
            let family = &mut self.families[c.family as usize];
            // The file's own definition says where its exemplars are: a process may
            // keep none where another keeps them.
            if let Some(start) = format::exemplar_start(def) {
                let slots = format::slots(bytes, series);
                let word = |i: usize| slots.get(i).map_or(0, |w| w.load(Ordering::Relaxed));
                if let Some((bucket, exemplar)) = exemplar_slots::read(&word, start) {
                    family.offer_exemplar(c.series, bucket, exemplar);
                }
            }
            family.contribute(c.series, def, bytes, series);
        }
    }

    /// Registers `def` unless it contradicts the family of that name seen first; returns
    /// the family's index.
    fn admit(&mut self, def: &FamilyDef, warn: &mut dyn FnMut(String)) -> Option<u32> {
        let index = match self.by_name.get(&def.name) {
            Some(&index) => index,
            None => {
                let index = self.families.len() as u32;
                self.families.push(FamilyAgg::new(def));
                self.by_name.insert(def.name.clone(), index);
                index
            }
        };
        let seen = &self.families[index as usize].def;
        let fits = seen.kind == def.kind
            && seen.labels == def.labels
            && seen.bounds == def.bounds
            && seen.native_capacity == def.native_capacity;
        if !fits {
            warn(format!(
                "metric `{}` is defined differently by two processes (type, labels or buckets); \
                 the second definition is ignored",
                def.name
            ));
        }
        fits.then_some(index)
    }

    /// Hands every family not claimed by `skip` to `write_family`, families by name,
    /// series by label values, so scrapes are stable.
    pub(crate) fn visit(
        &mut self,
        skip: &dyn Fn(&str) -> bool,
        warn: &mut dyn FnMut(String),
        write_family: &mut FamilySink<'_>,
    ) {
        self.families.iter_mut().for_each(FamilyAgg::sort);
        let mut cumulative = Vec::new();
        let mut pid_text = itoa::Buffer::new();
        for (name, &index) in &self.by_name {
            let family = &self.families[index as usize];
            if skip(name) {
                continue;
            }
            let desc = match descriptor(&family.def) {
                Ok(desc) => desc,
                Err(err) => {
                    warn(format!("a multi-process file holds an invalid metric: {err}"));
                    continue;
                }
            };
            write_family(&desc, &mut |write| {
                let mut values = Vec::with_capacity(family.def.labels.len());
                for &series in &family.order {
                    family.values_of(series, &mut values);
                    let exemplars = family.exemplars[series as usize].as_slice();
                    let pid = family.series[series as usize].pid.map(|p| pid_text.format(p));
                    let extra = pid.map(|p| ("pid", p));
                    match &family.values[series as usize] {
                        Value::Counter(v) => write(
                            &values,
                            None,
                            &SeriesValue::Counter {
                                value: *v,
                                created: None,
                                exemplar: exemplars.first().and_then(Option::as_ref),
                            },
                        ),
                        Value::Gauge { value, .. } => write(&values, extra, &SeriesValue::Gauge(*value)),
                        Value::Histogram { buckets, sum, native } => {
                            cumulative.clear();
                            cumulative.extend(buckets.iter().scan(0u64, |acc, n| {
                                *acc = acc.saturating_add(*n);
                                Some(*acc)
                            }));
                            let classic = native.is_none() || !family.def.bounds.is_empty();
                            let histogram = HistogramValue {
                                bounds: &family.def.bounds,
                                cumulative: if classic { &cumulative } else { &[] },
                                count: cumulative.last().copied().unwrap_or(0),
                                sum: *sum,
                                created: None,
                                exemplars,
                                native: native.as_ref(),
                            };
                            write(&values, None, &SeriesValue::Histogram(histogram))
                        }
                        Value::Summary { count, sum } => {
                            let summary = SummaryValue {
                                count: *count,
                                sum: *sum,
                                ..SummaryValue::default()
                            };
                            write(&values, None, &SeriesValue::Summary(summary))
                        }
                        Value::Info => write(&values, None, &SeriesValue::Info),
                    }
                }
            });
        }
    }

    /// The archive file holding these families, recording `folded` as already counted.
    pub(crate) fn archive_image(&mut self, folded: &[String]) -> Vec<u8> {
        self.families.iter_mut().for_each(FamilyAgg::sort);
        let mut w = RecordWriter::new();
        for &index in self.by_name.values() {
            let family = &self.families[index as usize];
            let family_at = HEADER_LEN + w.family(&family.def);
            for &series in &family.order {
                let i = series as usize;
                let layout = family.def.layout();
                let mut slots = slot_words(&family.values[i], layout);
                if let Some(start) = layout.exemplar_start() {
                    slots[start..start + EXEMPLAR_LEN]
                        .copy_from_slice(&newest_exemplar_words(&family.exemplars[i]));
                }
                let pid = family.series[i].pid.unwrap_or(0);
                w.series_raw(
                    family_at,
                    pid,
                    family.def.labels.len(),
                    family.key(series),
                    &slots,
                );
            }
        }
        folded.iter().for_each(|name| w.folded(name));
        let mut image = format::header(0, Role::Archive).to_vec();
        image.extend_from_slice(w.bytes());
        let len = image.len();
        format::set_used(&mut image, len);
        image
    }
}

/// The archive keeps one exemplar per series, the newest over its buckets (a scrape of
/// the archive alone shows that one; live workers add theirs beside it).
fn newest_exemplar_words(exemplars: &[Option<Exemplar>]) -> Vec<u64> {
    let newest = exemplars
        .iter()
        .enumerate()
        .filter_map(|(bucket, e)| Some((bucket, e.as_ref()?)));
    match newest.max_by(|a, b| a.1.timestamp().total_cmp(&b.1.timestamp())) {
        Some((bucket, exemplar)) => exemplar_slots::words(bucket, exemplar),
        None => vec![0; EXEMPLAR_LEN],
    }
}

fn descriptor(def: &FamilyDef) -> crate::Result<Descriptor> {
    let mut opts = Opts::new(def.name.clone(), def.help.clone()).labels(def.labels.iter().cloned());
    if let Some(unit) = &def.unit {
        opts = opts.unit(unit.clone());
    }
    Descriptor::new(opts, def.kind)
}

fn read_value(def: &FamilyDef, bytes: &[u8], series: &SeriesDef) -> Value {
    let slots = format::slots(bytes, series);
    let word = |i: usize| slots.get(i).map_or(0, |w| w.load(Ordering::Relaxed));
    let float = |i| f64::from_bits(word(i));
    match def.kind {
        MetricType::Counter => {
            Value::Counter(word(slot::COUNTER_WHOLE) as f64 + float(slot::COUNTER_FRACTION))
        }
        MetricType::Gauge => Value::Gauge {
            value: float(slot::GAUGE_VALUE),
            stamp: float(slot::GAUGE_STAMP),
        },
        MetricType::Histogram => {
            let layout = def.layout();
            let native = layout.native_start().map(|start| {
                let region = NativeRegion {
                    start,
                    capacity: layout.native_capacity(),
                };
                native_slots::read(&word, region)
            });
            Value::Histogram {
                buckets: (0..layout.buckets()).map(word).collect(),
                sum: float(layout.histogram_sum()),
                native,
            }
        }
        MetricType::Summary => Value::Summary {
            count: word(slot::SUMMARY_COUNT),
            sum: float(slot::SUMMARY_SUM),
        },
        MetricType::Info | MetricType::StateSet | MetricType::Unknown => Value::Info,
    }
}

/// The slot words that store `value` in the archive, placed as `layout` says (counters
/// keep their total in the fraction slot, so one f64 carries it; native buckets are
/// lowered to a schema that fits the family's capacity). The exemplar region, if any, is
/// left zero for the caller.
fn slot_words(value: &Value, layout: SeriesLayout) -> Vec<u64> {
    let mut words = vec![0; layout.len()];
    match value {
        Value::Counter(v) => words[slot::COUNTER_FRACTION] = v.to_bits(),
        Value::Gauge { value, stamp } => {
            words[slot::GAUGE_VALUE] = value.to_bits();
            words[slot::GAUGE_STAMP] = stamp.to_bits();
        }
        Value::Histogram { buckets, sum, native } => {
            words[..buckets.len()].copy_from_slice(buckets);
            words[layout.histogram_sum()] = sum.to_bits();
            if let (Some(native), Some(start)) = (native, layout.native_start()) {
                let region = native_slots::words(native, layout.native_capacity());
                words[start..start + region.len()].copy_from_slice(&region);
            }
        }
        Value::Summary { count, sum } => {
            words[slot::SUMMARY_COUNT] = *count;
            words[slot::SUMMARY_SUM] = sum.to_bits();
        }
        Value::Info => {}
    }
    words
}

/// Folds `new` into `into`: sums for counters, histograms and summaries; the gauge mode's
/// rule for gauges. Integer counts saturate: a damaged or hostile file may hold any
/// value, and a scrape must neither panic nor wrap a count back to zero.
fn combine(into: &mut Value, new: Value, mode: GaugeMode) {
    match (into, new) {
        (Value::Counter(a), Value::Counter(b)) => *a += b,
        (
            Value::Histogram { buckets, sum, native },
            Value::Histogram {
                buckets: b,
                sum: s,
                native: n,
            },
        ) => {
            buckets
                .iter_mut()
                .zip(b)
                .for_each(|(x, y)| *x = x.saturating_add(y));
            *sum += s;
            match (native.as_mut(), n) {
                (Some(native), Some(n)) => native.merge(&n),
                (None, Some(n)) => *native = Some(n),
                _ => {}
            }
        }
        (Value::Summary { count, sum }, Value::Summary { count: c, sum: s }) => {
            *count = count.saturating_add(c);
            *sum += s;
        }
        (Value::Gauge { value, stamp }, Value::Gauge { value: v, stamp: t }) => match mode {
            GaugeMode::Sum | GaugeMode::LiveSum => *value += v,
            GaugeMode::Min | GaugeMode::LiveMin => *value = value.min(v),
            GaugeMode::Max | GaugeMode::LiveMax => *value = value.max(v),
            GaugeMode::MostRecent | GaugeMode::LiveMostRecent => {
                if t >= *stamp {
                    *value = v;
                    *stamp = t;
                }
            }
            // The same pid twice: a recycled pid; the later file is the current process.
            GaugeMode::All | GaugeMode::LiveAll => {
                *value = v;
                *stamp = t;
            }
        },
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A process file image holding `def` and one series with `slots`, in 8-byte words
    /// (parsing reads slots as atomics, which needs the alignment a mapping has).
    fn file_image(def: &FamilyDef, values: &[&str], slots: &[u64]) -> Vec<u64> {
        let mut w = RecordWriter::new();
        let family_at = HEADER_LEN + w.family(def);
        w.series(family_at, 0, values, slots);
        let mut image = format::header(7, Role::Process).to_vec();
        image.extend_from_slice(w.bytes());
        let len = image.len();
        format::set_used(&mut image, len);
        image
            .chunks(8)
            .map(|c| {
                let mut word = [0u8; 8];
                word[..c.len()].copy_from_slice(c);
                u64::from_le_bytes(word)
            })
            .collect()
    }

    fn bytes(words: &[u64]) -> &[u8] {
        // SAFETY: plain reinterpretation of initialised words.
        unsafe { std::slice::from_raw_parts(words.as_ptr().cast::<u8>(), words.len() * 8) }
    }

    fn counter(exemplars: bool) -> FamilyDef {
        FamilyDef {
            name: "jobs".into(),
            help: "Jobs.".into(),
            unit: None,
            kind: MetricType::Counter,
            mode: GaugeMode::All,
            labels: vec!["queue".into()],
            bounds: Vec::new(),
            native_capacity: 0,
            exemplars,
        }
    }

    /// Two processes may differ in whether a family keeps exemplars (it is not part of
    /// what must agree): each file's own definition says where its exemplar slots are.
    #[test]
    fn files_with_and_without_exemplar_slots_sum_without_reading_past_a_series() {
        let mut with_slots = vec![0u64; 2 + EXEMPLAR_LEN];
        with_slots[slot::COUNTER_WHOLE] = 1;
        let first = file_image(&counter(true), &["a"], &with_slots);
        let second = file_image(&counter(false), &["a"], &[2, 0]);
        let mut aggregate = Aggregate::default();
        for words in [&first, &second] {
            let parsed = format::parse(bytes(words), Role::Process, true).unwrap();
            aggregate.add(&parsed, bytes(words), Source::Live, &mut |_| {});
        }
        let mut seen = Vec::new();
        aggregate.visit(&|_| false, &mut |_| {}, &mut |desc, series| {
            series(&mut |values, _, value| {
                if let SeriesValue::Counter { value, .. } = value {
                    seen.push((desc.name().to_owned(), values.join(","), *value));
                }
            })
        });
        assert_eq!(seen, vec![("jobs".to_owned(), "a".to_owned(), 3.0)]);
    }

    /// Matching again after new records only adds the new series; reading again sums the
    /// current slots, not the ones of the earlier round.
    #[test]
    fn a_kept_plan_reads_current_values() {
        let mut words = file_image(&counter(false), &["a"], &[1, 0]);
        let parsed = format::parse(bytes(&words), Role::Process, true).unwrap();
        let mut aggregate = Aggregate::default();
        let mut plan = FilePlan::new(Source::Live);
        for round in 1..=3u64 {
            let slot_word = parsed.series[0].slots_at / 8;
            words[slot_word] = round * 10;
            aggregate.match_file(&mut plan, &parsed, bytes(&words), &mut |_| {});
            aggregate.begin_round();
            aggregate.accumulate(&plan, &parsed, bytes(&words));
            assert_eq!(plan.contributions.len(), 1, "matched once");
            assert_eq!(
                aggregate.families[0].values,
                vec![Value::Counter((round * 10) as f64)]
            );
        }
    }
}
