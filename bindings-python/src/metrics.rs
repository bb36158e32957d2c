//! Custom metrics with the `prometheus_client` call style, over the core's families.
//!
//! A Python metric object is either a parent (what `Counter(name, documentation,
//! labelnames)` returns) or a child (what `.labels(...)` returns), as in
//! `prometheus_client`. Both hold the core family; a child, and a parent without labels,
//! also hold the core series they update, so `inc()` is one atomic add under the GIL.
//! Validation of names, label counts and amounts is the core's; this file only turns
//! Python arguments into core calls.

// The constructors take prometheus_client's arguments, one Rust parameter each.
#![allow(clippy::too_many_arguments)]

use crate::collector::{descriptor, PyCollector};
use crate::error::OrRaise;
use crate::fast_path;
use crate::gil::without_gil;
use crate::multiprocess::new_registry;
use gds_metrics::{Config, Family, Format, GaugeMode, Metric, NameValidation, NativeBuckets, Opts};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::pyclass::PyClass;
use pyo3::pyclass_init::PyClassInitializer;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};

/// A set of metrics rendered together, like `prometheus_client.CollectorRegistry`.
#[pyclass(module = "gds_metrics._native", name = "Registry", frozen)]
pub struct PyRegistry {
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
        collect: Py<PyAny>,
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
pub fn default_registry(py: Python<'_>) -> PyResult<Py<PyRegistry>> {
    DEFAULT_REGISTRY
        .get_or_try_init(py, || {
            let config = Config::from_env().or_raise()?;
            let registry = Arc::new(new_registry(config.multiprocess_dir())?);
            gds_metrics::process::register(&registry).or_raise()?;
            let bridge = py
                .import("gds_metrics._families")?
                .getattr("prometheus_client_families")?;
            registry
                .register(Arc::new(PyCollector::bridge(bridge.unbind(), &registry)))
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
    fn resolve(self, py: Python<'_>) -> PyResult<Arc<gds_metrics::Registry>> {
        match self {
            RegistryArg::Default => Ok(default_registry(py)?.get().inner.clone()),
            RegistryArg::Unregistered => Ok(Arc::new(gds_metrics::Registry::new())),
            RegistryArg::Given(registry) => Ok(registry),
        }
    }
}

/// The constructor arguments every metric kind shares, turned into core [`Opts`] the way
/// `prometheus_client` builds names: `namespace_subsystem_name`, then `_unit` unless the
/// name already ends with it.
struct Definition {
    name: String,
    documentation: String,
    labelnames: Vec<String>,
    namespace: String,
    subsystem: String,
    unit: String,
    series_limit: Option<usize>,
}

/// `prometheus_client`'s full name: `namespace_subsystem_name`, then `_unit` unless the
/// name already ends with it.
#[pyfunction]
#[pyo3(signature = (name, namespace = "", subsystem = "", unit = ""))]
pub fn metric_name(name: &str, namespace: &str, subsystem: &str, unit: &str) -> String {
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
    fn opts(self) -> Opts {
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

/// What one Python metric object refers to: its family, and the series it updates when
/// it has one (a child, or a parent without labels).
struct Handle<M: Metric> {
    family: Family<M>,
    series: Option<M>,
    is_child: bool,
    /// The registry the family is in, for gauges whose value a function computes.
    registry: Weak<gds_metrics::Registry>,
    /// A labelled parent's children by their label values, as `prometheus_client` keeps
    /// them: `labels("GET", "200")` in a hot path is then one dict lookup.
    children: Option<Py<PyDict>>,
}

impl<M: Metric> Handle<M> {
    fn parent(py: Python<'_>, family: Family<M>, registry: &Arc<gds_metrics::Registry>) -> Self {
        let series = family.get().ok();
        Self {
            children: series.is_none().then(|| PyDict::new(py).unbind()),
            series,
            family,
            is_child: false,
            registry: Arc::downgrade(registry),
        }
    }

    /// The child object for these label values, from the cache when the values are all
    /// exact `str` (other values are converted with `str()`, and `1`, `1.0` and `True`
    /// are equal dict keys with different label values, so they are never cached).
    fn labels<'py, T>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
        wrap: fn(Self) -> T,
    ) -> PyResult<Bound<'py, PyAny>>
    where
        T: PyClass + Into<PyClassInitializer<T>>,
    {
        let cacheable = kwargs.is_none_or(|kw| kw.is_empty())
            && args.iter().all(|v| v.is_exact_instance_of::<PyString>());
        let cache = self.children.as_ref().map(|c| c.bind(py)).filter(|_| cacheable);
        if let Some(hit) = cache.map(|c| c.get_item(args)).transpose()?.flatten() {
            return Ok(hit);
        }
        let (child, kept) = self.child(args, kwargs)?;
        let child = Bound::new(py, wrap(child))?.into_any();
        // A label set the full family refused is never cached: the cache stays within the
        // series limit and the core counts each later use of it as a refusal too.
        if let (Some(cache), true) = (cache, kept) {
            cache.set_item(args, &child)?;
        }
        Ok(child)
    }

    /// Forgets every child.
    fn clear(&self, py: Python<'_>) {
        self.family.clear();
        self.forget_children(py);
    }

    fn forget_children(&self, py: Python<'_>) {
        if let Some(children) = &self.children {
            children.bind(py).clear();
        }
    }

    /// The series to update, or the error `prometheus_client` gives for updating a
    /// labelled parent.
    #[inline(always)]
    fn series(&self, action: &str) -> PyResult<&M> {
        match &self.series {
            Some(series) => Ok(series),
            None => Err(self.needs_labels(action)),
        }
    }

    /// Kept out of line so that the update methods, which call [`Handle::series`] on every
    /// increment, inline only the check.
    #[cold]
    #[inline(never)]
    fn needs_labels(&self, action: &str) -> PyErr {
        PyValueError::new_err(format!(
            "metric `{}` has labels ({}): call .labels(...) before .{action}()",
            self.family.descriptor().name(),
            self.label_names().join(", ")
        ))
    }

    fn label_names(&self) -> Vec<&str> {
        self.family
            .descriptor()
            .label_names()
            .iter()
            .map(|l| l.as_str())
            .collect()
    }

    /// The child for the label values in `args` (positional, in label order) or
    /// `kwargs` (by name), created at zero if new, and whether its series is theirs (not
    /// the overflow series of a full family).
    fn child(&self, args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<(Self, bool)> {
        let name = self.family.descriptor().name();
        if self.is_child {
            return Err(PyValueError::new_err(format!(
                "metric `{name}` already has its labels set; call .labels(...) on the metric itself, not on its child"
            )));
        }
        if self.series.is_some() {
            return Err(PyValueError::new_err(format!(
                "metric `{name}` was defined without label names, so it takes no .labels(...)"
            )));
        }
        let values = self.label_values(args, kwargs)?;
        let (series, kept) = self.family.labels_kept(&values).or_raise()?;
        let child = Self {
            family: self.family.clone(),
            series: Some(series),
            is_child: true,
            children: None,
            registry: self.registry.clone(),
        };
        Ok((child, kept))
    }

    fn label_values(
        &self,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Vec<String>> {
        match kwargs.filter(|kw| !kw.is_empty()) {
            None => args.iter().map(|value| label_value(&value)).collect(),
            Some(_) if !args.is_empty() => Err(PyValueError::new_err(
                "give label values either by position or by name, not both",
            )),
            Some(kwargs) => self.label_values_by_name(kwargs),
        }
    }

    fn label_values_by_name(&self, kwargs: &Bound<'_, PyDict>) -> PyResult<Vec<String>> {
        let names = self.label_names();
        let wrong_names = || {
            let given: Vec<String> = kwargs.keys().iter().map(|k| k.to_string()).collect();
            PyValueError::new_err(format!(
                "metric `{}` has the labels ({}) but was given ({})",
                self.family.descriptor().name(),
                names.join(", "),
                given.join(", ")
            ))
        };
        if kwargs.len() != names.len() {
            return Err(wrong_names());
        }
        names
            .iter()
            .map(|name| match kwargs.get_item(name)? {
                Some(value) => label_value(&value),
                None => Err(wrong_names()),
            })
            .collect()
    }

    /// Forgets the child for the given label values.
    fn remove(&self, args: &Bound<'_, PyTuple>) -> PyResult<()> {
        self.forget_children(args.py());
        let values: Vec<String> = args
            .iter()
            .map(|value| label_value(&value))
            .collect::<PyResult<_>>()?;
        self.family.remove(&values).or_raise().map(drop)
    }

    fn repr(&self, kind: &str) -> String {
        let desc = self.family.descriptor();
        let role = if self.is_child { " child" } else { "" };
        format!("<gds_metrics {kind}{role} {}>", desc.name())
    }
}

/// A label value as `prometheus_client` takes it: `str(value)`, so `200` and `"200"`
/// name the same series.
fn label_value(value: &Bound<'_, PyAny>) -> PyResult<String> {
    match value.cast::<PyString>() {
        Ok(text) => Ok(text.to_cow()?.into_owned()),
        Err(_) => Ok(value.str()?.to_cow()?.into_owned()),
    }
}

/// The pure-Python module with the context managers and decorators (`time()`,
/// `count_exceptions()`, `track_inprogress()`): they only call back into the methods
/// below, so they are written in Python where decorators are natural.
fn helpers(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static HELPERS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    HELPERS
        .get_or_try_init(py, || py.import("gds_metrics._context").map(Bound::unbind))
        .map(|module| module.bind(py))
}

fn helper<'py>(slf: &Bound<'py, PyAny>, helper: &str, method: &str) -> PyResult<Bound<'py, PyAny>> {
    let py = slf.py();
    helpers(py)?.getattr(helper)?.call1((slf.getattr(method)?,))
}

/// A counter: a value that only goes up (`prometheus_client.Counter`).
#[pyclass(module = "gds_metrics._native", frozen)]
pub struct Counter(Handle<gds_metrics::Counter>);

#[pymethods]
impl Counter {
    #[new]
    #[pyo3(signature = (name, documentation, labelnames = Vec::new(), namespace = String::new(), subsystem = String::new(), unit = String::new(), registry = RegistryArg::Default, series_limit = None, exemplars_across_processes = false))]
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
        exemplars_across_processes: bool,
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
        let opts = opts.exemplars_across_processes(exemplars_across_processes);
        let registry = registry.resolve(py)?;
        let family = registry.counter(opts).or_raise()?;
        Ok(Self(Handle::parent(py, family, &registry)))
    }

    /// Adds `amount` (default 1); a negative amount is a `ValueError`. `exemplar`, a
    /// dict such as `{"trace_id": "..."}`, becomes the counter's exemplar in OpenMetrics
    /// and protobuf; over 128 characters in all it is a `ValueError` and nothing is added.
    #[pyo3(signature = (amount = 1.0, exemplar = None))]
    fn inc(&self, amount: f64, exemplar: Option<ExemplarArg>) -> PyResult<()> {
        let series = self.0.series("inc")?;
        match exemplar {
            Some(exemplar) => series.inc_with_exemplar(amount, &exemplar.pairs()).or_raise(),
            None if amount == 1.0 => {
                series.inc();
                Ok(())
            }
            None => series.inc_by_f64(amount).or_raise(),
        }
    }

    /// Counts exceptions of type `exception` (default `Exception`) raised in a `with`
    /// block or a decorated function; they still propagate.
    #[pyo3(signature = (exception = None))]
    fn count_exceptions<'py>(
        slf: &Bound<'py, Self>,
        exception: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        slf.get().0.series("count_exceptions")?;
        let py = slf.py();
        helpers(py)?
            .getattr("ExceptionCounter")?
            .call1((slf.getattr("inc")?, exception))
    }

    /// The current value.
    fn get(&self) -> PyResult<f64> {
        Ok(self.0.series("get")?.get())
    }
}

/// A gauge: a value that goes up and down (`prometheus_client.Gauge`).
#[pyclass(module = "gds_metrics._native", frozen)]
pub struct Gauge(Handle<gds_metrics::Gauge>);

#[pymethods]
impl Gauge {
    #[new]
    #[pyo3(signature = (name, documentation, labelnames = Vec::new(), namespace = String::new(), subsystem = String::new(), unit = String::new(), registry = RegistryArg::Default, multiprocess_mode = String::from("all"), series_limit = None))]
    fn new(
        py: Python<'_>,
        name: String,
        documentation: String,
        labelnames: Vec<String>,
        namespace: String,
        subsystem: String,
        unit: String,
        registry: RegistryArg,
        multiprocess_mode: String,
        series_limit: Option<usize>,
    ) -> PyResult<Self> {
        let mode: GaugeMode = multiprocess_mode.parse().or_raise()?;
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
        let family = registry.gauge_with_mode(opts, mode).or_raise()?;
        Ok(Self(Handle::parent(py, family, &registry)))
    }

    /// Adds `amount` (default 1).
    #[pyo3(signature = (amount = 1.0))]
    fn inc(&self, amount: f64) -> PyResult<()> {
        self.0.series("inc")?.add(amount);
        Ok(())
    }

    /// Subtracts `amount` (default 1).
    #[pyo3(signature = (amount = 1.0))]
    fn dec(&self, amount: f64) -> PyResult<()> {
        self.0.series("dec")?.add(-amount);
        Ok(())
    }

    /// Sets the value.
    fn set(&self, value: f64) -> PyResult<()> {
        self.0.series("set")?.set(value);
        Ok(())
    }

    /// Sets the value to the current Unix time in seconds.
    fn set_to_current_time(&self) -> PyResult<()> {
        self.0.series("set_to_current_time")?.set_to_current_time();
        Ok(())
    }

    /// Makes the value whatever `function()` returns when a scrape renders the registry
    /// (`prometheus_client`'s `set_function`). A function that raises is reported through
    /// `sys.unraisablehook` and the previous value is kept.
    fn set_function(&self, function: Py<PyAny>) -> PyResult<()> {
        let series = self.0.series("set_function")?.clone();
        let mut functions = FUNCTIONS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        functions.push(FunctionGauge {
            registry: self.0.registry.clone(),
            series,
            function,
        });
        Ok(())
    }

    /// Adds one while a `with` block or decorated function runs.
    fn track_inprogress<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.get().0.series("track_inprogress")?;
        helpers(slf.py())?.getattr("InProgressTracker")?.call1((slf,))
    }

    /// Sets the value to the duration in seconds of a `with` block or decorated function.
    fn time<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.get().0.series("time")?;
        helper(slf.as_any(), "Timer", "set")
    }

