//! `GDS::Metrics::Native` target-file functions, for brokers written in Ruby. App facts and
//! desired states cross as JSON, the core's own input format, so the schema and its
//! validation stay in the core. A store is whatever the core's `open_store` makes of its
//! location, a local directory or `s3://bucket/prefix`; its work runs without the GVL, so
//! other Ruby threads keep running while S3 answers.

use crate::error::{internal_error, raise};
use crate::gvl::without_gvl;
use gds_metrics::targets::{
    encode_target_groups, open_store, plan, read_target_file, AppFacts, AppGuid, BoundApp, Folder, Store,
    TargetsError,
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

/// Opens the store at `location` and runs `work` on it without the GVL.
fn on_store<T>(
    location: String,
    work: impl FnOnce(&dyn Store) -> Result<T, TargetsError>,
) -> Result<T, Error> {
    without_gvl(move || work(&*open_store(&location)?))
        .map_err(|_| internal_error("a target store operation"))?
        .map_err(raise)
}

fn desired(bound_json: &str) -> Result<Vec<BoundApp>, Error> {
    BoundApp::list_from_json(bound_json.as_bytes(), "desired state").map_err(raise)
}

fn file(folder_name: &str, app_guid: &str) -> Result<(Folder, AppGuid), Error> {
    Ok((
        Folder::parse(folder_name).map_err(raise)?,
        AppGuid::parse(app_guid).map_err(raise)?,
    ))
}

/// The operations (`"write active/<guid>.json"`, ...) that would bring the store at
/// `location` to the desired state, without changing it.
fn plan_operations(location: String, bound_json: String) -> Result<Vec<String>, Error> {
    let bound = desired(&bound_json)?;
    let operations = on_store(location, |store| plan(&bound, &store.list()?))?;
    Ok(operations.iter().map(ToString::to_string).collect())
}

/// Plans and carries out the reconciliation (re-planned from a fresh listing when another
/// writer changed an S3 store meanwhile); `[[operation, outcome], ...]`.
fn reconcile(location: String, bound_json: String) -> Result<Vec<(String, String)>, Error> {
    let bound = desired(&bound_json)?;
    let done = on_store(location, |store| gds_metrics::targets::reconcile(store, &bound))?;
    Ok(done
        .iter()
        .map(|(operation, outcome)| (operation.to_string(), outcome.to_string()))
        .collect())
}

/// Writes one app's file unless it holds these bytes. `listed`: whether the file was in
/// the listing the caller decided from (`nil`: list now); an S3 store raises
/// `ConflictError` when that is no longer so.
fn write(
    location: String,
    folder_name: String,
    app_guid: String,
    contents: String,
    listed: Option<bool>,
) -> Result<String, Error> {
    let (folder, guid) = file(&folder_name, &app_guid)?;
    let outcome = on_store(location, |store| {
        let listed = match listed {
            Some(listed) => listed,
            None => store.list()?.contains(folder, &guid),
        };
        store.write(folder, &guid, contents.as_bytes(), listed)
    })?;
    Ok(outcome.to_string())
}

/// Removes one app's file.
fn remove(location: String, folder_name: String, app_guid: String) -> Result<String, Error> {
    let (folder, guid) = file(&folder_name, &app_guid)?;
    let outcome = on_store(location, |store| store.remove(folder, &guid))?;
    Ok(outcome.to_string())
}

/// The GUIDs with a file in each folder: `[active, inactive]`.
fn list(location: String) -> Result<(Vec<String>, Vec<String>), Error> {
    let listing = on_store(location, |store| store.list())?;
    let names = |set: std::collections::BTreeSet<AppGuid>| set.into_iter().map(|g| g.to_string()).collect();
    Ok((names(listing.active), names(listing.inactive)))
}

/// Defines the target-file functions under `native`.
pub(crate) fn define(native: RModule) -> Result<(), Error> {
    native.define_module_function("targets_render", function!(render, 1))?;
    native.define_module_function("targets_read", function!(read, 1))?;
    native.define_module_function("targets_plan", function!(plan_operations, 2))?;
    native.define_module_function("targets_reconcile", function!(reconcile, 2))?;
    native.define_module_function("targets_write", function!(write, 5))?;
    native.define_module_function("targets_remove", function!(remove, 3))?;
    native.define_module_function("targets_list", function!(list, 1))?;
    Ok(())
}
