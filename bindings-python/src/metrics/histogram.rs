//! `Histogram`, and its fast path for `observe(x)`.

use super::args::{Definition, ExemplarArg};
use super::context::helper;
use super::handle::{family_methods, Handle};
use super::native::NativeArg;
use crate::error::OrRaise;
use crate::fast_path;
use crate::registry::RegistryArg;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

/// A histogram: observations counted in buckets (`prometheus_client.Histogram`).
#[pyclass(module = "gds_metrics._native", frozen)]
pub(crate) struct Histogram(Handle<gds_metrics::Histogram>);

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

family_methods!(Histogram);

/// pyo3's `Histogram.observe`, for the calls [`histogram_observe`] passes on.
static HISTOGRAM_OBSERVE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Puts [`histogram_observe`] over pyo3's method (see [`crate::fast_path`]).
pub(super) fn install_fast_paths(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    fast_path::install(
        &py.get_type::<Histogram>(),
        c"observe",
        histogram_observe,
        &HISTOGRAM_OBSERVE,
    )
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
