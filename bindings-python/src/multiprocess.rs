//! Multi-process mode: the shared directory of a pre-fork server's workers.
//!
//! The core keeps one store per directory and process; this file only opens it for
//! registries and keeps it open for gunicorn's `child_exit` hook, which runs in the
//! master many times over its life.

use crate::error::OrRaise;
use crate::gil::without_gil;
use gds_metrics::MultiProcess;
use pyo3::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Stores opened by `fold_dead`, kept so that each later call reuses the same one
/// (opening creates this process's file in the directory).
static KEPT_OPEN: Mutex<Vec<Arc<MultiProcess>>> = Mutex::new(Vec::new());

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
    without_gil(py, move || {
        let store = MultiProcess::open(&directory)?;
        store.fold_dead()?;
        let mut kept = KEPT_OPEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !kept.iter().any(|open| Arc::ptr_eq(open, &store)) {
            kept.push(store);
        }
        Ok::<(), gds_metrics::MultiProcessError>(())
    })
    .or_raise()
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

    /// Removes a private directory when called in its master; does nothing in a worker or
    /// for a configured directory.
    fn finish(&self) {
        self.inner.finish();
    }

    fn __repr__(&self) -> String {
        format!("<gds_metrics ServerDirectory {}>", self.inner.dir().display())
    }
}