    /// The current value.
    fn get(&self) -> PyResult<f64> {
        Ok(self.0.series("get")?.get())
    }
}

/// A gauge series whose value a Python function computes.
struct FunctionGauge {
    registry: Weak<gds_metrics::Registry>,
    series: gds_metrics::Gauge,
    function: Py<PyAny>,
}

/// Every `set_function` gauge of the process; entries of dropped registries are pruned.
static FUNCTIONS: Mutex<Vec<FunctionGauge>> = Mutex::new(Vec::new());

/// Sets the function gauges of `registry` from their functions, before a render.
pub(crate) fn refresh_functions(py: Python<'_>, registry: &Arc<gds_metrics::Registry>) {
    let due: Vec<(gds_metrics::Gauge, Py<PyAny>)> = {
        let mut functions = FUNCTIONS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        functions.retain(|f| f.registry.strong_count() > 0);
        functions
            .iter()
            .filter(|f| std::ptr::eq(f.registry.as_ptr(), Arc::as_ptr(registry)))
            .map(|f| (f.series.clone(), f.function.clone_ref(py)))
            .collect()
    };
    for (series, function) in due {
        match function.bind(py).call0().and_then(|value| value.extract::<f64>()) {
            Ok(value) => series.set(value),
            Err(error) => error.write_unraisable(py, Some(function.bind(py))),
        }
    }
}

