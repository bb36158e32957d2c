//! Families computed outside the core at scrape time (Dropwizard's own metrics, the
//! `client_java` registries): the Java side reads them just before each render and hands
//! over their values, and a [`Collector`] in the registry writes them through the core's
//! encoder, so they come out in every format the endpoint negotiates.
//!
//! The Java side sends three flat streams, read in this order for each family:
//! - `ints`: kind, label count, series count; then for each series its point count `n`
//!   (quantiles of a summary, finite bounds of a histogram; 0 otherwise);
//! - `strings`: name, help, the label names; then each series' label values;
//! - `doubles`, for each series: a counter or gauge's value; a summary's `n` quantiles, `n`
//!   values, count and sum; a histogram's `n` bounds, `n + 1` cumulative counts (the last
//!   is `+Inf`) and sum. An info series has none.

use crate::error::{guard, JResult, Thrown};
use crate::handle::{borrow, free, into_handle};
use crate::metrics::{COUNTER, GAUGE, HISTOGRAM, INFO, SUMMARY};
use crate::registry::RegistryHandle;
use crate::strings::string_array;
use gds_metrics::{Collector, Descriptor, Encoder, MetricType, Opts};
use jni::objects::{JClass, JDoubleArray, JIntArray, JObjectArray};
use jni::sys::{jint, jlong};
use jni::JNIEnv;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

struct ForeignSeries {
    labels: Vec<String>,
    points: usize,
    values: Vec<f64>,
}

struct ForeignFamily {
    desc: Descriptor,
    series: Vec<ForeignSeries>,
}

/// The value behind a foreign-families handle: the registry they are written in, and the
/// families last handed over.
pub(crate) struct ForeignFamilies {
    registry: RegistryHandle,
    families: Arc<Mutex<Vec<ForeignFamily>>>,
}

struct ForeignCollector(Arc<Mutex<Vec<ForeignFamily>>>);

impl Collector for ForeignCollector {
    /// None declared: the set changes from scrape to scrape (clashes are left out when
    /// the families are handed over).
    fn descriptors(&self) -> Vec<Descriptor> {
        Vec::new()
    }

    fn collect(&self, encoder: &mut Encoder<'_>) {
        let families = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        for family in families.iter() {
            let mut out = encoder.family(&family.desc);
            for s in &family.series {
                let (labels, v, n) = (&s.labels, &s.values, s.points);
                match family.desc.kind() {
                    MetricType::Counter => out.counter(labels, v[0], None),
                    MetricType::Summary => {
                        for (quantile, value) in v[..n].iter().zip(&v[n..2 * n]) {
                            out.gauge(labels, Some(("quantile", &quantile.to_string())), *value);
                        }
                        out.summary(labels, v[2 * n] as u64, v[2 * n + 1], None);
                    }
                    MetricType::Histogram => {
                        let cumulative: Vec<u64> = v[n..2 * n + 1].iter().map(|c| *c as u64).collect();
                        out.histogram(labels, &v[..n], &cumulative, v[2 * n + 1], None);
                    }
                    MetricType::Info => out.info(labels),
                    _ => out.gauge(labels, None, v[0]),
                }
            }
        }
    }
}

/// Registers a collector of foreign families in `registry`; returns its handle.
#[no_mangle]
pub extern "system" fn Java_uk_gov_gds_metrics_internal_Native_foreignNew(
    mut env: JNIEnv,
    _: JClass,
    registry: jlong,
) -> jlong {
    guard(&mut env, 0, |_| {
        // SAFETY: the Java caller passes a live registry handle.
        let registry = unsafe { borrow::<RegistryHandle>(registry) }.clone();
        let families = Arc::new(Mutex::new(Vec::new()));
        registry.register(Arc::new(ForeignCollector(families.clone())))?;
        Ok(into_handle(ForeignFamilies { registry, families }))
    })
}

#[no_mangle]
pub extern "system" fn Java_uk_gov_gds_metrics_internal_Native_foreignFree(
    _: JNIEnv,
    _: JClass,
    handle: jlong,
) {
    // SAFETY: called once per handle, by the Java object's cleaner.
    unsafe { free::<ForeignFamilies>(handle) }
}

