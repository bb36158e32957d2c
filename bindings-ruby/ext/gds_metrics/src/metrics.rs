//! The four metric families as Ruby objects (`GDS::Metrics::Native::*Family`).
//!
//! Label values arrive as an Array in label-name order (the Ruby layer turns a labels Hash
//! into that Array), or `nil` for a family without labels. Updates hold the GVL: they are a
//! few atomic operations, cheaper than releasing and retaking it.

use crate::direct::Direct;
use crate::error::{argument_error, raise};
use gds_metrics::{Counter, Family, Gauge, Histogram, Metric, Summary};
use magnus::gc::Marker;
use magnus::rb_sys::{protect, AsRawValue, FromRawValue};
use magnus::{prelude::*, DataTypeFunctions, Error, RArray, RHash, RString, Ruby, Symbol, Value};
use rb_sys::special_consts::{Qnil, Qundef};
use rb_sys::VALUE;
use smallvec::SmallVec;
use std::borrow::Cow;
use std::os::raw::c_long;

/// The series of `family` named by `labels` (a Hash keyed by the Symbols in `keys`, the
/// family's label names in order; nil for a family without labels), handed to `update`.
fn with_series<M: Metric, R>(
    family: &Family<M>,
    keys: RArray,
    labels: Option<RHash>,
    update: impl FnOnce(&M) -> R,
) -> Result<R, Error> {
    let given = labels.map_or(0, RHash::len);
    if given == 0 && keys.is_empty() {
        return family.with::<&str, R>(&[], update).map_err(raise);
    }
    let mut values = Values::new();
    fill_values(family, keys, labels, &mut values)?;
    family.with(&values, update).map_err(raise)
}

/// Fills `values` with the values of `labels` in the order of `keys`; an ArgumentError
/// naming the family's labels when the Hash has other keys.
fn fill_values<'a, M: Metric>(
    family: &Family<M>,
    keys: RArray,
    labels: Option<RHash>,
    values: &mut Values<'a>,
) -> Result<(), Error> {
    let complete = match labels {
        _ if keys.is_empty() && labels.map_or(0, RHash::len) == 0 => true,
        Some(given) if given.len() == keys.len() => label_values(keys, given, values)?,
        _ => false,
    };
    if !complete {
        return Err(wrong_labels(family, keys, labels));
    }
    Ok(())
}

/// One series as `[label values, what was read]`.
type Series<R> = (Vec<String>, R);

/// Every series of `family` as `[label values, what read gives]`, for `values`.
fn series_of<M: Metric, R>(family: &Family<M>, read: impl Fn(&M) -> R) -> Vec<Series<R>> {
    let mut out = Vec::new();
    family.for_each(|values, series| {
        out.push((values.iter().map(|v| v.to_string()).collect(), read(series)));
    });
    out
}

/// Label values for up to this many labels live on the stack.
type Values<'a> = SmallVec<[Cow<'a, str>; 8]>;

/// Fills `values` with the label values in key order; false if a key is missing. Strings
/// are borrowed, not copied; Symbols and numbers go through their names or `to_s`, as in
/// prometheus-client.
fn label_values<'a>(keys: RArray, labels: RHash, values: &mut Values<'a>) -> Result<bool, Error> {
    let mut found: SmallVec<[VALUE; 8]> = SmallVec::new();
    // One `rb_protect` around every lookup: a lookup cannot raise unless a colliding key
    // of a user class has an `eql?` that does, but that must still become an exception.
    protect(|| {
        for index in 0..keys.len() {
            // SAFETY: `keys` and `labels` are live Array and Hash objects.
            let value = unsafe {
                let key = rb_sys::rb_ary_entry(keys.as_raw(), index as c_long);
                rb_sys::rb_hash_lookup2(labels.as_raw(), key, Qundef as VALUE)
            };
            if value == Qundef as VALUE {
                break;
            }
            found.push(value);
        }
        Qnil as VALUE
    })?;
    if found.len() != keys.len() {
        return Ok(false);
    }
    for raw in found {
        // SAFETY: each VALUE was just read from the live labels Hash.
        values.push(label_value(unsafe { Value::from_raw(raw) })?);
    }
    Ok(true)
}

fn label_value<'a>(value: Value) -> Result<Cow<'a, str>, Error> {
    if let Some(string) = RString::from_value(value) {
        // SAFETY: the string is reachable from the caller's labels Hash and no Ruby code
        // runs before the core copies or drops the borrowed values.
        let borrowed: *const str = unsafe { string.as_str()? };
        // SAFETY: `borrowed` points into the string above, which the same contract keeps alive.
        return Ok(Cow::Borrowed(unsafe { &*borrowed }));
    }
    if let Some(symbol) = Symbol::from_value(value) {
        return symbol.name();
    }
    Ok(Cow::Owned(value.to_r_string()?.to_string()?))
}

