//! Core errors as Python exceptions.
//!
//! Every mistake the core reports (a bad metric name, a wrong label count, a negative
//! increment, a bad setting) is something the caller can fix in their own code, so it
//! becomes a `ValueError` raised at the call that made it, as `prometheus_client` does.
//! The core's messages already say what is wrong and what to do; they pass through as is.

use pyo3::exceptions::PyValueError;
use pyo3::PyResult;
use std::fmt::Display;

/// Turns any core error into a `ValueError` carrying its message.
pub(crate) trait OrValueError<T> {
    fn or_value_error(self) -> PyResult<T>;
}

impl<T, E: Display> OrValueError<T> for Result<T, E> {
    fn or_value_error(self) -> PyResult<T> {
        self.map_err(|e| PyValueError::new_err(e.to_string()))
    }
}

/// Target-file errors: bad facts, files and desired states are the caller's to fix
/// (`ValueError`); a failed file operation is an `OSError`, like Python's own.
pub(crate) fn targets_error(error: gds_metrics::targets::TargetsError) -> pyo3::PyErr {
    match error {
        gds_metrics::targets::TargetsError::Io { .. } => {
            pyo3::exceptions::PyOSError::new_err(error.to_string())
        }
        other => PyValueError::new_err(other.to_string()),
    }
}