/// A histogram: observations counted in buckets (`prometheus_client.Histogram`).
#[pyclass(module = "gds_metrics._native", frozen)]
pub struct Histogram(Handle<gds_metrics::Histogram>);

#[pymethods]
impl Histogram {
    #[new]
    #[pyo3(signature = (name, documentation, labelnames = Vec::new(), namespace = String::new(), subsystem = String::new(), unit = String::new(), registry = RegistryArg::Default, buckets = None, series_limit = None, native = NativeArg::Classic, exemplars_across_processes = false))]
    fn new(
        py: Python<'_>,
        name: String,
        documentation: String,
        labelnames: Vec<String>,
        namespace: String,
        subsystem: String,
        unit: String,
        registry: RegistryArg,
        buckets: Option<Vec<f64>>,
        series_limit: Option<usize>,
        native: NativeArg,
        exemplars_across_processes: bool,
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
        let opts = opts.exemplars_across_processes(exemplars_across_processes);
        let registry = registry.resolve(py)?;
        let family = match native {
            NativeArg::Classic => registry.histogram(opts, buckets.as_deref()),
            NativeArg::Native(native) => registry.native_histogram(opts, native, buckets.as_deref()),
        }
        .or_raise()?;
        Ok(Self(Handle::parent(py, family, &registry)))
    }

