//! Core errors as Python exceptions: one table from the core's [`ErrorKind`] to an
//! exception class, used for metrics, settings, multi-process directories and target files
//! alike.
//!
//! | kind | exception |
//! |---|---|
//! | `InvalidArgument`, `Duplicate` | `ValueError`, as `prometheus_client` raises |
//! | `InvalidData` | `ValueError` |
//! | `Configuration` | `gds_metrics.ConfigurationError`, a `ValueError` |
//! | `Io` | `OSError` |
//! | `Conflict` | `gds_metrics.ConflictError`, a `RuntimeError` |
//!
//! The core's messages already say what is wrong and what to do; they pass through as is.

use gds_metrics::ErrorKind;
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::{create_exception, PyErr, PyResult};
use std::fmt::Display;

create_exception!(
    gds_metrics,
    ConfigurationError,
    PyValueError,
    "A setting (a keyword argument or an environment variable) that cannot be used; the message names it."
);
create_exception!(
    gds_metrics,
    ConflictError,
    PyRuntimeError,
    "A conditional write lost a race with another writer: read again and retry."
);

/// The exception for a core error of `kind` carrying `message`.
pub(crate) fn exception(kind: ErrorKind, message: String) -> PyErr {
    match kind {
        ErrorKind::InvalidArgument | ErrorKind::Duplicate | ErrorKind::InvalidData => {
            PyValueError::new_err(message)
        }
        ErrorKind::Configuration => ConfigurationError::new_err(message),
        ErrorKind::Io => PyOSError::new_err(message),
        ErrorKind::Conflict => ConflictError::new_err(message),
        // A kind added to the core later: still the caller's mistake until mapped here.
        _ => PyValueError::new_err(message),
    }
}

/// A core error that knows its kind.
pub(crate) trait Kinded: Display {
    fn error_kind(&self) -> ErrorKind;
}

macro_rules! kinded {
    ($($error:ty),*) => {
        $(impl Kinded for $error {
            fn error_kind(&self) -> ErrorKind {
                self.kind()
            }
        })*
    };
}

kinded!(
    gds_metrics::Error,
    gds_metrics::ConfigError,
    gds_metrics::MultiProcessError,
    gds_metrics::UnknownGaugeMode,
    gds_metrics::targets::TargetsError
);

/// Turns a core error into its Python exception.
pub(crate) trait OrRaise<T> {
    fn or_raise(self) -> PyResult<T>;
}

impl<T, E: Kinded> OrRaise<T> for Result<T, E> {
    fn or_raise(self) -> PyResult<T> {
        self.map_err(|e| exception(e.error_kind(), e.to_string()))
    }
}