/// Replaces the families the next scrapes write (the streams are described in the module
/// docs). A family the core refuses (a bad name or label), one whose name the registry
/// already exposes, or a second family of the same name is left out, so one odd metric
/// never fails or corrupts a scrape.
#[no_mangle]
pub extern "system" fn Java_uk_gov_gds_metrics_internal_Native_foreignSet(
    mut env: JNIEnv,
    _: JClass,
    handle: jlong,
    ints: JIntArray,
    strings: JObjectArray,
    doubles: JDoubleArray,
) {
    guard(&mut env, (), |env| {
        let mut int_values = vec![0; env.get_array_length(&ints)? as usize];
        env.get_int_array_region(&ints, 0, &mut int_values)?;
        let string_values = string_array(env, &strings, "strings")?;
        let mut double_values = vec![0.0; env.get_array_length(&doubles)? as usize];
        env.get_double_array_region(&doubles, 0, &mut double_values)?;
        // SAFETY: the Java caller passes a live foreign-families handle.
        let foreign = unsafe { borrow::<ForeignFamilies>(handle) };
        let mut streams = Streams {
            ints: &int_values,
            strings: &string_values,
            doubles: &double_values,
        };
        let mut families = Vec::new();
        let mut names = HashSet::new();
        while !streams.ints.is_empty() {
            let family = streams.family()?;
            if let Some(family) = family {
                if !foreign.registry.clashes(&family.desc) && names.insert(family.desc.name().to_owned()) {
                    families.push(family);
                }
            }
        }
        *foreign
            .families
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = families;
        Ok(())
    })
}

/// The three streams, consumed from the front.
struct Streams<'s> {
    ints: &'s [jint],
    strings: &'s [String],
    doubles: &'s [f64],
}

impl<'s> Streams<'s> {
    /// The next family; `None` if the core refuses its name or labels.
    fn family(&mut self) -> JResult<Option<ForeignFamily>> {
        let [kind, label_count, series_count] = self.take_ints::<3>()?;
        let (kind, width): (MetricType, fn(usize) -> usize) = match kind {
            COUNTER => (MetricType::Counter, |_| 1),
            GAUGE => (MetricType::Gauge, |_| 1),
            SUMMARY => (MetricType::Summary, |n| 2 * n + 2),
            HISTOGRAM => (MetricType::Histogram, |n| 2 * n + 2),
            INFO => (MetricType::Info, |_| 0),
            other => {
                return Err(Thrown::illegal_argument(format!(
                    "no foreign families of kind {other}"
                )))
            }
        };
        let label_count = usize::try_from(label_count).map_err(|_| malformed())?;
        let [name, help] = self.take_strings(2)? else {
            return Err(malformed());
        };
        let label_names = self.take_strings(label_count)?.to_vec();
        let mut series = Vec::new();
        for _ in 0..series_count {
            let [points] = self.take_ints::<1>()?;
            let points = usize::try_from(points).map_err(|_| malformed())?;
            series.push(ForeignSeries {
                labels: self.take_strings(label_count)?.to_vec(),
                points,
                values: self.take_doubles(width(points))?.to_vec(),
            });
        }
        let opts = Opts::new(name.as_str(), help.as_str()).labels(label_names);
        Ok(Descriptor::new(opts, kind)
            .ok()
            .map(|desc| ForeignFamily { desc, series }))
    }

    fn take_ints<const N: usize>(&mut self) -> JResult<[jint; N]> {
        let (head, rest) = split(self.ints, N)?;
        self.ints = rest;
        Ok(head.try_into().expect("split at N"))
    }

    fn take_strings(&mut self, n: usize) -> JResult<&'s [String]> {
        let (head, rest) = split(self.strings, n)?;
        self.strings = rest;
        Ok(head)
    }

    fn take_doubles(&mut self, n: usize) -> JResult<&'s [f64]> {
        let (head, rest) = split(self.doubles, n)?;
        self.doubles = rest;
        Ok(head)
    }
}

/// The first `n` items and the rest; an error if there are fewer.
fn split<T>(items: &[T], n: usize) -> JResult<(&[T], &[T])> {
    if items.len() < n {
        return Err(malformed());
    }
    Ok(items.split_at(n))
}

fn malformed() -> Thrown {
    Thrown::illegal_argument("gds-metrics: malformed scrape-time families")
}
