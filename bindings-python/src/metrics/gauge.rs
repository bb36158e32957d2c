//! `Gauge`, and the gauges whose value a Python function computes at scrape time.

use super::args::Definition;
use super::context::{helper, helpers};
use super::handle::{family_methods, Handle};
use crate::error::OrRaise;
use crate::registry::RegistryArg;
use gds_metrics::GaugeMode;
use pyo3::prelude::*;
use std::sync::{Arc, Mutex, Weak};

/// A gauge: a value that goes up and down (`prometheus_client.Gauge`).
#[pyclass(module = "gds_metrics._native", frozen)]
pub(crate) struct Gauge(Handle<gds_metrics::Gauge>);

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

family_methods!(Gauge);

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
