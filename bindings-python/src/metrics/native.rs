//! `NativeBuckets`, and the `native=` argument of `Histogram`.

use crate::error::OrRaise;
use gds_metrics::NativeBuckets;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// How a histogram keeps native (sparse, exponential) buckets, which Prometheus 3 reads
/// from protobuf: `Histogram(..., native=NativeBuckets(max_buckets=100))`. The defaults
/// and the checks are the core's ([`NativeBuckets::from_settings`]).
#[pyclass(module = "gds_metrics._native", name = "NativeBuckets", frozen)]
pub(crate) struct PyNativeBuckets {
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
pub(super) enum NativeArg {
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
