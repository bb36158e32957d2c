//! Combining the series of many files into one set of families.
//!
//! The same rules serve the scrape (archive + every file) and the fold (archive + dead
//! files, written back as the new archive), so what a scrape shows never changes when a
//! dead worker's file is folded away.

use super::exemplar_slots;
use super::format::{self, slot, FamilyDef, Parsed, RecordWriter, Role, SeriesDef, HEADER_LEN};
use super::gauge_mode::GaugeMode;
use super::native_slots::{self, NativeRegion};
use crate::descriptor::{Descriptor, MetricType, Opts};
use crate::exposition::{Encoder, HistogramSample};
use crate::metrics::{Exemplar, NativeSnapshot};
use std::collections::{BTreeMap, HashMap};

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

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct SeriesKey {
    values: Vec<String>,
    /// The process of an `all`/`liveall` gauge series.
    pid: Option<u32>,
}

struct FamilyAgg {
    def: FamilyDef,
    series: HashMap<SeriesKey, Value>,
    /// The newest exemplar of each classic bucket (one slot for a counter) of a series,
    /// over every file.
    exemplars: HashMap<SeriesKey, Vec<Option<Exemplar>>>,
}

impl FamilyAgg {
    /// Keeps `exemplar` of `bucket` for `key` if it is newer than the one there.
    fn offer_exemplar(&mut self, key: &SeriesKey, bucket: usize, exemplar: Exemplar) {
        let buckets = match self.def.kind {
            MetricType::Histogram => self.def.bounds.len() + 1,
            _ => 1,
        };
        if bucket >= buckets {
            return;
        }
        let slots = self
            .exemplars
            .entry(key.clone())
            .or_insert_with(|| vec![None; buckets]);
        let newer = slots[bucket]
            .as_ref()
            .is_none_or(|old| exemplar.timestamp() >= old.timestamp());
        if newer {
            slots[bucket] = Some(exemplar);
        }
    }
}

/// Families combined from any number of files.
#[derive(Default)]
pub(crate) struct Aggregate {
    families: BTreeMap<String, FamilyAgg>,
}

impl Aggregate {
    /// Adds every family and series of a parsed file whose bytes are `bytes`. Families
    /// that contradict one already seen (another type, labels or buckets) are skipped and
    /// reported through `warn`.
    pub(crate) fn add(
        &mut self,
        parsed: &Parsed,
        bytes: &[u8],
        source: Source,
        warn: &mut dyn FnMut(String),
    ) {
        let fits: Vec<bool> = parsed.families.iter().map(|def| self.admit(def, warn)).collect();
        for series in &parsed.series {
            let def = &parsed.families[series.family];
            if !fits[series.family] {
                continue;
            }
            let family = self.families.get_mut(&def.name).expect("admitted above");
            let mode = family.def.mode;
            if def.kind == MetricType::Gauge && mode.live_only() && source != Source::Live {
                continue;
            }
            let per_process = def.kind == MetricType::Gauge && mode.per_process();
            let pid = match series.origin_pid {
                0 => parsed.pid,
                origin => origin,
            };
            let key = SeriesKey {
                values: series.values.clone(),
                pid: per_process.then_some(pid),
            };
            let value = read_value(def, bytes, series);
            if let Some(start) = format::exemplar_start(&family.def) {
                let word = |i| format::load_slot(bytes, series, i);
                if let Some((bucket, exemplar)) = exemplar_slots::read(&word, start) {
                    family.offer_exemplar(&key, bucket, exemplar);
                }
            }
            match family.series.get_mut(&key) {
                Some(existing) => combine(existing, value, mode),
                None => {
                    family.series.insert(key, value);
                }
            }
        }
    }

    /// Registers `def` unless it contradicts the family of that name seen first.
    fn admit(&mut self, def: &FamilyDef, warn: &mut dyn FnMut(String)) -> bool {
        let family = self
            .families
            .entry(def.name.clone())
            .or_insert_with(|| FamilyAgg {
                def: def.clone(),
                series: HashMap::new(),
                exemplars: HashMap::new(),
            });
        let seen = &family.def;
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
        fits
    }

