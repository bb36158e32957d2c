//! `Counter`, and its fast paths for `inc()` and `labels(...)`.

use super::args::{Definition, ExemplarArg};
use super::context::helpers;
use super::handle::{family_methods, Handle};
use crate::error::OrRaise;
use crate::fast_path;
use crate::registry::RegistryArg;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

/// A counter: a value that only goes up (`prometheus_client.Counter`).
#[pyclass(module = "gds_metrics._native", frozen)]
pub(crate) struct Counter(Handle<gds_metrics::Counter>);

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

family_methods!(Counter);

/// pyo3's `Counter.inc`, for the calls [`counter_inc`] passes on.
static COUNTER_INC: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
/// pyo3's `Counter.labels`, for the calls [`counter_labels`] passes on.
static COUNTER_LABELS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Puts the fast functions below over pyo3's methods (see [`crate::fast_path`]).
pub(super) fn install_fast_paths(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    fast_path::install(&py.get_type::<Counter>(), c"inc", counter_inc, &COUNTER_INC)?;
    fast_path::install(
        &py.get_type::<Counter>(),
        c"labels",
        counter_labels,
        &COUNTER_LABELS,
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
