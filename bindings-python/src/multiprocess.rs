//! Multi-process mode: the shared directory of a pre-fork server's workers.
//!
//! The core keeps one store per directory and process; this file only opens it for
//! registries and for gunicorn's `child_exit` hook, which runs in the master (whose store
//! the core holds open from `ServerDirectory.for_server` on).

use crate::error::OrRaise;
use crate::gil::without_gil;
use gds_metrics::MultiProcess;
use pyo3::prelude::*;
use std::path::{Path, PathBuf};

/// A registry whose metrics live in `dir` and whose scrapes aggregate every process
/// writing there; a plain in-process registry without a directory.
pub(crate) fn new_registry(dir: Option<&Path>) -> PyResult<gds_metrics::Registry> {
    match dir {
        Some(dir) => Ok(gds_metrics::Registry::multiprocess(
            MultiProcess::open(dir).or_raise()?,
        )),
        None => Ok(gds_metrics::Registry::new()),
    }
}

/// Folds the files of exited processes in `directory` into its totals now (gunicorn's
/// `child_exit`). Scrapes fold too; this keeps the directory small between them.
#[pyfunction]
pub(crate) fn fold_dead(py: Python<'_>, directory: PathBuf) -> PyResult<()> {
    without_gil(py, move || MultiProcess::open(&directory)?.fold_dead()).or_raise()
}

/// The directory a pre-fork server's processes share, chosen by the core's one rule
/// (CONTRACT section 6): the configured directory, else a private one for this run.
#[pyclass(module = "gds_metrics._native", name = "ServerDirectory", frozen)]
pub(crate) struct PyServerDirectory {
    inner: gds_metrics::ServerDirectory,
}

#[pymethods]
impl PyServerDirectory {
    /// The directory for the server whose master process is `master_pid`, from the
    /// environment (`PROMETHEUS_MULTIPROC_DIR`, `prometheus_multiproc_dir`,
    /// `MMAP_DIRECTORY`; first set wins). A bad directory is a `ConfigurationError`.
    #[staticmethod]
    fn for_server(master_pid: u32) -> PyResult<Self> {
        let inner = gds_metrics::ServerDirectory::for_server(master_pid).or_raise()?;
        Ok(Self { inner })
    }

    /// The directory.
    #[getter]
    fn dir(&self) -> PathBuf {
        self.inner.dir().to_owned()
    }

    /// Whether the directory is private to this server run (not configured).
    #[getter]
    fn is_private(&self) -> bool {
        self.inner.is_private()
    }

    /// In the master: lets go of the store it held open and removes a private directory.
    /// Does nothing in a worker.
    fn finish(&self) {
        self.inner.finish();
    }

    fn __repr__(&self) -> String {
        format!("<gds_metrics ServerDirectory {}>", self.inner.dir().display())
    }
}
