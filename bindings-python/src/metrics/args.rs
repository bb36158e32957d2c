//! The constructor arguments the metric classes share, as `prometheus_client` takes them.

use gds_metrics::Opts;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

/// The constructor arguments every metric kind shares, turned into core [`Opts`] the way
/// `prometheus_client` builds names: `namespace_subsystem_name`, then `_unit` unless the
/// name already ends with it.
pub(super) struct Definition {
    pub(super) name: String,
    pub(super) documentation: String,
    pub(super) labelnames: Vec<String>,
    pub(super) namespace: String,
    pub(super) subsystem: String,
    pub(super) unit: String,
    pub(super) series_limit: Option<usize>,
}

/// `prometheus_client`'s full name: `namespace_subsystem_name`, then `_unit` unless the
/// name already ends with it.
#[pyfunction]
#[pyo3(signature = (name, namespace = "", subsystem = "", unit = ""))]
pub(crate) fn metric_name(name: &str, namespace: &str, subsystem: &str, unit: &str) -> String {
    let mut full_name = [namespace, subsystem, name]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    let suffix = format!("_{unit}");
    if !unit.is_empty() && !full_name.ends_with(&suffix) {
        full_name.push_str(&suffix);
    }
    full_name
}

impl Definition {
    pub(super) fn opts(self) -> Opts {
        let full_name = metric_name(&self.name, &self.namespace, &self.subsystem, &self.unit);
        let opts = Opts::new(full_name, self.documentation)
            .labels(self.labelnames)
            .series_limit(self.series_limit);
        if self.unit.is_empty() {
            opts
        } else {
            opts.unit(self.unit)
        }
    }
}

/// A label value as `prometheus_client` takes it: `str(value)`, so `200` and `"200"`
/// name the same series.
pub(super) fn label_value(value: &Bound<'_, PyAny>) -> PyResult<String> {
    match value.cast::<PyString>() {
        Ok(text) => Ok(text.to_cow()?.into_owned()),
        Err(_) => Ok(value.str()?.to_cow()?.into_owned()),
    }
}

/// The `exemplar=` argument, as `prometheus_client` spells it: a dict of label names to
/// values, such as `{"trace_id": "4bf92f35", "span_id": "00f067aa"}`.
pub(super) struct ExemplarArg(Vec<(String, String)>);

impl<'a, 'py> FromPyObject<'a, 'py> for ExemplarArg {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let labels = obj.cast::<PyDict>().map_err(|_| {
            PyTypeError::new_err(
                "exemplar must be a dict of label names to values, such as {\"trace_id\": \"...\"}",
            )
        })?;
        labels
            .iter()
            .map(|(name, value)| Ok((label_value(&name)?, label_value(&value)?)))
            .collect::<PyResult<_>>()
            .map(ExemplarArg)
    }
}

impl ExemplarArg {
    pub(super) fn pairs(&self) -> Vec<(&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect()
    }
}