    /// Records one observation. `exemplar`, a dict such as `{"trace_id": "..."}`,
    /// becomes the exemplar of the observation's bucket (the newest per bucket wins);
    /// over 128 characters in all it is a `ValueError` and nothing is recorded.
    #[pyo3(signature = (amount, exemplar = None))]
    fn observe(&self, amount: f64, exemplar: Option<ExemplarArg>) -> PyResult<()> {
        let series = self.0.series("observe")?;
        match exemplar {
            Some(exemplar) => series.observe_with_exemplar(amount, &exemplar.pairs()).or_raise(),
            None => series.observe(amount).or_raise(),
        }
    }

    /// Observes the duration in seconds of a `with` block or decorated function.
    fn time<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.get().0.series("time")?;
        helper(slf.as_any(), "Timer", "observe")
    }
}

/// How a histogram keeps native (sparse, exponential) buckets, which Prometheus 3 reads
/// from protobuf: `Histogram(..., native=NativeBuckets(max_buckets=100))`. The defaults
/// and the checks are the core's ([`NativeBuckets::from_settings`]).
#[pyclass(module = "gds_metrics._native", name = "NativeBuckets", frozen)]
pub struct PyNativeBuckets {
    settings: NativeBuckets,
}

#[pymethods]
impl PyNativeBuckets {
    /// `schema` from -4 to 8 (default 5, about 2% error), `zero_threshold` (observations
    /// this close to zero count in the zero bucket; default 2**-128), `max_buckets` (default
    /// 160; 0: no limit; past it the resolution halves), `reset_after` (seconds: reset
    /// instead of halving when this long has passed since the last reset). A setting out
    /// of range is a `ValueError`.
    #[new]
    #[pyo3(signature = (*, schema = None, zero_threshold = None, max_buckets = None, reset_after = None))]
    fn new(
        schema: Option<i32>,
        zero_threshold: Option<f64>,
        max_buckets: Option<usize>,
        reset_after: Option<f64>,
    ) -> PyResult<Self> {
        let settings =
            NativeBuckets::from_settings(schema, zero_threshold, max_buckets, reset_after).or_raise()?;
        Ok(Self { settings })
    }

