//! `GDS::Metrics::Native` target-file functions, for brokers written in Ruby. App facts and
//! desired states cross as JSON, the core's own input format, so the schema and its
//! validation stay in the core.

use crate::error::raise;
use gds_metrics::targets::{
    apply, encode_target_groups, plan, read_target_file, AppFacts, BoundApp, TargetStore,
};
use magnus::{function, Error, RModule};
use std::path::Path;

/// The target file (JSON text) for one app's facts.
fn render(facts_json: String) -> Result<String, Error> {
    let facts = AppFacts::from_json(facts_json.as_bytes(), "app facts").map_err(raise)?;
    gds_metrics::targets::render_target_file(&facts).map_err(raise)
}

/// A target file read as strictly as Prometheus reads it, re-encoded as JSON.
fn read(path: String) -> Result<String, Error> {
    let groups = read_target_file(Path::new(&path)).map_err(raise)?;
    Ok(encode_target_groups(&groups))
}

/// The operations (`"write active/<guid>.json"`, ...) that would bring the store at
/// `root` to the desired state, without touching the disk.
fn plan_operations(root: String, bound_json: String) -> Result<Vec<String>, Error> {
    let bound = BoundApp::list_from_json(bound_json.as_bytes(), "desired state").map_err(raise)?;
    let listing = TargetStore::at(root).list().map_err(raise)?;
    let operations = plan(&bound, &listing).map_err(raise)?;
    Ok(operations.iter().map(ToString::to_string).collect())
}

/// Plans and carries out the reconciliation; `[[operation, outcome], ...]`.
fn reconcile(root: String, bound_json: String) -> Result<Vec<(String, String)>, Error> {
    let bound = BoundApp::list_from_json(bound_json.as_bytes(), "desired state").map_err(raise)?;
    let store = TargetStore::open(root).map_err(raise)?;
    let operations = plan(&bound, &store.list().map_err(raise)?).map_err(raise)?;
    let outcomes = apply(&store, &operations).map_err(raise)?;
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
