//! `GDS::Metrics::Native` target-file functions, for brokers written in Ruby. App facts and
//! desired states cross as JSON, the core's own input format, so the schema and its
//! validation stay in the core.

use crate::error::argument_error;
use gds_metrics::targets::{
    apply, encode_target_groups, plan, read_target_file, AppFacts, BoundApp, TargetStore, TargetsError,
};
use magnus::{function, prelude::*, Error, RModule, Ruby};
use std::path::Path;

/// Mistakes in what the caller passed are ArgumentError; problems with files on disk are
/// `GDS::Metrics::Targets::Error`.
fn targets_error(err: TargetsError) -> Error {
    match err {
        TargetsError::InvalidGuid { .. }
        | TargetsError::InvalidFacts { .. }
        | TargetsError::InvalidInput { .. }
        | TargetsError::DuplicateApp { .. } => argument_error(err),
        other => file_error(other),
    }
}

fn file_error(err: TargetsError) -> Error {
    let ruby = Ruby::get().expect("called from a Ruby thread");
    let class = ruby
        .class_object()
        .const_get::<_, RModule>("GDS")
        .and_then(|gds| gds.const_get::<_, RModule>("Metrics"))
        .and_then(|metrics| metrics.const_get::<_, RModule>("Targets"))
        .and_then(|targets| targets.const_get("Error"));
    match class {
        Ok(class) => Error::new(class, err.to_string()),
        Err(lookup) => lookup,
    }
}

/// The target file (JSON text) for one app's facts.
fn render(facts_json: String) -> Result<String, Error> {
    let facts = AppFacts::from_json(facts_json.as_bytes(), "app facts").map_err(targets_error)?;
    gds_metrics::targets::render_target_file(&facts).map_err(targets_error)
}

/// A target file read as strictly as Prometheus reads it, re-encoded as JSON.
fn read(path: String) -> Result<String, Error> {
    let groups = read_target_file(Path::new(&path)).map_err(targets_error)?;
    Ok(encode_target_groups(&groups))
}

/// The operations (`"write active/<guid>.json"`, ...) that would bring the store at
/// `root` to the desired state, without touching the disk.
fn plan_operations(root: String, bound_json: String) -> Result<Vec<String>, Error> {
    let bound = BoundApp::list_from_json(bound_json.as_bytes(), "desired state").map_err(targets_error)?;
    let listing = TargetStore::at(root).list().map_err(targets_error)?;
    let operations = plan(&bound, &listing).map_err(targets_error)?;
    Ok(operations.iter().map(ToString::to_string).collect())
}

/// Plans and carries out the reconciliation; `[[operation, outcome], ...]`.
fn reconcile(root: String, bound_json: String) -> Result<Vec<(String, String)>, Error> {
    let bound = BoundApp::list_from_json(bound_json.as_bytes(), "desired state").map_err(targets_error)?;
    let store = TargetStore::open(root).map_err(targets_error)?;
    let operations = plan(&bound, &store.list().map_err(targets_error)?).map_err(targets_error)?;
    let outcomes = apply(&store, &operations).map_err(targets_error)?;
    Ok(operations
        .iter()
        .zip(outcomes)
        .map(|(operation, outcome)| (operation.to_string(), outcome.to_string()))
        .collect())
}

/// Defines the target-file functions under `native`.
pub fn define(native: RModule) -> Result<(), Error> {
    native.define_module_function("targets_render", function!(render, 1))?;
    native.define_module_function("targets_read", function!(read, 1))?;
    native.define_module_function("targets_plan", function!(plan_operations, 2))?;
    native.define_module_function("targets_reconcile", function!(reconcile, 2))?;
    Ok(())
}