    /// Writes every family not claimed by `skip` through `encoder`, families by name,
    /// series by label values, so scrapes are stable.
    pub(crate) fn encode(
        &self,
        encoder: &mut Encoder<'_>,
        skip: &dyn Fn(&str) -> bool,
        warn: &mut dyn FnMut(String),
    ) {
        let mut cumulative = Vec::new();
        for (name, family) in &self.families {
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
            let mut keys: Vec<&SeriesKey> = family.series.keys().collect();
            keys.sort();
            let mut out = encoder.family(&desc);
            for key in keys {
                let values = &key.values;
                let exemplars = family.exemplars.get(key).map_or(&[][..], Vec::as_slice);
                match &family.series[key] {
                    Value::Counter(v) => out.counter_with_exemplar(
                        values,
                        *v,
                        None,
                        exemplars.first().and_then(Option::as_ref),
                    ),
                    Value::Gauge { value, .. } => {
                        let pid = key.pid.map(|p| p.to_string());
                        out.gauge(values, pid.as_deref().map(|p| ("pid", p)), *value)
                    }
                    Value::Histogram { buckets, sum, native } => {
                        cumulative.clear();
                        cumulative.extend(buckets.iter().scan(0u64, |acc, n| {
                            *acc = acc.saturating_add(*n);
                            Some(*acc)
                        }));
                        let count = cumulative.last().copied().unwrap_or(0);
                        let classic = native.is_none() || !family.def.bounds.is_empty();
                        out.histogram_sample(
                            values,
                            &HistogramSample {
                                bounds: &family.def.bounds,
                                cumulative: if classic { &cumulative } else { &[] },
                                count,
                                sum: *sum,
                                created: None,
                                exemplars,
                                native: native.as_ref(),
                            },
                        )
                    }
                    Value::Summary { count, sum } => out.summary(values, *count, *sum, None),
                    Value::Info => out.info(values),
                }
            }
        }
    }

    /// The archive file holding these families, recording `folded` as already counted.
    pub(crate) fn archive_image(&self, folded: &[String]) -> Vec<u8> {
        let mut w = RecordWriter::new();
        for family in self.families.values() {
            let family_at = HEADER_LEN + w.family(&family.def);
            let mut keys: Vec<&SeriesKey> = family.series.keys().collect();
            keys.sort();
            for key in keys {
                let mut slots = slot_words(&family.series[key], family.def.native_capacity as usize);
                if family.def.exemplars {
                    slots.extend(newest_exemplar_words(family.exemplars.get(key)));
                }
                w.series(family_at, key.pid.unwrap_or(0), &key.values, &slots);
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
fn newest_exemplar_words(exemplars: Option<&Vec<Option<Exemplar>>>) -> Vec<u64> {
    let newest = exemplars
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(bucket, e)| Some((bucket, e.as_ref()?)));
    match newest.max_by(|a, b| a.1.timestamp().total_cmp(&b.1.timestamp())) {
        Some((bucket, exemplar)) => exemplar_slots::words(bucket, exemplar),
        None => vec![0; exemplar_slots::EXEMPLAR_LEN],
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
    let word = |i| format::load_slot(bytes, series, i);
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
            let n = def.bounds.len() + 1;
            let native = (def.native_capacity > 0).then(|| {
                let region = NativeRegion {
                    start: n + 1,
                    capacity: def.native_capacity as usize,
                };
                native_slots::read(&word, region)
            });
            Value::Histogram {
                buckets: (0..n).map(word).collect(),
                sum: float(n),
                native,
            }
        }
        MetricType::Summary => Value::Summary {
            count: word(slot::SUMMARY_COUNT),
            sum: float(slot::SUMMARY_SUM),
        },
        MetricType::Info | MetricType::Unknown => Value::Info,
    }
}

/// The slot words that store `value` in the archive (counters keep their total in the
/// fraction slot, so one f64 carries it; native buckets are lowered to a schema that fits
/// the family's capacity).
fn slot_words(value: &Value, native_capacity: usize) -> Vec<u64> {
    match value {
        Value::Counter(v) => vec![0, v.to_bits()],
        Value::Gauge { value, stamp } => vec![value.to_bits(), stamp.to_bits()],
        Value::Histogram { buckets, sum, native } => {
            let mut words: Vec<u64> = buckets.iter().copied().chain([sum.to_bits()]).collect();
            if let (Some(native), true) = (native, native_capacity > 0) {
                words.extend(native_slots::words(native, native_capacity));
            }
            words
        }
        Value::Summary { count, sum } => vec![*count, sum.to_bits()],
        Value::Info => Vec::new(),
    }
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
