//! Families computed outside the core at scrape time (Dropwizard's own metrics): the Java
//! side reads them just before each render and hands over their values, and a
//! [`Collector`] in the registry writes them through the core's encoder, so they come out
//! in every format the endpoint negotiates.
//!
//! A family is a name, a help text, a kind and its values, without labels: a gauge or a
//! counter has one value; a summary has one value per quantile of [`QUANTILES`], then its
//! count and its sum.

use crate::error::{guard, Thrown};
use crate::handle::{borrow, free, into_handle};
use crate::metrics::{COUNTER, GAUGE, SUMMARY};
use crate::registry::RegistryHandle;
use crate::strings::string_array;
use gds_metrics::{Collector, Descriptor, Encoder, MetricType, Opts};
use jni::objects::{JClass, JDoubleArray, JIntArray, JObjectArray};
use jni::sys::{jint, jlong};
use jni::JNIEnv;
use std::sync::{Arc, Mutex};

/// The quantiles of a summary's values, in order (those `client_java`'s Dropwizard bridge
/// exposes).
pub(crate) const QUANTILES: [&str; 6] = ["0.5", "0.75", "0.95", "0.98", "0.99", "0.999"];

struct ForeignFamily {
    desc: Descriptor,
    values: Vec<f64>,
}

/// The families last handed over; the value behind a foreign-families handle.
#[derive(Default)]
pub(crate) struct ForeignFamilies(Mutex<Vec<ForeignFamily>>);

struct ForeignCollector(Arc<ForeignFamilies>);

impl Collector for ForeignCollector {
    /// None declared: the set changes from scrape to scrape.
    fn descriptors(&self) -> Vec<Descriptor> {
        Vec::new()
    }

    fn collect(&self, encoder: &mut Encoder<'_>) {
        let families = self.0 .0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let no_labels: &[&str] = &[];
        for family in families.iter() {
            let mut out = encoder.family(&family.desc);
            let v = &family.values;
            match family.desc.kind() {
                MetricType::Counter => out.counter(no_labels, v[0], None),
                MetricType::Summary => {
                    for (quantile, value) in QUANTILES.iter().zip(v) {
                        out.gauge(no_labels, Some(("quantile", quantile)), *value);
                    }
                    out.summary(no_labels, v[QUANTILES.len()] as u64, v[QUANTILES.len() + 1], None);
                }
                _ => out.gauge(no_labels, None, v[0]),
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
        let families = Arc::new(ForeignFamilies::default());
        // SAFETY: the Java caller passes a live registry handle.
        unsafe { borrow::<RegistryHandle>(registry) }
            .register(Arc::new(ForeignCollector(families.clone())))?;
        Ok(into_handle(families))
    })
}

#[no_mangle]
pub extern "system" fn Java_uk_gov_gds_metrics_internal_Native_foreignFree(
    _: JNIEnv,
    _: JClass,
    handle: jlong,
) {
    // SAFETY: called once per handle, by the Java object's cleaner.
    unsafe { free::<Arc<ForeignFamilies>>(handle) }
}

/// Replaces the families the next scrapes write. `values` holds each family's values in
/// turn (see the module docs). A family whose name the core refuses is left out, so one
/// odd metric never fails a scrape.
#[no_mangle]
pub extern "system" fn Java_uk_gov_gds_metrics_internal_Native_foreignSet(
    mut env: JNIEnv,
    _: JClass,
    handle: jlong,
    names: JObjectArray,
    helps: JObjectArray,
    kinds: JIntArray,
    values: JDoubleArray,
) {
    guard(&mut env, (), |env| {
        let names = string_array(env, &names, "names")?;
        let helps = string_array(env, &helps, "helps")?;
        let mut kind_numbers = vec![0; env.get_array_length(&kinds)? as usize];
        env.get_int_array_region(&kinds, 0, &mut kind_numbers)?;
        let mut all_values = vec![0.0; env.get_array_length(&values)? as usize];
        env.get_double_array_region(&values, 0, &mut all_values)?;
        let families = families(&names, &helps, &kind_numbers, &all_values)?;
        // SAFETY: the Java caller passes a live foreign-families handle.
        let slot = unsafe { borrow::<Arc<ForeignFamilies>>(handle) };
        *slot.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = families;
        Ok(())
    })
}

fn families(
    names: &[String],
    helps: &[String],
    kinds: &[jint],
    values: &[f64],
) -> Result<Vec<ForeignFamily>, Thrown> {
    let mut out = Vec::with_capacity(names.len());
    let mut rest = values;
    for ((name, help), kind) in names.iter().zip(helps).zip(kinds) {
        let (metric_type, width) = match *kind {
            COUNTER => (MetricType::Counter, 1),
            GAUGE => (MetricType::Gauge, 1),
            SUMMARY => (MetricType::Summary, QUANTILES.len() + 2),
            other => {
                return Err(Thrown::illegal_argument(format!(
                    "no foreign families of kind {other}"
                )))
            }
        };
        if rest.len() < width {
            return Err(Thrown::illegal_argument("fewer values than the families need"));
        }
        let (mine, others) = rest.split_at(width);
        rest = others;
        if let Ok(desc) = Descriptor::new(Opts::new(name.as_str(), help.as_str()), metric_type) {
            out.push(ForeignFamily {
                desc,
                values: mine.to_vec(),
            });
        }
    }
    Ok(out)
}
