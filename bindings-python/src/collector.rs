//! Families computed by Python at scrape time, written through the core's encoder.
//!
//! A [`PyCollector`] is a core [`Collector`] that calls a Python callable when a scrape
//! renders its registry. The callable returns families as plain tuples (built by
//! `gds_metrics._families`); this file only checks their shape and builds the core's
//! [`FamilySnapshot`]s, which the core's [`Encoder`] writes, so every exposition format
//! stays the core's, and [`FamilySnapshot::new`] checks each family as the core does for
//! any collector. `prometheus_client`'s default registry reaches our scrape this way, as do
//! `Info` and `Enum` metrics.
//!
//! A callable that raises, or returns something that is not families, is skipped for
//! that scrape and reported through `sys.unraisablehook` (printed to stderr by default):
//! it never breaks the scrape.

use crate::error::OrRaise;
use gds_metrics::{
    Collector, Descriptor, Encoder, FamilySnapshot, MetricType, Opts, OwnedValue, Quantile, Registry,
    SeriesSnapshot, State,
};
use pyo3::prelude::*;
use std::sync::{Arc, Weak};

/// Calls `collect` at scrape time; `descriptors` are the families it claims at
/// registration (so a clash with another metric is an error then), empty for a bridge
/// whose families are only known when it runs.
pub(crate) struct PyCollector {
    collect: Py<PyAny>,
    /// The `collector` label of the failure counter: what the user wrote (see [`python_name`]).
    name: String,
    descriptors: Vec<Descriptor>,
    /// For a bridge: the registry whose own families win over same-named ones it returns
    /// (Prometheus refuses a whole scrape that has a family twice).
    yields_to: Option<Weak<Registry>>,
}

impl PyCollector {
    pub(crate) fn new(collect: Bound<'_, PyAny>, descriptors: Vec<Descriptor>) -> Self {
        Self {
            name: python_name(&collect),
            collect: collect.unbind(),
            descriptors,
            yields_to: None,
        }
    }

    /// A collector of another library's families, each left out when `registry` has a
    /// family of the same name.
    pub(crate) fn bridge(collect: Bound<'_, PyAny>, registry: &Arc<Registry>) -> Self {
        Self {
            name: python_name(&collect),
            collect: collect.unbind(),
            descriptors: Vec::new(),
            yields_to: Some(Arc::downgrade(registry)),
        }
    }

    /// Whether the registry writes this family itself; then a `RuntimeWarning` says so.
    fn taken(&self, py: Python<'_>, family: &FamilySnapshot) -> bool {
        let name = family.descriptor.name();
        let taken = self
            .yields_to
            .as_ref()
            .and_then(Weak::upgrade)
            .is_some_and(|registry| registry.clashes(&family.descriptor));
        if taken {
            let message = format!(
                "`{name}` is defined both with prometheus_client and with gds_metrics; the scrape shows the gds_metrics one: rename one of them"
            );
            let message = std::ffi::CString::new(message).unwrap_or_default();
            let warning = py.get_type::<pyo3::exceptions::PyRuntimeWarning>();
            if let Err(error) = PyErr::warn(py, &warning, &message, 1) {
                error.write_unraisable(py, None);
            }
        }
        taken
    }
}

/// `collect`'s module and qualified name (`app.spool_files`, `app.Spool.collect`), or its
/// type's for an object without its own (a `functools.partial`): the name an operator
/// finds in the app's code when the failure counter names it.
fn python_name(collect: &Bound<'_, PyAny>) -> String {
    let attribute = |object: &Bound<'_, PyAny>, name: &str| {
        object
            .getattr(name)
            .ok()
            .and_then(|value| value.extract::<String>().ok())
    };
    let named = |object: &Bound<'_, PyAny>| {
        let qualname = attribute(object, "__qualname__")?;
        Some(match attribute(object, "__module__") {
            Some(module) => format!("{module}.{qualname}"),
            None => qualname,
        })
    };
    named(collect)
        .or_else(|| named(collect.get_type().as_any()))
        .unwrap_or_else(|| "collector".to_owned())
}

/// The descriptor of a family definition `(kind, name, help, unit, labelnames)`.
pub(crate) fn descriptor(
    kind: &str,
    name: &str,
    help: &str,
    unit: &str,
    labels: &[String],
) -> PyResult<Descriptor> {
    let metric_type = metric_type(kind)?;
    let mut opts = Opts::new(name, help).labels(labels.iter().cloned());
    if !unit.is_empty() {
        opts = opts.unit(unit);
    }
    Descriptor::new(opts, metric_type).or_raise()
}

