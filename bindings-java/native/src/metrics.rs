//! Metric families and their series: `Counter`, `Gauge`, `Histogram`, `Summary`, `Info`.
//!
//! A family handle owns an [`AnyFamily`]; a series handle owns one core series (`Counter`,
//! `Gauge`, ...), found once by label values and then updated with no lookup. The Java side
//! keeps the kind of every handle, so each hot-path native knows its type statically.

use crate::error::{guard, JResult, Thrown};
use crate::handle::{borrow, free, into_handle};
use crate::registry::RegistryHandle;
use crate::strings::{optional_string, string, string_array};
use gds_metrics::{Counter, Family, Gauge, Histogram, Info, Metric, NativeBuckets, Opts, Summary};
use jni::objects::{JBooleanArray, JClass, JDoubleArray, JObjectArray, JString};
use jni::sys::{jboolean, jdouble, jint, jlong, JNI_FALSE};
use jni::JNIEnv;

/// The kinds, numbered as the constants in `Native.java`; `Native.kindNames()` gives
/// these names by number, and a Java test checks the two agree.
pub(crate) const COUNTER: jint = 0;
pub(crate) const GAUGE: jint = 1;
pub(crate) const HISTOGRAM: jint = 2;
pub(crate) const SUMMARY: jint = 3;
pub(crate) const INFO: jint = 4;
/// Only for families handed over at scrape time (`ScrapeTimeFamilies`): no metric of
/// this kind is registered from Java.
pub(crate) const STATE_SET: jint = 5;
const KIND_NAMES: [(jint, &str); 6] = [
    (COUNTER, "COUNTER"),
    (GAUGE, "GAUGE"),
    (HISTOGRAM, "HISTOGRAM"),
    (SUMMARY, "SUMMARY"),
    (INFO, "INFO"),
    (STATE_SET, "STATE_SET"),
];

/// `Native.kindNames()`: each kind's name at its number.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_kindNames<'local>(
    mut env: JNIEnv<'local>,
    _: JClass,
) -> jni::sys::jobjectArray {
    guard(&mut env, std::ptr::null_mut(), |env| {
        let mut names = vec![String::new(); KIND_NAMES.len()];
        for (number, name) in KIND_NAMES {
            names[number as usize] = name.to_owned();
        }
        Ok(crate::strings::new_string_array(env, &names)?.into_raw())
    })
}

/// A registered family of any kind.
enum AnyFamily {
    Counter(Family<Counter>),
    Gauge(Family<Gauge>),
    Histogram(Family<Histogram>),
    Summary(Family<Summary>),
    Info(Family<Info>),
}

impl AnyFamily {
    /// Registers a family of `kind` described by `opts` in `registry`.
    fn register(
        registry: &RegistryHandle,
        kind: jint,
        opts: Opts,
        buckets: Option<Vec<f64>>,
        native: Option<NativeBuckets>,
    ) -> JResult<Self> {
        Ok(match (kind, native) {
            (HISTOGRAM, Some(native)) => {
                AnyFamily::Histogram(registry.native_histogram(opts, native, buckets.as_deref())?)
            }
            (_, Some(_)) => {
                return Err(Thrown::illegal_argument(
                    "only histograms keep native buckets".to_owned(),
                ))
            }
            (kind, None) => Self::register_classic(registry, kind, opts, buckets)?,
        })
    }

    fn register_classic(
        registry: &RegistryHandle,
        kind: jint,
        opts: Opts,
        buckets: Option<Vec<f64>>,
    ) -> JResult<Self> {
        Ok(match kind {
            COUNTER => AnyFamily::Counter(registry.counter(opts)?),
            GAUGE => AnyFamily::Gauge(registry.gauge(opts)?),
            HISTOGRAM => AnyFamily::Histogram(registry.histogram(opts, buckets.as_deref())?),
            SUMMARY => AnyFamily::Summary(registry.summary(opts)?),
            INFO => AnyFamily::Info(registry.info(opts)?),
            other => return Err(Thrown::illegal_argument(format!("unknown metric kind {other}"))),
        })
    }

    /// A handle to the series for `values`, created at zero if new, and whether the series
    /// is theirs (`false`: the full family refused them into its overflow series).
    fn series_handle(&self, values: &[String]) -> JResult<(jlong, bool)> {
        fn handle<M: Metric>(family: &Family<M>, values: &[String]) -> JResult<(jlong, bool)> {
            let (series, kept) = family.labels_kept(values)?;
            Ok((into_handle(series), kept))
        }
        match self {
            AnyFamily::Counter(f) => handle(f, values),
            AnyFamily::Gauge(f) => handle(f, values),
            AnyFamily::Histogram(f) => handle(f, values),
            AnyFamily::Summary(f) => handle(f, values),
            AnyFamily::Info(f) => handle(f, values),
        }
    }