/// The ArgumentError for labels that do not match the family's label names.
fn wrong_labels<M: Metric>(family: &Family<M>, keys: RArray, labels: Option<RHash>) -> Error {
    let given = match labels {
        Some(labels) => labels
            .funcall::<_, _, Value>("keys", ())
            .map_or_else(|e| e.to_string(), |keys| keys.inspect()),
        None => "[]".to_owned(),
    };
    argument_error(format!(
        "metric :{} has labels {} but was given {}; give exactly these labels",
        family.descriptor().name(),
        keys.inspect(),
        given
    ))
}

/// Label values given as an Array, in label-name order (for `remove`).
fn ordered_values(values: RArray) -> Result<Vec<String>, Error> {
    let mut out = Vec::with_capacity(values.len());
    for value in values.into_iter() {
        out.push(label_value(value)?.into_owned());
    }
    Ok(out)
}

/// Removes the series for `values`, and every series the fast entries cached, so none
/// of them updates a series the family no longer exposes.
fn forget<M: Metric>(family: &Family<M>, direct: &Direct<M>, values: RArray) -> Result<bool, Error> {
    let removed = family.remove(&ordered_values(values)?).map_err(raise);
    direct.clear();
    removed
}

/// Exemplar labels as the core takes them.
fn pairs(exemplar: &[(String, String)]) -> Vec<(&str, &str)> {
    exemplar.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect()
}

/// A counter family: series only go up.
#[derive(magnus::TypedData)]
#[magnus(class = "GDS::Metrics::Native::CounterFamily", free_immediately, size, mark)]
pub(crate) struct CounterFamily(pub Family<Counter>, pub Direct<Counter>);

impl CounterFamily {
    /// The family object of `family`.
    pub(crate) fn new(family: Family<Counter>) -> Self {
        let direct = Direct::new(&family);
        Self(family, direct)
    }
}

impl DataTypeFunctions for CounterFamily {
    fn mark(&self, _: &Marker) {
        self.1.mark();
    }
}

impl CounterFamily {
    /// The core checks `by` before finding the series, so a rejected increment leaves no
    /// new series at zero behind.
    fn increment(&self, keys: RArray, labels: Option<RHash>, by: f64) -> Result<(), Error> {
        let mut values = Values::new();
        fill_values(&self.0, keys, labels, &mut values)?;
        self.0.inc_by_f64(&values, by).map_err(raise)
    }

    /// As [`CounterFamily::increment`], keeping `exemplar` (`[[name, value], ...]`) as
    /// the series' exemplar; nothing is added when the core rejects it.
    fn increment_with_exemplar(
        &self,
        keys: RArray,
        labels: Option<RHash>,
        by: f64,
        exemplar: Vec<(String, String)>,
    ) -> Result<(), Error> {
        let exemplar = pairs(&exemplar);
        with_series(&self.0, keys, labels, |c| c.inc_with_exemplar(by, &exemplar))?.map_err(raise)
    }

    fn series(&self) -> Vec<Series<f64>> {
        series_of(&self.0, Counter::get)
    }

    fn get(&self, keys: RArray, labels: Option<RHash>) -> Result<f64, Error> {
        with_series(&self.0, keys, labels, Counter::get)
    }

    fn remove(&self, values: RArray) -> Result<bool, Error> {
        forget(&self.0, &self.1, values)
    }
}

/// A gauge family: series are set, raised and lowered.
#[magnus::wrap(class = "GDS::Metrics::Native::GaugeFamily", free_immediately, size)]
pub(crate) struct GaugeFamily(pub Family<Gauge>);

impl GaugeFamily {
    fn set(&self, keys: RArray, labels: Option<RHash>, value: f64) -> Result<(), Error> {
        with_series(&self.0, keys, labels, |g| g.set(value))
    }

    fn add(&self, keys: RArray, labels: Option<RHash>, delta: f64) -> Result<(), Error> {
        with_series(&self.0, keys, labels, |g| g.add(delta))
    }

    fn set_to_current_time(&self, keys: RArray, labels: Option<RHash>) -> Result<(), Error> {
        with_series(&self.0, keys, labels, Gauge::set_to_current_time)
    }

    fn get(&self, keys: RArray, labels: Option<RHash>) -> Result<f64, Error> {
        with_series(&self.0, keys, labels, Gauge::get)
    }

    fn series(&self) -> Vec<Series<f64>> {
        series_of(&self.0, Gauge::get)
    }

    fn remove(&self, values: RArray) -> Result<bool, Error> {
        self.0.remove(&ordered_values(values)?).map_err(raise)
    }
}

/// A histogram family: observations counted into fixed buckets.
#[derive(magnus::TypedData)]
#[magnus(class = "GDS::Metrics::Native::HistogramFamily", free_immediately, size, mark)]
pub(crate) struct HistogramFamily(pub Family<Histogram>, pub Direct<Histogram>);

impl HistogramFamily {
    /// The family object of `family`.
    pub(crate) fn new(family: Family<Histogram>) -> Self {
        let direct = Direct::new(&family);
        Self(family, direct)
    }
}

impl DataTypeFunctions for HistogramFamily {
    fn mark(&self, _: &Marker) {
        self.1.mark();
    }
}

