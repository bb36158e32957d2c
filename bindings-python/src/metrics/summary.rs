//! `Summary`.

use super::args::Definition;
use super::context::helper;
use super::handle::{family_methods, Handle};
use crate::error::OrRaise;
use crate::registry::RegistryArg;
use pyo3::prelude::*;

/// A summary: the count and sum of observations (`prometheus_client.Summary`, which
/// exposes no quantiles either).
#[pyclass(module = "gds_metrics._native", frozen)]
pub(crate) struct Summary(Handle<gds_metrics::Summary>);

#[pymethods]
impl Summary {
    #[new]
    #[pyo3(signature = (name, documentation, labelnames = Vec::new(), namespace = String::new(), subsystem = String::new(), unit = String::new(), registry = RegistryArg::Default, series_limit = None))]
    fn new(
        py: Python<'_>,
        name: String,
        documentation: String,
        labelnames: Vec<String>,
        namespace: String,
        subsystem: String,
        unit: String,
        registry: RegistryArg,
        series_limit: Option<usize>,
    ) -> PyResult<Self> {
        let opts = Definition {
            name,
            documentation,
            labelnames,
            namespace,
            subsystem,
            unit,
            series_limit,
        }
        .opts();
        let registry = registry.resolve(py)?;
        let family = registry.summary(opts).or_raise()?;
        Ok(Self(Handle::parent(py, family, &registry)))
    }

    /// Records one observation.
    fn observe(&self, amount: f64) -> PyResult<()> {
        self.0.series("observe")?.observe(amount).or_raise()
    }

    /// Observes the duration in seconds of a `with` block or decorated function.
    fn time<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.get().0.series("time")?;
        helper(slf.as_any(), "Timer", "observe")
    }
}

family_methods!(Summary);