    fn remove(&self, values: &[String]) -> JResult<bool> {
        Ok(match self {
            AnyFamily::Counter(f) => f.remove(values)?,
            AnyFamily::Gauge(f) => f.remove(values)?,
            AnyFamily::Histogram(f) => f.remove(values)?,
            AnyFamily::Summary(f) => f.remove(values)?,
            AnyFamily::Info(f) => f.remove(values)?,
        })
    }

    fn name(&self) -> &str {
        match self {
            AnyFamily::Counter(f) => f.descriptor().name(),
            AnyFamily::Gauge(f) => f.descriptor().name(),
            AnyFamily::Histogram(f) => f.descriptor().name(),
            AnyFamily::Summary(f) => f.descriptor().name(),
            AnyFamily::Info(f) => f.descriptor().name(),
        }
    }

    fn clear(&self) {
        match self {
            AnyFamily::Counter(f) => f.clear(),
            AnyFamily::Gauge(f) => f.clear(),
            AnyFamily::Histogram(f) => f.clear(),
            AnyFamily::Summary(f) => f.clear(),
            AnyFamily::Info(f) => f.clear(),
        }
    }
}

/// Validates and registers a family; returns its handle. Mistakes (a bad name, a clash, bad
/// buckets, a negative series limit, bad native settings) throw from the builder's
/// `register()`. Without `has_series_limit` the family takes the registry's limit.
/// `native` (null for classic buckets only) is `{schema, zero threshold, max buckets,
/// reset after in seconds (0: never)}`; a native histogram has classic buckets only when
/// `buckets` gives them.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_registerFamily(
    mut env: JNIEnv,
    _: JClass,
    registry: jlong,
    kind: jint,
    name: JString,
    help: JString,
    unit: JString,
    label_names: JObjectArray,
    buckets: JDoubleArray,
    has_series_limit: jboolean,
    series_limit: jlong,
    native: JDoubleArray,
) -> jlong {
    guard(&mut env, 0, |env| {
        let mut opts = Opts::new(string(env, &name, "name")?, string(env, &help, "help")?)
            .labels(string_array(env, &label_names, "label names")?);
        if let Some(unit) = optional_string(env, &unit)? {
            opts = opts.unit(unit);
        }
        let series_limit = (has_series_limit != JNI_FALSE).then(|| series_limit_of(series_limit));
        opts = opts.series_limit(series_limit.transpose()?);
        let buckets = doubles(env, &buckets)?;
        let native = doubles(env, &native)?.map(|n| native_buckets(&n)).transpose()?;
        // SAFETY: the Java caller passes a live registry handle.
        let registry = unsafe { borrow::<RegistryHandle>(registry) };
        Ok(into_handle(AnyFamily::register(
            registry, kind, opts, buckets, native,
        )?))
    })
}

/// The native settings from the Java builder: a `{given (1 or 0), value}` pair each for the
/// schema, zero threshold, bucket limit and reset seconds, in that order (the builder has
/// checked that the integers fit). A setting not given keeps the core's default.
fn native_buckets(settings: &[f64]) -> JResult<NativeBuckets> {
    let given: Vec<Option<f64>> = settings
        .chunks_exact(2)
        .map(|pair| (pair[0] != 0.0).then_some(pair[1]))
        .collect();
    let &[schema, zero_threshold, max_buckets, reset_after] = given.as_slice() else {
        return Err(Thrown::illegal_argument(format!(
            "native settings are four {{given, value}} pairs, got {} numbers",
            settings.len()
        )));
    };
    Ok(NativeBuckets::from_settings(
        schema.map(|schema| schema as i32),
        zero_threshold,
        max_buckets.map(|max| max as usize),
        reset_after,
    )?)
}

/// Exemplar labels given as `name, value, name, value, ...`.
fn exemplar_labels(env: &mut JNIEnv<'_>, labels: &JObjectArray<'_>) -> JResult<Vec<String>> {
    let flat = string_array(env, labels, "exemplar labels")?;
    if flat.len() % 2 != 0 {
        return Err(Thrown::illegal_argument(format!(
            "exemplar labels come in name, value pairs; got {} strings",
            flat.len()
        )));
    }
    Ok(flat)
}

fn pairs(flat: &[String]) -> Vec<(&str, &str)> {
    flat.chunks_exact(2)
        .map(|p| (p[0].as_str(), p[1].as_str()))
        .collect()
}

