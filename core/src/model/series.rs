//! The value of one series at a scrape, as every writer reads it.
//!
//! A metric kind, the multi-process aggregate and a collector all describe a series with
//! a [`SeriesValue`]: it borrows what the source already holds (bucket counts in a
//! reused buffer, exemplars, native buckets), so writing a series allocates nothing. A
//! collector that computes its families at scrape time may build the owned form,
//! [`FamilySnapshot`], instead.

use super::descriptor::Descriptor;
use super::exemplar::Exemplar;
use super::native::NativeSnapshot;

/// A label a source adds after the family's own, such as `pid` for a multi-process gauge
/// that keeps one series per process.
pub type ExtraLabel<'l> = Option<(&'l str, &'l str)>;

/// Where a source hands the series of one family, one call each: label values in the
/// order of the family's label names, an extra label, and the value.
pub type SeriesSink<'s> = dyn FnMut(&[&str], ExtraLabel<'_>, &SeriesValue<'_>) + 's;

/// Where a source that keeps its families in its own form (the multi-process aggregate)
/// hands each family: its descriptor, and a function that hands its series to a sink.
pub type FamilySink<'s> = dyn FnMut(&Descriptor, &mut dyn FnMut(&mut SeriesSink<'_>)) + 's;

/// One series' value, borrowed from where it is kept.
#[derive(Debug, Clone, Copy)]
pub enum SeriesValue<'a> {
    /// A counter: its total, when it was created or reset (seconds since the Unix epoch)
    /// and its newest exemplar.
    Counter {
        /// The total.
        value: f64,
        /// When the series was created or last reset.
        created: Option<f64>,
        /// The newest exemplar, if any.
        exemplar: Option<&'a Exemplar>,
    },
    /// A gauge's (or an unknown-type family's) value.
    Gauge(f64),
    /// A histogram with classic buckets, native buckets or both.
    Histogram(HistogramValue<'a>),
    /// A summary: count, sum and any quantiles.
    Summary(SummaryValue<'a>),
    /// An info series: its labels are the information, its value is always 1.
    Info,
}

/// One histogram series.
#[derive(Debug, Clone, Copy)]
pub struct HistogramValue<'a> {
    /// The finite classic bucket bounds; empty for a native-only histogram.
    pub bounds: &'a [f64],
    /// Cumulative counts for each bound, then `+Inf`; empty for a native-only histogram.
    pub cumulative: &'a [u64],
    /// The number of observations.
    pub count: u64,
    /// The sum of all observations.
    pub sum: f64,
    /// When the series was created or last reset (seconds since the Unix epoch).
    pub created: Option<f64>,
    /// The newest exemplar of each classic bucket (same length as `cumulative`), or of
    /// the series for a native-only histogram; empty when none.
    pub exemplars: &'a [Option<Exemplar>],
    /// The native buckets, if the histogram keeps them.
    pub native: Option<&'a NativeSnapshot>,
}

impl<'a> HistogramValue<'a> {
    /// A classic histogram without exemplars: `cumulative` holds one count per bound and
    /// then the `+Inf` count, which is also the number of observations.
    pub fn classic(bounds: &'a [f64], cumulative: &'a [u64], sum: f64, created: Option<f64>) -> Self {
        HistogramValue {
            bounds,
            cumulative,
            count: cumulative.last().copied().unwrap_or(0),
            sum,
            created,
            exemplars: &[],
            native: None,
        }
    }
}

/// One summary series.
#[derive(Debug, Clone, Copy, Default)]
pub struct SummaryValue<'a> {
    /// The number of observations.
    pub count: u64,
    /// The sum of all observations.
    pub sum: f64,
    /// When the series was created or last reset (seconds since the Unix epoch).
    pub created: Option<f64>,
    /// The quantiles, ascending (empty for a summary of count and sum only).
    pub quantiles: &'a [Quantile],
}

/// One quantile of a summary: `value` is the `quantile` (0 to 1) of the observations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantile {
    /// Which quantile, from 0 to 1.
    pub quantile: f64,
    /// Its value.
    pub value: f64,
}

/// A family computed at scrape time: its descriptor and its series, owned.
#[derive(Debug, Clone)]
pub struct FamilySnapshot {
    /// What the family is.
    pub descriptor: Descriptor,
    /// Its series, written in this order.
    pub series: Vec<SeriesSnapshot>,
}

/// One owned series: label values in the order of the descriptor's label names, and
/// its value.
#[derive(Debug, Clone)]
pub struct SeriesSnapshot {
    /// The label values.
    pub labels: Vec<String>,
    /// The value.
    pub value: OwnedValue,
}

/// The owned form of [`SeriesValue`].
#[derive(Debug, Clone)]
pub enum OwnedValue {
    /// See [`SeriesValue::Counter`].
    Counter {
        /// The total.
        value: f64,
        /// When the series was created or last reset.
        created: Option<f64>,
        /// The newest exemplar, if any.
        exemplar: Option<Exemplar>,
    },
    /// See [`SeriesValue::Gauge`].
    Gauge(f64),
    /// See [`HistogramValue`]; the count is the last cumulative count (`+Inf`).
    Histogram {
        /// The finite bucket bounds.
        bounds: Vec<f64>,
        /// Cumulative counts for each bound, then `+Inf`.
        cumulative: Vec<u64>,
        /// The sum of all observations.
        sum: f64,
        /// When the series was created or last reset.
        created: Option<f64>,
    },
    /// See [`SummaryValue`].
    Summary {
        /// The number of observations.
        count: u64,
        /// The sum of all observations.
        sum: f64,
        /// When the series was created or last reset.
        created: Option<f64>,
        /// The quantiles, ascending.
        quantiles: Vec<Quantile>,
    },
    /// See [`SeriesValue::Info`].
    Info,
}

impl OwnedValue {
    /// The value as writers read it, borrowing this one.
    pub fn as_value(&self) -> SeriesValue<'_> {
        match self {
            OwnedValue::Counter {
                value,
                created,
                exemplar,
            } => SeriesValue::Counter {
                value: *value,
                created: *created,
                exemplar: exemplar.as_ref(),
            },
            OwnedValue::Gauge(value) => SeriesValue::Gauge(*value),
            OwnedValue::Histogram {
                bounds,
                cumulative,
                sum,
                created,
            } => SeriesValue::Histogram(HistogramValue::classic(bounds, cumulative, *sum, *created)),
            OwnedValue::Summary {
                count,
                sum,
                created,
                quantiles,
            } => SeriesValue::Summary(SummaryValue {
                count: *count,
                sum: *sum,
                created: *created,
                quantiles,
            }),
            OwnedValue::Info => SeriesValue::Info,
        }
    }
}
