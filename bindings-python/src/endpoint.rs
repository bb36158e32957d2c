//! The metrics endpoint and the request metrics, for the Flask extension and the WSGI,
//! ASGI and Django middlewares.
//!
//! The Python side hands over request parts (method, the request target as the client
//! sent it, the mount prefix, headers) and gets back status, headers and body; every
//! decision about the path, auth, formats and compression is the core's
//! `Endpoint::handle`. For the app's own requests it reports facts (method, `Host`, raw
//! path, how the framework routed it, status, duration, the exception raised) and the core
//! decides every label (`Endpoint::record`).

use crate::error::OrRaise;
use crate::gil::without_gil;
use crate::metrics::refresh_functions;
use crate::registry::{default_registry, PyRegistry};
use gds_metrics::{Config, ConfigBuilder, FinishedRequest, RaisedException, Request, Route};
use pyo3::exceptions::{PyRuntimeWarning, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString, PyType};
use std::sync::Arc;

/// A response as Python receives it: status, `(name, value)` headers, body.
type PyResponse<'py> = (u16, Vec<(&'static str, String)>, Bound<'py, PyBytes>);

/// One app's metrics endpoint over a registry, configured from the environment when it is
/// created, with keyword arguments winning (CONTRACT section 1). Each endpoint has its own
/// settings; the request metrics are registered once per registry, by the core.
#[pyclass(module = "gds_metrics._native", frozen)]
pub(crate) struct Endpoint {
    inner: Arc<gds_metrics::Endpoint>,
    registry: Py<PyRegistry>,
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

/// The facts of an exception: its class name, and the nearest named class in its method
/// resolution order (for a class whose `__name__` is empty).
fn exception_names(exception: &Bound<'_, PyAny>) -> PyResult<(String, Option<String>)> {
    let class = exception.get_type();
    let name = class.name()?.to_cow()?.into_owned();
    let ancestor = class
        .mro()
        .iter()
        .skip(1)
        .filter_map(|base| base.cast_into::<PyType>().ok())
        .map(|base| base.name().and_then(|n| Ok(n.to_cow()?.into_owned())))
        .find(|n| n.as_ref().map_or(true, |n| !n.is_empty()))
        .transpose()?;
    Ok((name, ancestor))
}

#[pymethods]
impl Endpoint {
    /// An endpoint serving `registry` (default: the default registry). Settings given
    /// here win over the environment; the rest comes from `VCAP_APPLICATION`,
    /// `METRICS_BASIC_AUTH`, `PROMETHEUS_METRICS_PATH`, `CF_INSTANCE_INDEX`,
    /// `METRICS_TRACE_EXEMPLARS` and `METRICS_REQUEST_NATIVE_HISTOGRAM`, read now. A bad
    /// setting is a `ConfigurationError` naming the variable.
    #[new]
    #[allow(clippy::too_many_arguments)] // the keyword arguments of the Python constructor
    #[pyo3(signature = (registry = None, *, application_id = None, auth_enabled = None, metrics_path = None, instance_index = None, trace_exemplars = None, request_native_histogram = None))]
    fn new(
        py: Python<'_>,
        registry: Option<Py<PyRegistry>>,
        application_id: Option<String>,
        auth_enabled: Option<bool>,
        metrics_path: Option<String>,
        instance_index: Option<u32>,
        trace_exemplars: Option<bool>,
        request_native_histogram: Option<bool>,
    ) -> PyResult<Self> {
        let config = ConfigBuilder {
            application_id,
            auth_enabled,
            metrics_path,
            instance_index,
            trace_exemplars,
            request_native_histogram,
            ..ConfigBuilder::default()
        }
        .build()
        .or_raise()?;
        warn_about(py, &config)?;
        let registry = match registry {
            Some(registry) => registry,
            None => default_registry(py)?,
        };
        let core_registry = registry.get().inner.clone();
        let inner = gds_metrics::Endpoint::new(config, core_registry).or_raise()?;
        Ok(Self {
            inner: Arc::new(inner),
            registry,
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

    /// Whether a request's sampled W3C `traceparent` becomes the exemplar of its metrics.
    #[getter]
    fn trace_exemplars(&self) -> bool {
        self.inner.config().trace_exemplars()
    }

    /// Whether the request duration keeps native buckets beside its classic ones.
    #[getter]
    fn request_native_histogram(&self) -> bool {
        self.inner.config().request_native_histogram()
    }

    /// The registry the endpoint serves.
    #[getter]
    fn registry(&self, py: Python<'_>) -> Py<PyRegistry> {
        self.registry.clone_ref(py)
    }

    /// Whether the request target, exactly as the client sent it (`RAW_URI`,
    /// `REQUEST_URI`), is for the endpoint of an app mounted at `mount` (`SCRIPT_NAME`).
    /// Anything else is the app's.
    #[pyo3(signature = (target, mount = ""))]
    fn matches(&self, target: &str, mount: &str) -> bool {
        self.inner.matches_below(mount, target)
    }

    /// Answers a scrape: `(status, [(header, value)], body)`. `target` is the request
    /// target as sent, `mount` the prefix the app is mounted at, `headers` a list of
    /// `(name, value)` pairs as the client sent them, a repeated header once per
    /// occurrence. Refreshes function gauges, then renders with the GIL released; records
    /// the scrape in the request metrics.
    #[pyo3(signature = (method, target, headers, mount = ""))]
    fn handle<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        target: &str,
        headers: Vec<(String, Bound<'py, PyAny>)>,
        mount: &str,
    ) -> PyResult<PyResponse<'py>> {
        let headers: Vec<(String, Vec<u8>)> = headers
            .into_iter()
            .map(|(name, value)| Ok((name, header_bytes(&value)?)))
            .collect::<PyResult<_>>()?;
        refresh_functions(py, self.inner.registry());
        let endpoint = self.inner.clone();
        let response = without_gil(py, move || {
            let request = headers.iter().fold(
                Request::new(method, target).mounted_at(mount),
                |request, (name, value)| request.header(name, value),
            );
            endpoint.handle(&request)
        });
        Ok((
            response.status,
            response.headers,
            PyBytes::new(py, &response.body),
        ))
    }

    /// Records one finished request of the app from what the framework knows: the method,
    /// `Host` and path as sent, whether the framework routes requests and the template of
    /// the route that matched (or `None`), the status, the seconds it took, and the
    /// exception raised while handling it, if any, with whether it escaped the app, and
    /// the `traceparent` header as sent (or `None`). The core decides every label and
    /// whether the trace becomes an exemplar.
    #[pyo3(signature = (method, host, raw_path, has_router, route, status, seconds, exception = None, escaped = false, traceparent = None))]
    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        method: &str,
        host: &Bound<'_, PyAny>,
        raw_path: &str,
        has_router: bool,
        route: Option<&str>,
        status: u16,
        seconds: f64,
        exception: Option<&Bound<'_, PyAny>>,
        escaped: bool,
        traceparent: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let host = header_bytes(host)?;
        let traceparent = traceparent.map(header_bytes).transpose()?.unwrap_or_default();
        let names = exception.map(exception_names).transpose()?;
        self.inner.record(&FinishedRequest {
            method,
            host: &host,
            raw_path,
            route: Route::from_parts(has_router, route),
            status,
            seconds,
            exception: names.as_ref().map(|(class_name, ancestor)| RaisedException {
                class_name: Some(class_name),
                named_ancestor: ancestor.as_deref(),
                escaped,
            }),
            traceparent: &traceparent,
        });
        Ok(())
    }

    fn __repr__(&self) -> String {
        format!("<gds_metrics Endpoint {}>", self.inner.config().metrics_path())
    }
}
