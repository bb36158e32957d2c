//! The core's target files (CONTRACT section 7) for service brokers written in Python.
//!
//! App facts and desired states cross as JSON, the same documents the core's
//! `gds-metrics-targets` tool reads, so the schema (field names, defaults, validation)
//! lives only in the core; `gds_metrics.targets` turns Python dicts into that JSON. A store
//! is whatever the core's `open_store` makes of its location: a local directory or
//! `s3://bucket/prefix`; S3 requests run with the GIL released.

use crate::error::OrRaise;
use crate::gil::without_gil;
use gds_metrics::targets::{self, open_store, AppFacts, AppGuid, BoundApp, Folder, Store};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::collections::BTreeSet;
use std::path::PathBuf;

fn folder(name: &str) -> PyResult<Folder> {
    Folder::parse(name).or_raise()
}

fn guid(value: &str) -> PyResult<AppGuid> {
    AppGuid::parse(value).or_raise()
}

/// The target file of one app, from its facts as JSON.
#[pyfunction]
pub(crate) fn render_target_file(facts_json: &str) -> PyResult<String> {
    let facts = AppFacts::from_json(facts_json.as_bytes(), "app facts").or_raise()?;
    targets::render_target_file(&facts).or_raise()
}

/// Reads a target file as strictly as Prometheus; returns its groups re-encoded as JSON.
#[pyfunction]
pub(crate) fn read_target_file(path: PathBuf) -> PyResult<String> {
    let groups = targets::read_target_file(&path).or_raise()?;
    Ok(targets::encode_target_groups(&groups))
}

/// A place for target files, `active/` (read by Prometheus) and `inactive/`: a local
/// directory or an S3 location.
#[pyclass(module = "gds_metrics._native", name = "TargetStore", frozen)]
pub(crate) struct PyTargetStore {
    store: Box<dyn Store>,
    location: String,
}

#[pymethods]
impl PyTargetStore {
    /// Opens the store at `location`, a directory or `s3://bucket/prefix` (configured from
    /// the AWS variables). Nothing is created until something is written.
    #[new]
    fn new(py: Python<'_>, location: String) -> PyResult<Self> {
        let store = without_gil(py, || open_store(&location)).or_raise()?;
        Ok(Self { store, location })
    }

    /// Writes `contents` as the app's file in `folder` unless it already holds these bytes
    /// (`"unchanged"`). `listed`: whether the file was there when the caller decided to
    /// write; an S3 store writes only if that is still so and raises `ConflictError`
    /// otherwise. `None` takes a listing now.
    #[pyo3(signature = (folder_name, app_guid, contents, listed=None))]
    fn write(
        &self,
        py: Python<'_>,
        folder_name: &str,
        app_guid: &str,
        contents: &[u8],
        listed: Option<bool>,
    ) -> PyResult<String> {
        let (folder, guid) = (folder(folder_name)?, guid(app_guid)?);
        without_gil(py, || {
            let listed = match listed {
                Some(listed) => listed,
                None => self.store.list()?.contains(folder, &guid),
            };
            self.store.write(folder, &guid, contents, listed)
        })
        .map(|outcome| outcome.to_string())
        .or_raise()
    }

    /// Removes the app's file from `folder`.
    fn remove(&self, py: Python<'_>, folder_name: &str, app_guid: &str) -> PyResult<String> {
        let (folder, guid) = (folder(folder_name)?, guid(app_guid)?);
        without_gil(py, || self.store.remove(folder, &guid))
            .map(|outcome| outcome.to_string())
            .or_raise()
    }

    /// Moves the app's file from `from_folder` to the other folder in one rename: local
    /// directories only (S3 has no rename; reconcile with the app's new state instead).
    fn move_file(&self, app_guid: &str, from_folder: &str) -> PyResult<String> {
        let Some(directory) = self.store.as_directory() else {
            return Err(PyValueError::new_err(format!(
                "`{}` is not a local directory and S3 has no rename: reconcile with the app \
                 \"started\" or \"stopped\" instead of moving its file",
                self.location
            )));
        };
        let outcome = directory
            .move_file(&guid(app_guid)?, folder(from_folder)?)
            .or_raise()?;
        Ok(outcome.to_string())
    }

    /// The GUIDs with a file in each folder: `(active, inactive)`.
    fn list(&self, py: Python<'_>) -> PyResult<(Vec<String>, Vec<String>)> {
        let listing = without_gil(py, || self.store.list()).or_raise()?;
        let names = |set: BTreeSet<AppGuid>| set.iter().map(|g| g.as_str().to_owned()).collect();
        Ok((names(listing.active), names(listing.inactive)))
    }

    /// The operations (`"write active/<guid>.json"`, ...) that bring the store to the
    /// desired state: a JSON array of bound apps.
    fn plan(&self, py: Python<'_>, desired_json: &str) -> PyResult<Vec<String>> {
        let desired = desired(desired_json)?;
        let operations = without_gil(py, || targets::plan(&desired, &self.store.list()?)).or_raise()?;
        Ok(operations.iter().map(ToString::to_string).collect())
    }

    /// Plans and applies (on a conflict with another writer, lists again and re-plans, as
    /// the core's `reconcile` does); returns each operation with its outcome.
    fn reconcile(&self, py: Python<'_>, desired_json: &str) -> PyResult<Vec<(String, String)>> {
        let desired = desired(desired_json)?;
        let done = without_gil(py, || targets::reconcile(&*self.store, &desired)).or_raise()?;
        Ok(done
            .iter()
            .map(|(operation, outcome)| (operation.to_string(), outcome.to_string()))
            .collect())
    }

    /// The directory or S3 location, as given.
    #[getter]
    fn root(&self) -> &str {
        &self.location
    }
}

fn desired(desired_json: &str) -> PyResult<Vec<BoundApp>> {
    BoundApp::list_from_json(desired_json.as_bytes(), "desired state").or_raise()
}
