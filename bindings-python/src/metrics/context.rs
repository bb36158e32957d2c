//! The context managers and decorators, written in Python (`gds_metrics._context`).

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

/// The pure-Python module with the context managers and decorators (`time()`,
/// `count_exceptions()`, `track_inprogress()`): they only call back into the methods
/// below, so they are written in Python where decorators are natural.
pub(super) fn helpers(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static HELPERS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    HELPERS
        .get_or_try_init(py, || py.import("gds_metrics._context").map(Bound::unbind))
        .map(|module| module.bind(py))
}

pub(super) fn helper<'py>(
    slf: &Bound<'py, PyAny>,
    helper: &str,
    method: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let py = slf.py();
    helpers(py)?.getattr(helper)?.call1((slf.getattr(method)?,))
}