fn metric_type(kind: &str) -> PyResult<MetricType> {
    Ok(match kind {
        "counter" => MetricType::Counter,
        "gauge" => MetricType::Gauge,
        "histogram" => MetricType::Histogram,
        "summary" => MetricType::Summary,
        "info" => MetricType::Info,
        "stateset" => MetricType::StateSet,
        "unknown" => MetricType::Unknown,
        other => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "unknown family kind {other:?}; use counter, gauge, histogram, summary, info, stateset or unknown"
            )))
        }
    })
}

/// A summary series as the callable returns it: label values, count, sum, created, and
/// `(quantile, value)` pairs (which may be left out).
type SummaryTuple = (Vec<String>, u64, f64, Option<f64>, Vec<(f64, f64)>);

fn series(kind: MetricType, raw: &Bound<'_, PyAny>) -> PyResult<SeriesSnapshot> {
    let (labels, value) = match kind {
        MetricType::Counter => {
            let (values, value, created): (Vec<String>, f64, Option<f64>) = raw.extract()?;
            let counter = OwnedValue::Counter {
                value,
                created,
                exemplar: None,
            };
            (values, counter)
        }
        MetricType::Gauge | MetricType::Unknown => {
            let (values, value): (Vec<String>, f64) = raw.extract()?;
            (values, OwnedValue::Gauge(value))
        }
        MetricType::Histogram => {
            let (values, bounds, cumulative, sum, created) = raw.extract()?;
            let histogram = OwnedValue::Histogram {
                bounds,
                cumulative,
                sum,
                created,
            };
            (values, histogram)
        }
        MetricType::Summary => {
            let (values, count, sum, created, quantiles) = match raw.extract::<SummaryTuple>() {
                Ok(summary) => summary,
                Err(_) => {
                    let (values, count, sum, created): (Vec<String>, u64, f64, Option<f64>) =
                        raw.extract()?;
                    (values, count, sum, created, Vec::new())
                }
            };
            let summary = OwnedValue::Summary {
                count,
                sum,
                created,
                quantiles: quantiles
                    .into_iter()
                    .map(|(quantile, value)| Quantile { quantile, value })
                    .collect(),
            };
            (values, summary)
        }
        MetricType::Info => {
            let (values,): (Vec<String>,) = raw.extract()?;
            (values, OwnedValue::Info)
        }
        MetricType::StateSet => {
            let (values, states): (Vec<String>, Vec<(String, bool)>) = raw.extract()?;
            let states = states
                .into_iter()
                .map(|(name, set)| State { name, set })
                .collect();
            (values, OwnedValue::StateSet(states))
        }
    };
    Ok(SeriesSnapshot { labels, value })
}

/// One family as the callable returns it: `(kind, name, help, unit, labelnames, series)`.
fn family(raw: &Bound<'_, PyAny>) -> PyResult<FamilySnapshot> {
    let (kind, name, help, unit, labels, raw_series): (
        String,
        String,
        String,
        String,
        Vec<String>,
        Vec<Bound<'_, PyAny>>,
    ) = raw.extract()?;
    let descriptor = descriptor(&kind, &name, &help, &unit, &labels)?;
    let series = raw_series
        .iter()
        .map(|raw| series(descriptor.kind(), raw))
        .collect::<PyResult<Vec<_>>>()?;
    FamilySnapshot::new(descriptor, series).or_raise()
}

/// Raises the error a scrape would meet in `family` (a tuple as a collector returns it):
/// for a metric that knows its families' shape when it is declared (an `Enum`'s states),
/// so that the mistake is raised there rather than at a scrape.
#[pyfunction]
pub(crate) fn check_family(family: &Bound<'_, PyAny>) -> PyResult<()> {
    self::family(family).map(drop)
}

impl PyCollector {
    fn families(&self, py: Python<'_>) -> PyResult<Vec<FamilySnapshot>> {
        let returned = self.collect.bind(py).call0()?;
        let families = returned
            .try_iter()?
            .map(|raw| family(&raw?))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(families.into_iter().filter(|f| !self.taken(py, f)).collect())
    }
}

impl Collector for PyCollector {
    fn descriptors(&self) -> Vec<Descriptor> {
        self.descriptors.clone()
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn collect(&self, encoder: &mut Encoder<'_>) {
        Python::attach(|py| match self.families(py) {
            Ok(families) => families.iter().for_each(|family| encoder.write(family)),
            Err(error) => {
                error.write_unraisable(py, Some(self.collect.bind(py)));
                encoder.fail();
            }
        });
    }
}
