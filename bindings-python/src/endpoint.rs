//! The metrics endpoint and the request metrics, for the Flask extension and the WSGI
//! middleware.
//!
//! The Python side hands over request parts (method, path, headers) and gets back status,
//! headers and body; every decision about auth, formats and compression is the core's
//! `Endpoint::handle`. For the app's own requests it reports what happened (method, host,
//! route template, status, duration) to the core's `RequestMetrics`.

use crate::error::OrValueError;
use crate::gil::without_gil;
use crate::metrics::{default_registry, PyRegistry};
use gds_metrics::{Config, Request};
use pyo3::exceptions::{PyRuntimeWarning, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;

/// A response as Python receives it: status, `(name, value)` headers, body.
type PyResponse<'py> = (u16, Vec<(&'static str, String)>, Bound<'py, PyBytes>);

/// One app's metrics endpoint over a registry, configured from the environment with
/// keyword arguments winning (CONTRACT section 1).
#[pyclass(module = "gds_metrics._native", frozen)]
pub struct Endpoint {
    inner: Arc<gds_metrics::Endpoint>,
}

/// A header value as the endpoint reads it: raw bytes. WSGI servers decode header bytes
/// as Latin-1 into `str`, so a `str` is encoded back the same way; text that is not
/// Latin-1 (only possible if the app built it) is passed as UTF-8.
fn header_bytes(value: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(bytes) = value.cast::<PyBytes>() {
        return Ok(bytes.as_bytes().to_vec());
    }
    let text = value
        .cast::<PyString>()
        .map_err(|_| PyTypeError::new_err("header values must be str or bytes"))?
        .to_cow()?;
    Ok(match latin1(&text) {
        Some(bytes) => bytes,
        None => text.as_bytes().to_vec(),
    })
}

fn latin1(text: &str) -> Option<Vec<u8>> {
    text.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

/// Python warnings for settings the core ignored (a `CF_INSTANCE_INDEX` that is not a
/// number), so they show where the app starts.
fn warn_about(py: Python<'_>, config: &Config) -> PyResult<()> {
    for warning in config.warnings() {
        let message = std::ffi::CString::new(warning.to_string()).unwrap_or_default();
        PyErr::warn(py, &py.get_type::<PyRuntimeWarning>(), &message, 1)?;
    }
    Ok(())
}

#[pymethods]
impl Endpoint {
    /// An endpoint serving `registry` (default: the default registry). Settings given
    /// here win over the environment; the rest comes from `VCAP_APPLICATION`,
    /// `METRICS_BASIC_AUTH`, `PROMETHEUS_METRICS_PATH` and `CF_INSTANCE_INDEX`. A bad
    /// setting is a `ValueError` naming the variable.
    #[new]
    #[pyo3(signature = (registry = None, *, application_id = None, auth_enabled = None, metrics_path = None, instance_index = None, multiprocess_dir = None))]
    fn new(
        py: Python<'_>,
        registry: Option<Py<PyRegistry>>,
        application_id: Option<String>,
        auth_enabled: Option<bool>,
        metrics_path: Option<String>,
        instance_index: Option<u32>,
        multiprocess_dir: Option<PathBuf>,
    ) -> PyResult<Self> {
        let mut builder = Config::builder();
        if let Some(guid) = application_id {
            builder = builder.application_id(guid);
        }
        if let Some(on) = auth_enabled {
            builder = builder.auth_enabled(on);
        }
        if let Some(path) = metrics_path {
            builder = builder.metrics_path(path);
        }
        if let Some(index) = instance_index {
            builder = builder.instance_index(index);
        }
        if let Some(dir) = multiprocess_dir {
            builder = builder.multiprocess_dir(dir);
        }
        let config = builder.build().or_value_error()?;
        warn_about(py, &config)?;
        let registry = match registry {
            Some(registry) => registry,
            None => default_registry(py)?,
        };
        let registry = registry.get().inner.clone();
        let inner = gds_metrics::Endpoint::new(config, registry).or_value_error()?;
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The path the endpoint answers on, exactly.
    #[getter]
    fn metrics_path(&self) -> &str {
        self.inner.config().metrics_path()
    }

    /// Whether scrapes must carry the app GUID as a bearer token.
    #[getter]
    fn auth_enabled(&self) -> bool {
        self.inner.config().auth_enabled()
    }

    /// Whether a request for `path` is for the endpoint (anything else is the app's).
    fn matches(&self, path: &str) -> bool {
        self.inner.matches(path)
    }

    /// Answers a scrape: `(status, [(header, value)], body)`. `headers` is a list of
    /// `(name, value)` pairs as the client sent them, a repeated header once per
    /// occurrence. Runs with the GIL released; records the scrape in the request metrics.
    fn handle<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        path: &str,
        headers: Vec<(String, Bound<'py, PyAny>)>,
    ) -> PyResult<PyResponse<'py>> {
        let headers: Vec<(String, Vec<u8>)> = headers
            .into_iter()
            .map(|(name, value)| Ok((name, header_bytes(&value)?)))
            .collect::<PyResult<_>>()?;
        let endpoint = self.inner.clone();
        let response = without_gil(py, move || {
            let request = headers
                .iter()
                .fold(Request::new(method, path), |request, (name, value)| {
                    request.header(name, value)
                });
            endpoint.handle(&request)
        });
        Ok((
            response.status,
            response.headers,
            PyBytes::new(py, &response.body),
        ))
    }

    /// Records one finished request of the app: `route` is the framework's route
    /// template, or `None` when no route matched.
    fn record(&self, method: &str, host: &str, route: Option<&str>, status: u16, seconds: f64) {
        self.inner
            .request_metrics()
            .record(method, host, route, status, seconds);
    }

    /// Counts an unhandled exception by its class name.
    fn exception(&self, class_name: &str) {
        self.inner.request_metrics().exception(class_name);
    }

    fn __repr__(&self) -> String {
        format!("<gds_metrics Endpoint {}>", self.inner.config().metrics_path())
    }
}

/// The path with numeric ids and UUIDs collapsed, the `path` label for apps whose
/// framework has no router.
#[pyfunction]
pub fn collapse_ids(path: &str) -> String {
    match gds_metrics::collapse_ids(path) {
        Cow::Borrowed(same) => same.to_owned(),
        Cow::Owned(collapsed) => collapsed,
    }
}
