//! `Registry`: a set of metrics rendered together, the process's default registry, and
//! the `registry=` argument every metric takes.

use crate::collector::{descriptor, PyCollector};
use crate::error::OrRaise;
use crate::gil::without_gil;
use crate::metrics::refresh_functions;
use crate::multiprocess::new_registry;
use gds_metrics::{Config, Format, NameValidation};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyBytes;
use std::path::PathBuf;
use std::sync::Arc;

/// A set of metrics rendered together, like `prometheus_client.CollectorRegistry`.
#[pyclass(module = "gds_metrics._native", name = "Registry", frozen)]
pub(crate) struct PyRegistry {
    pub(crate) inner: Arc<gds_metrics::Registry>,
}

#[pymethods]
impl PyRegistry {
    /// An empty registry: of this process only, or, with `multiprocess_dir`, shared by
    /// every process writing to that directory (a scrape renders their aggregate).
    #[new]
    #[pyo3(signature = (*, multiprocess_dir = None))]
    fn new(multiprocess_dir: Option<PathBuf>) -> PyResult<Self> {
        Ok(Self::wrap(new_registry(multiprocess_dir.as_deref())?))
    }

    /// The exposition as bytes: Prometheus text 0.0.4, or OpenMetrics 1.0.0 when
    /// `openmetrics` is true. Renders with the GIL released.
    #[pyo3(signature = (openmetrics = false))]
    fn render<'py>(&self, py: Python<'py>, openmetrics: bool) -> Bound<'py, PyBytes> {
        refresh_functions(py, &self.inner);
        let format = if openmetrics {
            Format::OpenMetrics
        } else {
            Format::Text
        };
        let registry = self.inner.clone();
        let body = without_gil(py, move || {
            let mut out = Vec::new();
            registry.encode(format, &mut out);
            out
        });
        PyBytes::new(py, &body)
    }

    /// The most label sets a family of this registry keeps unless it sets its own
    /// (`series_limit=`); label sets beyond it share one overflow series. Default 2,000.
    #[getter]
    fn series_limit(&self) -> usize {
        self.inner.series_limit()
    }

    #[setter]
    fn set_series_limit(&self, limit: usize) {
        self.inner.set_series_limit(limit);
    }

    /// From now on, metrics declared on this registry accept only the legacy names
    /// (`[a-zA-Z_:][a-zA-Z0-9_:]*`, label names without `:`), as gds-metrics 0.2.4 and
    /// `prometheus_client` before 0.21 did: any other name is a `ValueError`. The default
    /// is any UTF-8 name, as in Prometheus 3.
    fn use_legacy_names(&self) {
        self.inner.set_name_validation(NameValidation::Legacy);
    }

    /// Registers `collect`, called at every scrape to return families as tuples (see
    /// `gds_metrics._families`). `claims` are the `(kind, name, documentation, unit,
    /// labelnames)` of the families it will write, checked for clashes now.
    #[pyo3(signature = (collect, claims = Vec::new()))]
    fn register_collector(
        &self,
        collect: Bound<'_, PyAny>,
        claims: Vec<(String, String, String, String, Vec<String>)>,
    ) -> PyResult<()> {
        let descriptors = claims
            .iter()
            .map(|(kind, name, help, unit, labels)| descriptor(kind, name, help, unit, labels))
            .collect::<PyResult<Vec<_>>>()?;
        self.inner
            .register(Arc::new(PyCollector::new(collect, descriptors)))
            .or_raise()
    }

    /// Removes the metric family `name`; returns whether it was registered.
    fn unregister(&self, name: &str) -> bool {
        self.inner.unregister(name)
    }

    fn __repr__(&self) -> String {
        format!("<gds_metrics Registry at {:p}>", Arc::as_ptr(&self.inner))
    }
}

impl PyRegistry {
    pub(crate) fn wrap(registry: gds_metrics::Registry) -> Self {
        Self {
            inner: Arc::new(registry),
        }
    }
}

/// The registry that metrics join unless told otherwise (`prometheus_client.REGISTRY`).
/// Created on first use rather than at import, so a gunicorn config that prepares the
/// multi-process directory runs before the registry decides where to write.
static DEFAULT_REGISTRY: PyOnceLock<Py<PyRegistry>> = PyOnceLock::new();

/// The process's default registry, created on first use: multi-process when the
/// environment names a directory (`PROMETHEUS_MULTIPROC_DIR`, `prometheus_multiproc_dir`
/// or `MMAP_DIRECTORY`), else in-process. The metrics of `prometheus_client`'s default
/// registry are part of its scrape, and so are the core's process metrics (of the whole
/// server in multi-process mode), which replace `prometheus_client`'s own.
#[pyfunction]
pub(crate) fn default_registry(py: Python<'_>) -> PyResult<Py<PyRegistry>> {
    DEFAULT_REGISTRY
        .get_or_try_init(py, || {
            let config = Config::from_env().or_raise()?;
            let registry = Arc::new(new_registry(config.multiprocess_dir())?);
            gds_metrics::process::register(&registry).or_raise()?;
            let bridge = py
                .import("gds_metrics._families")?
                .getattr("prometheus_client_families")?;
            registry
                .register(Arc::new(PyCollector::bridge(bridge, &registry)))
                .or_raise()?;
            Py::new(py, PyRegistry { inner: registry })
        })
        .map(|r| r.clone_ref(py))
}

/// The `registry=` argument: left out (the default registry), `None` (not registered
/// anywhere, as in `prometheus_client`) or a [`PyRegistry`].
pub(crate) enum RegistryArg {
    Default,
    Unregistered,
    Given(Arc<gds_metrics::Registry>),
}

impl<'a, 'py> FromPyObject<'a, 'py> for RegistryArg {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if obj.is_none() {
            return Ok(RegistryArg::Unregistered);
        }
        let registry = obj.cast::<PyRegistry>().map_err(|_| {
            PyValueError::new_err(
                "registry must be a gds_metrics Registry, or None to leave the metric unregistered",
            )
        })?;
        Ok(RegistryArg::Given(registry.get().inner.clone()))
    }
}

impl RegistryArg {
    pub(crate) fn resolve(self, py: Python<'_>) -> PyResult<Arc<gds_metrics::Registry>> {
        match self {
            RegistryArg::Default => Ok(default_registry(py)?.get().inner.clone()),
            RegistryArg::Unregistered => Ok(Arc::new(gds_metrics::Registry::new())),
            RegistryArg::Given(registry) => Ok(registry),
        }
    }
}
