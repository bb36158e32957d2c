//! Families computed outside the core at scrape time (Dropwizard's own metrics, the
//! `client_java` registries): the Java side reads them just before each render and hands
//! over their values as the core's [`FamilySnapshot`]s, and a [`Collector`] in the
//! registry writes them through the core's encoder, so they come out in every format the
//! endpoint negotiates (a summary's quantiles included).
//!
//! The Java side sends three flat streams, read in this order for each family:
//! - `ints`: kind, label count, series count; then for each series its point count `n`
//!   (quantiles of a summary, finite bounds of a histogram, states of a state set; 0
//!   otherwise);
//! - `strings`: name, help, the label names; then each series' label values, and a state
//!   set's `n` state names;
//! - `doubles`, for each series: a counter or gauge's value; a summary's `n` quantiles, `n`
//!   values, count and sum; a histogram's `n` bounds, `n + 1` cumulative counts (the last
//!   is `+Inf`) and sum; a state set's `n` states, 1 when set and 0 when not. An info
//!   series has none.
//!
//! Each family is checked as the core checks any collector's ([`FamilySnapshot::new`]):
//! one it refuses is left out.

use crate::error::{guard, JResult, Thrown};
use crate::handle::{borrow, free, into_handle};
use crate::metrics::{COUNTER, GAUGE, HISTOGRAM, INFO, STATE_SET, SUMMARY};
use crate::registry::RegistryHandle;
use crate::strings::string_array;
use gds_metrics::{
    Collector, Descriptor, Encoder, FamilySnapshot, MetricType, Opts, OwnedValue, Quantile, SeriesSnapshot,
    State,
};
use jni::objects::{JClass, JDoubleArray, JIntArray, JObjectArray};
use jni::sys::{jint, jlong};
use jni::JNIEnv;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// The value behind a foreign-families handle: the registry they are written in, and the
/// families last handed over.
pub(crate) struct ForeignFamilies {
    registry: RegistryHandle,
    families: Arc<Mutex<Vec<FamilySnapshot>>>,
}

struct ForeignCollector(Arc<Mutex<Vec<FamilySnapshot>>>);

impl Collector for ForeignCollector {
    /// None declared: the set changes from scrape to scrape (clashes are left out when
    /// the families are handed over).
    fn descriptors(&self) -> Vec<Descriptor> {
        Vec::new()
    }

    fn collect(&self, encoder: &mut Encoder<'_>) {
        let families = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        families.iter().for_each(|family| encoder.write(family));
    }
}

/// Registers a collector of foreign families in `registry`; returns its handle.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_foreignNew(
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
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_foreignFree(
    _: JNIEnv,
    _: JClass,
    handle: jlong,
) {
    // SAFETY: called once per handle, by the Java object's cleaner.
    unsafe { free::<ForeignFamilies>(handle) }
}

/// Replaces the families the next scrapes write (the streams are described in the module
/// docs). A family the core refuses (a bad name or label, a state named twice), one whose
/// name the registry already exposes, or a second family of the same name is left out, so
/// one odd metric never fails or corrupts a scrape.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_foreignSet(
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
                if !foreign.registry.clashes(&family.descriptor)
                    && names.insert(family.descriptor.name().to_owned())
                {
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
    /// The next family; `None` if the core refuses it.
    fn family(&mut self) -> JResult<Option<FamilySnapshot>> {
        let [kind, label_count, series_count] = self.take_ints::<3>()?;
        let (kind, width): (MetricType, fn(usize) -> usize) = match kind {
            COUNTER => (MetricType::Counter, |_| 1),
            GAUGE => (MetricType::Gauge, |_| 1),
            SUMMARY => (MetricType::Summary, |n| 2 * n + 2),
            HISTOGRAM => (MetricType::Histogram, |n| 2 * n + 2),
            INFO => (MetricType::Info, |_| 0),
            STATE_SET => (MetricType::StateSet, |n| n),
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
            let labels = self.take_strings(label_count)?.to_vec();
            let states = match kind {
                MetricType::StateSet => self.take_strings(points)?,
                _ => &[],
            };
            let value = owned_value(kind, points, self.take_doubles(width(points))?, states);
            series.push(SeriesSnapshot { labels, value });
        }
        let opts = Opts::new(name.as_str(), help.as_str()).labels(label_names);
        Ok(Descriptor::new(opts, kind)
            .and_then(|descriptor| FamilySnapshot::new(descriptor, series))
            .ok())
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

/// A series' value from its `n` points, its doubles and a state set's state names (laid
/// out as the module docs say).
fn owned_value(kind: MetricType, n: usize, v: &[f64], states: &[String]) -> OwnedValue {
    match kind {
        MetricType::Counter => OwnedValue::Counter {
            value: v[0],
            created: None,
            exemplar: None,
        },
        MetricType::Summary => OwnedValue::Summary {
            count: v[2 * n] as u64,
            sum: v[2 * n + 1],
            created: None,
            quantiles: v[..n]
                .iter()
                .zip(&v[n..2 * n])
                .map(|(quantile, value)| Quantile {
                    quantile: *quantile,
                    value: *value,
                })
                .collect(),
        },
        MetricType::Histogram => OwnedValue::Histogram {
            bounds: v[..n].to_vec(),
            cumulative: v[n..2 * n + 1].iter().map(|c| *c as u64).collect(),
            sum: v[2 * n + 1],
            created: None,
        },
        MetricType::Info => OwnedValue::Info,
        MetricType::StateSet => OwnedValue::StateSet(
            states
                .iter()
                .zip(v)
                .map(|(name, set)| State::new(name.as_str(), *set != 0.0))
                .collect(),
        ),
        _ => OwnedValue::Gauge(v[0]),
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