    fn __repr__(&self) -> String {
        format!("NativeBuckets({})", self.settings)
    }
}

/// The `native=` argument of `Histogram`: `False` (classic buckets only), `True` (native
/// buckets with the defaults) or a [`PyNativeBuckets`].
enum NativeArg {
    Classic,
    Native(NativeBuckets),
}

impl<'a, 'py> FromPyObject<'a, 'py> for NativeArg {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(settings) = obj.cast::<PyNativeBuckets>() {
            return Ok(NativeArg::Native(settings.get().settings));
        }
        match obj.extract::<bool>() {
            Ok(true) => Ok(NativeArg::Native(NativeBuckets::new())),
            Ok(false) => Ok(NativeArg::Classic),
            Err(_) => Err(PyValueError::new_err(
                "native must be True, False or a gds_metrics NativeBuckets(...)",
            )),
        }
    }
}

/// The `exemplar=` argument, as `prometheus_client` spells it: a dict of label names to
/// values, such as `{"trace_id": "4bf92f35", "span_id": "00f067aa"}`.
struct ExemplarArg(Vec<(String, String)>);

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
    fn pairs(&self) -> Vec<(&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect()
    }
}

/// A summary: the count and sum of observations (`prometheus_client.Summary`, which
/// exposes no quantiles either).
#[pyclass(module = "gds_metrics._native", frozen)]
pub struct Summary(Handle<gds_metrics::Summary>);

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