impl HistogramFamily {
    fn observe(&self, keys: RArray, labels: Option<RHash>, value: f64) -> Result<(), Error> {
        with_series(&self.0, keys, labels, |h| h.observe(value))?.map_err(raise)
    }

    /// As [`HistogramFamily::observe`], keeping `exemplar` (`[[name, value], ...]`) as
    /// the exemplar of the value's bucket; nothing is recorded when the core rejects it.
    fn observe_with_exemplar(
        &self,
        keys: RArray,
        labels: Option<RHash>,
        value: f64,
        exemplar: Vec<(String, String)>,
    ) -> Result<(), Error> {
        let exemplar = pairs(&exemplar);
        with_series(&self.0, keys, labels, |h| {
            h.observe_with_exemplar(value, &exemplar)
        })?
        .map_err(raise)
    }

    /// `[cumulative counts per bound then +Inf, sum]`.
    fn get(&self, keys: RArray, labels: Option<RHash>) -> Result<(Vec<u64>, f64), Error> {
        let snapshot = with_series(&self.0, keys, labels, Histogram::snapshot)?;
        Ok((snapshot.cumulative, snapshot.sum))
    }

    fn series(&self) -> Vec<Series<(Vec<u64>, f64)>> {
        series_of(&self.0, |h| {
            let snapshot = h.snapshot();
            (snapshot.cumulative, snapshot.sum)
        })
    }

    fn bounds(&self) -> Vec<f64> {
        self.0.config().bounds().to_vec()
    }

    fn remove(&self, values: RArray) -> Result<bool, Error> {
        forget(&self.0, &self.1, values)
    }
}

/// A summary family: count and sum of observations (no quantiles).
#[derive(magnus::TypedData)]
#[magnus(class = "GDS::Metrics::Native::SummaryFamily", free_immediately, size, mark)]
pub(crate) struct SummaryFamily(pub Family<Summary>, pub Direct<Summary>);

impl SummaryFamily {
    /// The family object of `family`.
    pub(crate) fn new(family: Family<Summary>) -> Self {
        let direct = Direct::new(&family);
        Self(family, direct)
    }
}

impl DataTypeFunctions for SummaryFamily {
    fn mark(&self, _: &Marker) {
        self.1.mark();
    }
}

impl SummaryFamily {
    fn observe(&self, keys: RArray, labels: Option<RHash>, value: f64) -> Result<(), Error> {
        with_series(&self.0, keys, labels, |s| s.observe(value))?.map_err(raise)
    }

    /// `[count, sum]`.
    fn get(&self, keys: RArray, labels: Option<RHash>) -> Result<(u64, f64), Error> {
        with_series(&self.0, keys, labels, Summary::get)
    }

    fn series(&self) -> Vec<Series<(u64, f64)>> {
        series_of(&self.0, Summary::get)
    }

    fn remove(&self, values: RArray) -> Result<bool, Error> {
        forget(&self.0, &self.1, values)
    }
}

/// Defines the family classes under `native`.
pub(crate) fn define(ruby: &Ruby, native: magnus::RModule) -> Result<(), Error> {
    use magnus::method;
    let object = ruby.class_object();

    let counter = native.define_class("CounterFamily", object)?;
    counter.define_method("increment", method!(CounterFamily::increment, 3))?;
    counter.define_method(
        "increment_with_exemplar",
        method!(CounterFamily::increment_with_exemplar, 4),
    )?;
    counter.define_method("get", method!(CounterFamily::get, 2))?;
    counter.define_method("remove", method!(CounterFamily::remove, 1))?;
    counter.define_method("series", method!(CounterFamily::series, 0))?;

    let gauge = native.define_class("GaugeFamily", object)?;
    gauge.define_method("set", method!(GaugeFamily::set, 3))?;
    gauge.define_method("add", method!(GaugeFamily::add, 3))?;
    gauge.define_method(
        "set_to_current_time",
        method!(GaugeFamily::set_to_current_time, 2),
    )?;
    gauge.define_method("get", method!(GaugeFamily::get, 2))?;
    gauge.define_method("remove", method!(GaugeFamily::remove, 1))?;
    gauge.define_method("series", method!(GaugeFamily::series, 0))?;

    let histogram = native.define_class("HistogramFamily", object)?;
    histogram.define_method("observe", method!(HistogramFamily::observe, 3))?;
    histogram.define_method(
        "observe_with_exemplar",
        method!(HistogramFamily::observe_with_exemplar, 4),
    )?;
    histogram.define_method("get", method!(HistogramFamily::get, 2))?;
    histogram.define_method("bounds", method!(HistogramFamily::bounds, 0))?;
    histogram.define_method("remove", method!(HistogramFamily::remove, 1))?;
    histogram.define_method("series", method!(HistogramFamily::series, 0))?;

    let summary = native.define_class("SummaryFamily", object)?;
    summary.define_method("observe", method!(SummaryFamily::observe, 3))?;
    summary.define_method("get", method!(SummaryFamily::get, 2))?;
    summary.define_method("remove", method!(SummaryFamily::remove, 1))?;
    summary.define_method("series", method!(SummaryFamily::series, 0))?;
    Ok(())
}