/// Adds `amount` and keeps the exemplar; a bad amount or exemplar (over 128 characters)
/// throws and adds nothing.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_counterIncWithExemplar(
    mut env: JNIEnv,
    _: JClass,
    series: jlong,
    amount: jdouble,
    labels: JObjectArray,
) {
    guard(&mut env, (), |env| {
        let flat = exemplar_labels(env, &labels)?;
        // SAFETY: the Java caller passes a live counter series handle.
        let counter = unsafe { borrow::<Counter>(series) };
        Ok(counter.inc_with_exemplar(amount, &pairs(&flat))?)
    });
}

/// Observes `value` and keeps the exemplar for its bucket; a bad exemplar (over 128
/// characters) throws and records nothing.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_histogramObserveWithExemplar(
    mut env: JNIEnv,
    _: JClass,
    series: jlong,
    value: jdouble,
    labels: JObjectArray,
) {
    guard(&mut env, (), |env| {
        let flat = exemplar_labels(env, &labels)?;
        // SAFETY: the Java caller passes a live histogram series handle.
        let histogram = unsafe { borrow::<Histogram>(series) };
        Ok(histogram.observe_with_exemplar(value, &pairs(&flat))?)
    });
}

fn doubles(env: &mut JNIEnv<'_>, array: &JDoubleArray<'_>) -> JResult<Option<Vec<f64>>> {
    if array.is_null() {
        return Ok(None);
    }
    let mut out = vec![0.0; env.get_array_length(array)? as usize];
    env.get_double_array_region(array, 0, &mut out)?;
    Ok(Some(out))
}

/// Drops the Java object's share of a family (the registry keeps its own).
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_familyFree(
    _: JNIEnv,
    _: JClass,
    family: jlong,
) {
    // SAFETY: called once per handle, by the Java object's cleaner.
    unsafe { free::<AnyFamily>(family) }
}

/// A series handle for the label values; a wrong number of values throws.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_familyLabels(
    mut env: JNIEnv,
    _: JClass,
    family: jlong,
    values: JObjectArray,
    kept: JBooleanArray,
) -> jlong {
    guard(&mut env, 0, |env| {
        let values = string_array(env, &values, "label values")?;
        // SAFETY: the Java caller passes a live family handle.
        let (handle, own) = unsafe { borrow::<AnyFamily>(family) }.series_handle(&values)?;
        env.set_boolean_array_region(&kept, 0, &[own.into()])?;
        Ok(handle)
    })
}

/// Removes the series for the label values; returns whether it existed.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_familyRemove(
    mut env: JNIEnv,
    _: JClass,
    family: jlong,
    values: JObjectArray,
) -> jboolean {
    guard(&mut env, JNI_FALSE, |env| {
        let values = string_array(env, &values, "label values")?;
        // SAFETY: the Java caller passes a live family handle.
        Ok(unsafe { borrow::<AnyFamily>(family) }.remove(&values)?.into())
    })
}

/// Removes the family from the registry it was registered in; returns whether it was there.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_familyUnregister(
    mut env: JNIEnv,
    _: JClass,
    registry: jlong,
    family: jlong,
) -> jboolean {
    guard(&mut env, JNI_FALSE, |_| {
        // SAFETY: the Java caller passes live registry and family handles.
        let (registry, family) = unsafe { (borrow::<RegistryHandle>(registry), borrow::<AnyFamily>(family)) };
        Ok(registry.unregister(family.name()).into())
    })
}

/// Removes every labelled series of the family.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_familyClear(
    mut env: JNIEnv,
    _: JClass,
    family: jlong,
) {
    guard(&mut env, (), |_| {
        // SAFETY: the Java caller passes a live family handle.
        unsafe { borrow::<AnyFamily>(family) }.clear();
        Ok(())
    })
}

/// Drops the Java object's share of a series of `kind`.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_seriesFree(
    _: JNIEnv,
    _: JClass,
    kind: jint,
    series: jlong,
) {
    // SAFETY: called once per handle, by the Java object's cleaner, with the handle's kind.
    unsafe {
        match kind {
            COUNTER => free::<Counter>(series),
            GAUGE => free::<Gauge>(series),
            HISTOGRAM => free::<Histogram>(series),
            SUMMARY => free::<Summary>(series),
            INFO => free::<Info>(series),
            _ => {}
        }
    }
}

// Hot paths: primitives only, no JNI environment, nothing that can panic.
// Every function below is given a live series handle of the kind its name says by the
// Java caller.

#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_counterInc(
    _: JNIEnv,
    _: JClass,
    series: jlong,
) {
    // SAFETY: the Java caller passes a live series handle of this kind.
    unsafe { borrow::<Counter>(series) }.inc();
}

/// Adds a whole amount; a negative one throws the core's error and adds nothing.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_counterIncLong(
    mut env: JNIEnv,
    _: JClass,
    series: jlong,
    amount: jlong,
) {
    // SAFETY: the Java caller passes a live series handle of this kind.
    let counter = unsafe { borrow::<Counter>(series) };
    match u64::try_from(amount) {
        Ok(amount) => counter.inc_by(amount),
        Err(_) => guard(&mut env, (), |_| Ok(counter.inc_by_f64(amount as f64)?)),
    }
}

