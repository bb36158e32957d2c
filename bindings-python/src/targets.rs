//! The core's target files (CONTRACT section 7) for service brokers written in Python.
//!
//! App facts and desired states cross as JSON, the same documents the core's
//! `gds-metrics-targets` tool reads, so the schema (field names, defaults, validation)
//! lives only in the core; `gds_metrics.targets` turns Python dicts into that JSON.

use crate::error::OrRaise;
use gds_metrics::targets::{self, AppFacts, AppGuid, BoundApp, Folder, TargetStore};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::path::PathBuf;

fn folder(name: &str) -> PyResult<Folder> {
    match name {
        "active" => Ok(Folder::Active),
        "inactive" => Ok(Folder::Inactive),
        other => Err(PyValueError::new_err(format!(
            "folder must be \"active\" or \"inactive\", got {other:?}"
        ))),
    }
}

fn guid(value: &str) -> PyResult<AppGuid> {
    AppGuid::parse(value).or_raise()
}

/// The target file of one app, from its facts as JSON.
#[pyfunction]
pub fn render_target_file(facts_json: &str) -> PyResult<String> {
    let facts = AppFacts::from_json(facts_json.as_bytes(), "app facts").or_raise()?;
    targets::render_target_file(&facts).or_raise()
}

/// Reads a target file as strictly as Prometheus; returns its groups re-encoded as JSON.
#[pyfunction]
pub fn read_target_file(path: PathBuf) -> PyResult<String> {
    let groups = targets::read_target_file(&path).or_raise()?;
    Ok(targets::encode_target_groups(&groups))
}

/// A directory of target files: `active/` (read by Prometheus) and `inactive/`.
#[pyclass(module = "gds_metrics._native", name = "TargetStore", frozen)]
pub struct PyTargetStore {
    store: TargetStore,
}

#[pymethods]
impl PyTargetStore {
    /// Opens the store at `root`, creating it and its folders if needed.
    #[new]
    fn new(root: PathBuf) -> PyResult<Self> {
        Ok(Self {
            store: TargetStore::open(root).or_raise()?,
        })
    }

    /// Writes `contents` as the app's file in `folder`, atomically; `"unchanged"` when
    /// the file already holds these bytes.
    fn write(&self, folder_name: &str, app_guid: &str, contents: &[u8]) -> PyResult<String> {
        let outcome = self
            .store
            .write(folder(folder_name)?, &guid(app_guid)?, contents)
            .or_raise()?;
        Ok(outcome.to_string())
    }

    /// Removes the app's file from `folder`.
    fn remove(&self, folder_name: &str, app_guid: &str) -> PyResult<String> {
        let outcome = self
            .store
            .remove(folder(folder_name)?, &guid(app_guid)?)
            .or_raise()?;
        Ok(outcome.to_string())
    }

    /// Moves the app's file from `from_folder` to the other folder.
    fn move_file(&self, app_guid: &str, from_folder: &str) -> PyResult<String> {
        let outcome = self
            .store
            .move_file(&guid(app_guid)?, folder(from_folder)?)
            .or_raise()?;
        Ok(outcome.to_string())
    }

    /// The GUIDs with a file in each folder: `(active, inactive)`.
    fn list(&self) -> PyResult<(Vec<String>, Vec<String>)> {
        let listing = self.store.list().or_raise()?;
        let names =
            |set: std::collections::BTreeSet<AppGuid>| set.iter().map(|g| g.as_str().to_owned()).collect();
        Ok((names(listing.active), names(listing.inactive)))
    }

    /// The operations (`"write active/<guid>.json"`, ...) that bring the store to the
    /// desired state: a JSON array of bound apps.
    fn plan(&self, desired_json: &str) -> PyResult<Vec<String>> {
        let operations = self.operations(desired_json)?;
        Ok(operations.iter().map(ToString::to_string).collect())
    }

    /// Plans and applies; returns each operation with its outcome.
    fn reconcile(&self, desired_json: &str) -> PyResult<Vec<(String, String)>> {
        let operations = self.operations(desired_json)?;
        let outcomes = targets::apply(&self.store, &operations).or_raise()?;
        Ok(operations
            .iter()
            .zip(outcomes)
            .map(|(operation, outcome)| (operation.to_string(), outcome.to_string()))
            .collect())
    }

    #[getter]
    fn root(&self) -> PathBuf {
        self.store.root().to_owned()
    }
}

impl PyTargetStore {
    fn operations(&self, desired_json: &str) -> PyResult<Vec<targets::Operation>> {
        let desired = BoundApp::list_from_json(desired_json.as_bytes(), "desired state").or_raise()?;
        let current = self.store.list().or_raise()?;
        targets::plan(&desired, &current).or_raise()
    }
}
