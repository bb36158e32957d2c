//! The four metric families as Ruby objects (`GDS::Metrics::Native::*Family`).
//!
//! Label values arrive as an Array in label-name order (the Ruby layer turns a labels Hash
//! into that Array), or `nil` for a family without labels. Updates hold the GVL: they are a
//! few atomic operations, cheaper than releasing and retaking it.

use crate::error::argument_error;
use gds_metrics::{Counter, Family, Gauge, Histogram, Metric, Summary};
use magnus::{prelude::*, Error, RArray, RString, Ruby};

/// The series of `family` named by `values`, handed to `update`.
fn with_series<M: Metric, R>(
    family: &Family<M>,
    values: Option<RArray>,
    update: impl FnOnce(&M) -> R,
) -> Result<R, Error> {
    match values {
        None => family.with::<&str, R>(&[], update),
        Some(values) => family.with(&label_values(values)?, update),
    }
    .map_err(argument_error)
}

/// Label values as strings: Strings as they are, anything else (Symbols, Integers)
/// through `to_s`, as the Ruby Prometheus client does.
fn label_values(values: RArray) -> Result<Vec<String>, Error> {
    let mut out = Vec::with_capacity(values.len());
    for value in values.into_iter() {
        let string = match RString::from_value(value) {
            Some(string) => string,
            None => value.to_r_string()?,
        };
        out.push(string.to_string()?);
    }
    Ok(out)
}

/// A counter family: series only go up.
#[magnus::wrap(class = "GDS::Metrics::Native::CounterFamily", free_immediately, size)]
pub struct CounterFamily(pub Family<Counter>);

impl CounterFamily {
    /// Checks `by` before finding the series, so a rejected increment does not leave a
    /// new series at zero behind.
    fn increment(&self, values: Option<RArray>, by: f64) -> Result<(), Error> {
        if !(by >= 0.0 && by.is_finite()) {
            return Err(argument_error(gds_metrics::Error::NegativeIncrement {
                metric: self.0.descriptor().name().to_owned(),
                amount: by,
            }));
        }
        with_series(&self.0, values, |c| c.inc_by_f64(by))?.map_err(argument_error)
    }

    fn get(&self, values: Option<RArray>) -> Result<f64, Error> {
        with_series(&self.0, values, Counter::get)
    }

    fn remove(&self, values: RArray) -> Result<bool, Error> {
        self.0.remove(&label_values(values)?).map_err(argument_error)
    }
}

/// A gauge family: series are set, raised and lowered.
#[magnus::wrap(class = "GDS::Metrics::Native::GaugeFamily", free_immediately, size)]
pub struct GaugeFamily(pub Family<Gauge>);

impl GaugeFamily {
    fn set(&self, values: Option<RArray>, value: f64) -> Result<(), Error> {
        with_series(&self.0, values, |g| g.set(value))
    }

    fn add(&self, values: Option<RArray>, delta: f64) -> Result<(), Error> {
        with_series(&self.0, values, |g| g.add(delta))
    }

    fn set_to_current_time(&self, values: Option<RArray>) -> Result<(), Error> {
        with_series(&self.0, values, Gauge::set_to_current_time)
    }

    fn get(&self, values: Option<RArray>) -> Result<f64, Error> {
        with_series(&self.0, values, Gauge::get)
    }

    fn remove(&self, values: RArray) -> Result<bool, Error> {
        self.0.remove(&label_values(values)?).map_err(argument_error)
    }
}

/// A histogram family: observations counted into fixed buckets.
#[magnus::wrap(class = "GDS::Metrics::Native::HistogramFamily", free_immediately, size)]
pub struct HistogramFamily(pub Family<Histogram>);

impl HistogramFamily {
    fn observe(&self, values: Option<RArray>, value: f64) -> Result<(), Error> {
        with_series(&self.0, values, |h| h.observe(value))
    }

    /// `[cumulative counts per bound then +Inf, sum]`.
    fn get(&self, values: Option<RArray>) -> Result<(Vec<u64>, f64), Error> {
        let snapshot = with_series(&self.0, values, Histogram::snapshot)?;
        Ok((snapshot.cumulative, snapshot.sum))
    }

    fn bounds(&self) -> Vec<f64> {
        self.0.config().bounds().to_vec()
    }

    fn remove(&self, values: RArray) -> Result<bool, Error> {
        self.0.remove(&label_values(values)?).map_err(argument_error)
    }
}

/// A summary family: count and sum of observations (no quantiles).
#[magnus::wrap(class = "GDS::Metrics::Native::SummaryFamily", free_immediately, size)]
pub struct SummaryFamily(pub Family<Summary>);

impl SummaryFamily {
    fn observe(&self, values: Option<RArray>, value: f64) -> Result<(), Error> {
        with_series(&self.0, values, |s| s.observe(value))
    }

    /// `[count, sum]`.
    fn get(&self, values: Option<RArray>) -> Result<(u64, f64), Error> {
        with_series(&self.0, values, Summary::get)
    }

    fn remove(&self, values: RArray) -> Result<bool, Error> {
        self.0.remove(&label_values(values)?).map_err(argument_error)
    }
}

/// Defines the family classes under `native`.
pub fn define(ruby: &Ruby, native: magnus::RModule) -> Result<(), Error> {
    use magnus::method;
    let object = ruby.class_object();

    let counter = native.define_class("CounterFamily", object)?;
    counter.define_method("increment", method!(CounterFamily::increment, 2))?;
    counter.define_method("get", method!(CounterFamily::get, 1))?;
    counter.define_method("remove", method!(CounterFamily::remove, 1))?;

    let gauge = native.define_class("GaugeFamily", object)?;
    gauge.define_method("set", method!(GaugeFamily::set, 2))?;
    gauge.define_method("add", method!(GaugeFamily::add, 2))?;
    gauge.define_method(
        "set_to_current_time",
        method!(GaugeFamily::set_to_current_time, 1),
    )?;
    gauge.define_method("get", method!(GaugeFamily::get, 1))?;
    gauge.define_method("remove", method!(GaugeFamily::remove, 1))?;

    let histogram = native.define_class("HistogramFamily", object)?;
    histogram.define_method("observe", method!(HistogramFamily::observe, 2))?;
    histogram.define_method("get", method!(HistogramFamily::get, 1))?;
    histogram.define_method("bounds", method!(HistogramFamily::bounds, 0))?;
    histogram.define_method("remove", method!(HistogramFamily::remove, 1))?;

    let summary = native.define_class("SummaryFamily", object)?;
    summary.define_method("observe", method!(SummaryFamily::observe, 2))?;
    summary.define_method("get", method!(SummaryFamily::get, 1))?;
    summary.define_method("remove", method!(SummaryFamily::remove, 1))?;
    Ok(())
}