/// Adds `amount`; one negative or not finite throws the core's error and adds nothing.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_counterIncDouble(
    mut env: JNIEnv,
    _: JClass,
    series: jlong,
    amount: jdouble,
) {
    // SAFETY: the Java caller passes a live series handle of this kind.
    let counter = unsafe { borrow::<Counter>(series) };
    guard(&mut env, (), |_| Ok(counter.inc_by_f64(amount)?));
}

/// Adds `amount` to the series for `values`, checked first: a rejected call (a wrong
/// number of values, a negative or not finite amount) throws and creates no series.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_familyCounterInc(
    mut env: JNIEnv,
    _: JClass,
    family: jlong,
    values: JObjectArray,
    amount: jdouble,
) {
    guard(&mut env, (), |env| {
        let values = string_array(env, &values, "label values")?;
        // SAFETY: the Java caller passes a live family handle.
        match unsafe { borrow::<AnyFamily>(family) } {
            AnyFamily::Counter(counters) => Ok(counters.inc_by_f64(&values, amount)?),
            other => Err(Thrown::illegal_argument(format!(
                "metric `{}` is not a counter",
                other.name()
            ))),
        }
    })
}

#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_counterGet(
    _: JNIEnv,
    _: JClass,
    series: jlong,
) -> jdouble {
    // SAFETY: the Java caller passes a live series handle of this kind.
    unsafe { borrow::<Counter>(series) }.get()
}

#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_gaugeSet(
    _: JNIEnv,
    _: JClass,
    series: jlong,
    v: jdouble,
) {
    // SAFETY: the Java caller passes a live series handle of this kind.
    unsafe { borrow::<Gauge>(series) }.set(v);
}

#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_gaugeAdd(
    _: JNIEnv,
    _: JClass,
    series: jlong,
    v: jdouble,
) {
    // SAFETY: the Java caller passes a live series handle of this kind.
    unsafe { borrow::<Gauge>(series) }.add(v);
}

#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_gaugeSetToCurrentTime(
    _: JNIEnv,
    _: JClass,
    series: jlong,
) {
    // SAFETY: the Java caller passes a live series handle of this kind.
    unsafe { borrow::<Gauge>(series) }.set_to_current_time();
}

#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_gaugeGet(
    _: JNIEnv,
    _: JClass,
    series: jlong,
) -> jdouble {
    // SAFETY: the Java caller passes a live series handle of this kind.
    unsafe { borrow::<Gauge>(series) }.get()
}

#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_histogramObserve(
    mut env: JNIEnv,
    _: JClass,
    series: jlong,
    v: jdouble,
) {
    // SAFETY: the Java caller passes a live histogram series handle.
    let histogram = unsafe { borrow::<Histogram>(series) };
    guard(&mut env, (), |_| Ok(histogram.observe(v)?));
}

#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_summaryObserve(
    mut env: JNIEnv,
    _: JClass,
    series: jlong,
    v: jdouble,
) {
    // SAFETY: the Java caller passes a live summary series handle.
    let summary = unsafe { borrow::<Summary>(series) };
    guard(&mut env, (), |_| Ok(summary.observe(v)?));
}

// Reads for tests and callers that inspect values; not hot.

/// The observation count of a histogram (`kind` 2) or summary (`kind` 3) series.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_distributionCount(
    _: JNIEnv,
    _: JClass,
    kind: jint,
    series: jlong,
) -> jlong {
    distribution(kind, series).0 as jlong
}

/// The sum of observations of a histogram (`kind` 2) or summary (`kind` 3) series.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_distributionSum(
    _: JNIEnv,
    _: JClass,
    kind: jint,
    series: jlong,
) -> jdouble {
    distribution(kind, series).1
}

fn distribution(kind: jint, series: jlong) -> (u64, f64) {
    match kind {
        HISTOGRAM => {
            // SAFETY: the Java caller passes a live series handle of this kind.
            let snapshot = unsafe { borrow::<Histogram>(series) }.snapshot();
            (snapshot.count(), snapshot.sum)
        }
        // SAFETY: the Java caller passes a live series handle of this kind.
        SUMMARY => unsafe { borrow::<Summary>(series) }.get(),
        _ => (0, 0.0),
    }
}

/// A series limit from Java, which has no unsigned integers.
pub(crate) fn series_limit_of(limit: jlong) -> JResult<usize> {
    usize::try_from(limit)
        .map_err(|_| Thrown::illegal_argument(format!("a series limit must not be negative, got {limit}")))
}
