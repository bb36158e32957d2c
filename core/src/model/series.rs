//! The value of one series at a scrape, as every writer reads it.
//!
//! A metric kind, the multi-process aggregate and a collector all describe a series with
//! a [`SeriesValue`]: it borrows what the source already holds (bucket counts in a
//! reused buffer, exemplars, native buckets), so writing a series allocates nothing. A
//! collector that computes its families at scrape time may build the owned form,
//! [`FamilySnapshot`], instead.

use super::descriptor::{Descriptor, MetricType};
use super::exemplar::Exemplar;
use super::native::NativeSnapshot;
use crate::error::{Error, Result};

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
    /// A state set's states, in the order they are written, and which of them are set.
    StateSet(&'a [State]),
}

/// One state of a state set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// The state's name, written as the value of the family's state label.
    pub name: String,
    /// Whether the state is set (written 1) or not (written 0).
    pub set: bool,
}

impl State {
    /// The state `name`, set or not.
    pub fn new(name: impl Into<String>, set: bool) -> Self {
        State {
            name: name.into(),
            set,
        }
    }

    /// The state's sample value in every format: 1 when set, 0 when not (OpenMetrics
    /// booleans).
    pub fn value(&self) -> f64 {
        if self.set {
            1.0
        } else {
            0.0
        }
    }
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
///
/// A collector that builds families from values it did not check itself (a bridge from
/// another metrics library) builds them with [`FamilySnapshot::new`], which refuses a
/// family the writers could only write wrong.
#[derive(Debug, Clone)]
pub struct FamilySnapshot {
    /// What the family is.
    pub descriptor: Descriptor,
    /// Its series, written in this order.
    pub series: Vec<SeriesSnapshot>,
}

impl FamilySnapshot {
    /// A family whose every series fits its descriptor: one label value per label name,
    /// a value of the family's type (a gauge value in an unknown-type family), a histogram
    /// with one cumulative count per bound and then `+Inf`, and a state set whose states
    /// are named, each once.
    pub fn new(descriptor: Descriptor, series: Vec<SeriesSnapshot>) -> Result<Self> {
        for one in &series {
            descriptor.check_label_count(one.labels.len())?;
            one.value.check_fits(&descriptor)?;
        }
        Ok(FamilySnapshot { descriptor, series })
    }
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
    /// See [`SeriesValue::StateSet`].
    StateSet(Vec<State>),
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
            OwnedValue::StateSet(states) => SeriesValue::StateSet(states),
        }
    }

    /// The family type this value is written in.
    fn kind(&self) -> MetricType {
        match self {
            OwnedValue::Counter { .. } => MetricType::Counter,
            OwnedValue::Gauge(_) => MetricType::Gauge,
            OwnedValue::Histogram { .. } => MetricType::Histogram,
            OwnedValue::Summary { .. } => MetricType::Summary,
            OwnedValue::Info => MetricType::Info,
            OwnedValue::StateSet(_) => MetricType::StateSet,
        }
    }

    /// Fails unless this value can be written in the family `desc` (see
    /// [`FamilySnapshot::new`]).
    fn check_fits(&self, desc: &Descriptor) -> Result<()> {
        let metric = || desc.name().to_owned();
        let kind = match (desc.kind(), self.kind()) {
            (MetricType::Unknown, MetricType::Gauge) => MetricType::Unknown,
            (_, kind) => kind,
        };
        if kind != desc.kind() {
            return Err(Error::ValueKind {
                metric: metric(),
                family: format!("{:?}", desc.kind()),
                value: format!("{:?}", self.kind()),
            });
        }
        match self {
            OwnedValue::Histogram { bounds, cumulative, .. } if bounds.len() + 1 != cumulative.len() => {
                Err(Error::InvalidBuckets {
                    metric: metric(),
                    reason: format!(
                        "a series has {} bound(s) and {} cumulative count(s); give one count per bound, then the +Inf count",
                        bounds.len(),
                        cumulative.len()
                    ),
                })
            }
            OwnedValue::StateSet(states) => check_states(desc.name(), states),
            _ => Ok(()),
        }
    }
}

/// Fails on a state without a name (OpenMetrics reads an empty label value as no label,
/// so its sample would have the series' labels alone) or one named twice (two samples with
/// the same labels, which Prometheus refuses).
fn check_states(metric: &str, states: &[State]) -> Result<()> {
    for (i, state) in states.iter().enumerate() {
        let reason = if state.name.is_empty() {
            "a state needs a name: an empty label value reads as no label at all"
        } else if states[..i].iter().any(|seen| seen.name == state.name) {
            "it is given twice in one series; give each state once"
        } else {
            continue;
        };
        return Err(Error::InvalidState {
            metric: metric.to_owned(),
            state: state.name.clone(),
            reason,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Opts;

    fn state_set(labels: &[&str]) -> Descriptor {
        Descriptor::new(
            Opts::new("worker_state", "h").labels(labels.iter().copied()),
            MetricType::StateSet,
        )
        .unwrap()
    }

    fn series(labels: &[&str], value: OwnedValue) -> Vec<SeriesSnapshot> {
        vec![SeriesSnapshot {
            labels: labels.iter().map(|l| l.to_string()).collect(),
            value,
        }]
    }

    #[test]
    fn a_state_set_family_takes_named_distinct_states() {
        let states = vec![State::new("idle", false), State::new("busy", true)];
        let family = FamilySnapshot::new(
            state_set(&["queue"]),
            series(&["mail"], OwnedValue::StateSet(states)),
        );
        assert!(family.is_ok(), "{family:?}");
    }

    #[test]
    fn a_state_given_twice_is_refused_naming_it() {
        let states = vec![
            State::new("idle", false),
            State::new("busy", true),
            State::new("idle", true),
        ];
        let err = FamilySnapshot::new(state_set(&[]), series(&[], OwnedValue::StateSet(states))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid state `idle` of state set `worker_state`: it is given twice in one series; give each state once"
        );
    }

    #[test]
    fn a_state_without_a_name_is_refused() {
        let states = vec![State::new("", true)];
        let err = FamilySnapshot::new(state_set(&[]), series(&[], OwnedValue::StateSet(states))).unwrap_err();
        assert!(matches!(err, Error::InvalidState { .. }), "{err}");
    }

    #[test]
    fn a_value_of_another_type_is_refused() {
        let err = FamilySnapshot::new(state_set(&[]), series(&[], OwnedValue::Gauge(1.0))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "family `worker_state` is a StateSet but a series holds a Gauge value; hand over values of the family's type"
        );
        let unknown = Descriptor::new(Opts::new("u", "h"), MetricType::Unknown).unwrap();
        assert!(FamilySnapshot::new(unknown, series(&[], OwnedValue::Gauge(1.0))).is_ok());
    }

    #[test]
    fn label_values_must_match_label_names() {
        let err = FamilySnapshot::new(state_set(&["queue"]), series(&[], OwnedValue::StateSet(vec![])))
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::LabelCount {
                    expected: 1,
                    got: 0,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn a_histogram_needs_a_count_per_bound_and_inf() {
        let desc = Descriptor::new(Opts::new("h", "h"), MetricType::Histogram).unwrap();
        let histogram = OwnedValue::Histogram {
            bounds: vec![1.0, 2.0],
            cumulative: vec![1, 2],
            sum: 1.0,
            created: None,
        };
        let err = FamilySnapshot::new(desc, series(&[], histogram)).unwrap_err();
        assert!(matches!(err, Error::InvalidBuckets { .. }), "{err}");
    }
}