/// The methods every metric class shares, in a `#[pymethods]` block of their own: pyo3
/// classes cannot inherit Rust methods, and the logic itself lives once, in [`Handle`].
macro_rules! family_methods {
    ($class:ident) => {
        #[pymethods]
        impl $class {
            /// The child for these label values, by position or by name.
            #[pyo3(signature = (*args, **kwargs))]
            fn labels<'py>(
                slf: &Bound<'py, Self>,
                args: &Bound<'py, PyTuple>,
                kwargs: Option<&Bound<'py, PyDict>>,
            ) -> PyResult<Bound<'py, PyAny>> {
                slf.get().0.labels(slf.py(), args, kwargs, Self)
            }

            /// Forgets the child for these label values.
            #[pyo3(signature = (*labelvalues))]
            fn remove(&self, labelvalues: &Bound<'_, PyTuple>) -> PyResult<()> {
                self.0.remove(labelvalues)
            }

            /// Forgets every child.
            fn clear(&self, py: Python<'_>) {
                self.0.clear(py);
            }

            fn __repr__(&self) -> String {
                self.0.repr(stringify!($class))
            }
        }
    };
}

family_methods!(Counter);
family_methods!(Gauge);
family_methods!(Histogram);
family_methods!(Summary);

/// pyo3's `Counter.inc`, for the calls [`counter_inc`] passes on.
static COUNTER_INC: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
/// pyo3's `Counter.labels`, for the calls [`counter_labels`] passes on.
static COUNTER_LABELS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
/// pyo3's `Histogram.observe`, for the calls [`histogram_observe`] passes on.
static HISTOGRAM_OBSERVE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Puts the fast functions below over pyo3's methods (see [`crate::fast_path`]).
pub(crate) fn install_fast_paths(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    fast_path::install(&py.get_type::<Counter>(), c"inc", counter_inc, &COUNTER_INC)?;
    fast_path::install(
        &py.get_type::<Counter>(),
        c"labels",
        counter_labels,
        &COUNTER_LABELS,
    )?;
    fast_path::install(
        &py.get_type::<Histogram>(),
        c"observe",
        histogram_observe,
        &HISTOGRAM_OBSERVE,
    )
}

/// `counter.inc()`, with no arguments, on a counter that has its series: one atomic add.
unsafe extern "C" fn counter_inc(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    if nargs == 0 && kwnames.is_null() {
        // SAFETY: installed on Counter, so `slf` is a Counter and the thread attached.
        let counted =
            unsafe { fast_path::with_instance(slf, |c: &Counter| c.0.series.as_ref().map(|s| s.inc())) };
        if counted.is_some() {
            // SAFETY: attached, as above.
            return unsafe { fast_path::none() };
        }
    }
    // SAFETY: the arguments are CPython's, passed on unchanged.
    unsafe { fast_path::delegate(&COUNTER_INC, slf, args, nargs, kwnames) }
}

/// `counter.labels("GET", "200")` with label values of type `str` whose child exists: one
/// dict lookup in the parent's child cache (see [`Handle::labels`]).
unsafe extern "C" fn counter_labels(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    if kwnames.is_null() {
        // SAFETY: installed on Counter, so `slf` is a Counter and the thread attached;
        // CPython passes `nargs` arguments.
        let child = unsafe {
            fast_path::with_instance(slf, |c: &Counter| match &c.0.children {
                Some(children) => fast_path::cached(children, args, nargs),
                None => std::ptr::null_mut(),
            })
        };
        if !child.is_null() {
            return child;
        }
    }
    // SAFETY: the arguments are CPython's, passed on unchanged.
    unsafe { fast_path::delegate(&COUNTER_LABELS, slf, args, nargs, kwnames) }
}

/// `histogram.observe(x)` with one `float` on a histogram that has its series.
unsafe extern "C" fn histogram_observe(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython passes `nargs` valid arguments.
    if nargs == 1 && kwnames.is_null() && unsafe { ffi::PyFloat_CheckExact(*args) } != 0 {
        // SAFETY: an exact float, whose value cannot fail to read.
        let value = unsafe { ffi::PyFloat_AsDouble(*args) };
        // SAFETY: installed on Histogram, so `slf` is a Histogram and the thread attached.
        let observed = unsafe {
            fast_path::with_instance(slf, |h: &Histogram| {
                h.0.series.as_ref().and_then(|s| s.observe(value).ok())
            })
        };
        if observed.is_some() {
            // SAFETY: attached, as above.
            return unsafe { fast_path::none() };
        }
    }
    // SAFETY: the arguments are CPython's, passed on unchanged.
    unsafe { fast_path::delegate(&HISTOGRAM_OBSERVE, slf, args, nargs, kwnames) }
}
