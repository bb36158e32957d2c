//! What a service broker records beside the target files: its service instances and its
//! bindings (binding id to app GUID), so that the whole state of a broker is in the store.
//!
//! A broker that keeps its bindings in the store needs no Cloud Controller lookup to
//! unbind, cannot leave a target behind when that lookup fails, survives being killed at
//! any moment, and can run as several instances on one S3 location.
//!
//! Layout under the store's root (a directory or an S3 prefix):
//! - `instances/<instance_id>.json`: an [`InstanceRecord`];
//! - `bindings/<binding_id>/<app_guid>.json`: a [`BindingRecord`]. The app GUID is part of
//!   the key so that one listing of `bindings/` tells every bound app, without reading
//!   any record.
//!
//! Records are created once and never changed (an Open Service Broker instance or binding
//! is immutable once made); creation is conditional, so of two brokers creating the same
//! record only one succeeds and the other reads what the first wrote.

use super::{AppGuid, Outcome, Store, TargetsError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// The longest id a record accepts. Open Service Broker platforms send GUIDs (36
/// characters); the limit keeps file names and S3 keys well inside every system's limits.
pub const MAX_RECORD_ID_LEN: usize = 128;

const INSTANCES: &str = "instances";
const BINDINGS: &str = "bindings";
const JSON: &str = ".json";

/// The id of a service instance or binding, as the platform gave it: 1 to 128 of
/// `A-Z a-z 0-9 . _ -`, starting with a letter or digit. It names a file or key, so
/// anything else (a `/`, a leading `.`) is refused rather than escaped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct RecordId(String);

impl RecordId {
    /// Checks `value` and keeps it.
    pub fn parse(value: &str) -> Result<RecordId, TargetsError> {
        let invalid = |reason: &str| {
            TargetsError::InvalidInput {
            source_name: "id".to_owned(),
            reason: format!(
                "`{}` {reason}; an instance or binding id is 1 to {MAX_RECORD_ID_LEN} letters, digits, `.`, `_` \
                 or `-`, starting with a letter or digit, such as a GUID",
                value.escape_debug()
            ),
        }
        };
        if value.is_empty() || value.len() > MAX_RECORD_ID_LEN {
            return Err(invalid("has the wrong length"));
        }
        if !value.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(invalid("does not start with a letter or digit"));
        }
        if !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Err(invalid(
                "holds a character other than letters, digits, `.`, `_` and `-`",
            ));
        }
        Ok(RecordId(value.to_owned()))
    }

    /// The id as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RecordId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        RecordId::parse(&value).map_err(serde::de::Error::custom)
    }
}

/// The key of one record relative to the store's root: folders and a file name, each a
/// checked [`RecordId`] or app GUID, so a key can never leave the store.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordKey(String);

impl RecordKey {
    fn instance(id: &RecordId) -> RecordKey {
        RecordKey(format!("{INSTANCES}/{id}{JSON}"))
    }

    fn binding(id: &RecordId, app: &AppGuid) -> RecordKey {
        RecordKey(format!("{BINDINGS}/{id}/{}", app.file_name()))
    }

    /// The key relative to the store's root, `/`-separated.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The folder part and the file name.
    pub fn split(&self) -> (&str, &str) {
        self.0.rsplit_once('/').expect("every record key has a folder")
    }

    /// The key for a path found by listing `folder`, if it is one this module writes.
    pub(crate) fn from_listed(folder: RecordFolder, relative: &str) -> Option<RecordKey> {
        let key = RecordKey(format!("{}/{relative}", folder.name()));
        key.parse().map(|_| key)
    }

    /// What the key names: an instance, or a binding and its app.
    fn parse(&self) -> Option<Named> {
        let parts: Vec<&str> = self.0.split('/').collect();
        match parts.as_slice() {
            [INSTANCES, file] => Some(Named::Instance(RecordId::parse(file.strip_suffix(JSON)?).ok()?)),
            [BINDINGS, id, file] => Some(Named::Binding(BoundBinding {
                binding_id: RecordId::parse(id).ok()?,
                app_guid: AppGuid::from_file_name(file)?,
            })),
            _ => None,
        }
    }
}

impl fmt::Display for RecordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

enum Named {
    Instance(RecordId),
    Binding(BoundBinding),
}

/// The folders records live in: what a store lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordFolder {
    /// `instances/<id>.json`, one level.
    Instances,
    /// `bindings/<id>/<guid>.json`, two levels.
    Bindings,
}

impl RecordFolder {
    /// The folder's name under the store's root.
    pub fn name(self) -> &'static str {
        match self {
            RecordFolder::Instances => INSTANCES,
            RecordFolder::Bindings => BINDINGS,
        }
    }

    /// Both folders, for cleaning up after dead writers.
    pub const ALL: [RecordFolder; 2] = [RecordFolder::Instances, RecordFolder::Bindings];
}

/// A service instance as it was provisioned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceRecord {
    /// The catalog's service the instance is of.
    pub service_id: String,
    /// The catalog's plan the instance is of.
    pub plan_id: String,
    /// The organization the instance was created in.
    #[serde(default)]
    pub organization_guid: String,
    /// The space the instance was created in.
    #[serde(default)]
    pub space_guid: String,
    /// The configuration parameters the platform passed on (`cf create-service -c`).
    #[serde(default)]
    pub parameters: serde_json::Map<String, serde_json::Value>,
    /// The platform user who asked for it (from the originating identity), for audits.
    #[serde(default)]
    pub created_by: Option<String>,
}

impl InstanceRecord {
    /// Whether `other` asks for the same instance: every field but who asked.
    pub fn same_request(&self, other: &InstanceRecord) -> bool {
        (
            &self.service_id,
            &self.plan_id,
            &self.organization_guid,
            &self.space_guid,
            &self.parameters,
        ) == (
            &other.service_id,
            &other.plan_id,
            &other.organization_guid,
            &other.space_guid,
            &other.parameters,
        )
    }
}

/// A binding of an app to a service instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindingRecord {
    /// The service instance the app is bound to.
    pub instance_id: RecordId,
    /// The bound app.
    pub app_guid: AppGuid,
    /// The catalog's service of the instance.
    pub service_id: String,
    /// The catalog's plan of the instance.
    pub plan_id: String,
    /// The configuration parameters the platform passed on (`cf bind-service -c`).
    #[serde(default)]
    pub parameters: serde_json::Map<String, serde_json::Value>,
    /// The platform user who asked for it (from the originating identity), for audits.
    #[serde(default)]
    pub created_by: Option<String>,
}

impl BindingRecord {
    /// Whether `other` asks for the same binding: every field but who asked.
    pub fn same_request(&self, other: &BindingRecord) -> bool {
        (
            &self.instance_id,
            &self.app_guid,
            &self.service_id,
            &self.plan_id,
            &self.parameters,
        ) == (
            &other.instance_id,
            &other.app_guid,
            &other.service_id,
            &other.plan_id,
            &other.parameters,
        )
    }
}

/// One binding as a listing shows it: its id and its app.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BoundBinding {
    /// The binding's id.
    pub binding_id: RecordId,
    /// The app it binds.
    pub app_guid: AppGuid,
}

/// Every binding in `store`, from one listing of `bindings/` (no record is read).
pub fn list_bindings<S: Store + ?Sized>(store: &S) -> Result<BTreeSet<BoundBinding>, TargetsError> {
    Ok(store
        .list_records(RecordFolder::Bindings)?
        .iter()
        .filter_map(|key| match key.parse()? {
            Named::Binding(binding) => Some(binding),
            Named::Instance(_) => None,
        })
        .collect())
}

/// The ids of every instance in `store`.
pub fn list_instances<S: Store + ?Sized>(store: &S) -> Result<BTreeSet<RecordId>, TargetsError> {
    Ok(store
        .list_records(RecordFolder::Instances)?
        .iter()
        .filter_map(|key| match key.parse()? {
            Named::Instance(id) => Some(id),
            Named::Binding(_) => None,
        })
        .collect())
}

/// The apps that have at least one binding in `bindings`.
pub fn bound_apps(bindings: &BTreeSet<BoundBinding>) -> BTreeSet<AppGuid> {
    bindings.iter().map(|b| b.app_guid.clone()).collect()
}

/// What a conditional creation found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created<R> {
    /// The record is new.
    New,
    /// A record with this id was already there (made by an earlier request, or by another
    /// broker that got there first); here it is, to compare with the request.
    Existing(R),
}

/// The instance `id`, if it exists.
pub fn read_instance<S: Store + ?Sized>(
    store: &S,
    id: &RecordId,
) -> Result<Option<InstanceRecord>, TargetsError> {
    let key = RecordKey::instance(id);
    store
        .read_record(&key)?
        .map(|bytes| decode(&key, &bytes))
        .transpose()
}

/// Records instance `id` unless it exists; an existing one is returned unchanged.
pub fn create_instance<S: Store + ?Sized>(
    store: &S,
    id: &RecordId,
    record: &InstanceRecord,
) -> Result<Created<InstanceRecord>, TargetsError> {
    create(store, &RecordKey::instance(id), record, || {
        read_instance(store, id)
    })
}

/// Removes the record of instance `id`.
pub fn remove_instance<S: Store + ?Sized>(store: &S, id: &RecordId) -> Result<Outcome, TargetsError> {
    store.remove_record(&RecordKey::instance(id))
}

/// The binding `id` and its record, if it exists. A binding id recorded for two apps (two
/// brokers raced with different requests for one id) reads as the first app's.
pub fn read_binding<S: Store + ?Sized>(
    store: &S,
    id: &RecordId,
) -> Result<Option<BindingRecord>, TargetsError> {
    let Some(app) = binding_apps(store, id)?.into_iter().next() else {
        return Ok(None);
    };
    let key = RecordKey::binding(id, &app);
    store
        .read_record(&key)?
        .map(|bytes| decode(&key, &bytes))
        .transpose()
}

/// The record of a binding found by [`list_bindings`], read by its key (no listing).
pub fn read_listed_binding<S: Store + ?Sized>(
    store: &S,
    binding: &BoundBinding,
) -> Result<Option<BindingRecord>, TargetsError> {
    let key = RecordKey::binding(&binding.binding_id, &binding.app_guid);
    store
        .read_record(&key)?
        .map(|bytes| decode(&key, &bytes))
        .transpose()
}

/// Records binding `id` unless a binding with this id exists; an existing one is returned
/// unchanged.
pub fn create_binding<S: Store + ?Sized>(
    store: &S,
    id: &RecordId,
    record: &BindingRecord,
) -> Result<Created<BindingRecord>, TargetsError> {
    if let Some(existing) = read_binding(store, id)? {
        return Ok(Created::Existing(existing));
    }
    create(store, &RecordKey::binding(id, &record.app_guid), record, || {
        read_binding(store, id)
    })
}

/// Removes the record of binding `id` of `app`.
pub fn remove_binding<S: Store + ?Sized>(
    store: &S,
    id: &RecordId,
    app: &AppGuid,
) -> Result<Outcome, TargetsError> {
    store.remove_record(&RecordKey::binding(id, app))
}

/// The apps recorded under binding `id` (one, unless two brokers raced).
fn binding_apps<S: Store + ?Sized>(store: &S, id: &RecordId) -> Result<Vec<AppGuid>, TargetsError> {
    Ok(list_bindings(store)?
        .into_iter()
        .filter(|b| &b.binding_id == id)
        .map(|b| b.app_guid)
        .collect())
}

fn create<S: Store + ?Sized, R: Serialize>(
    store: &S,
    key: &RecordKey,
    record: &R,
    read_existing: impl FnOnce() -> Result<Option<R>, TargetsError>,
) -> Result<Created<R>, TargetsError> {
    let mut bytes = serde_json::to_vec_pretty(record).expect("records are strings and JSON values");
    bytes.push(b'\n');
    match store.create_record(key, &bytes) {
        Ok(()) => Ok(Created::New),
        Err(TargetsError::Conflict { location }) => match read_existing()? {
            Some(existing) => Ok(Created::Existing(existing)),
            // Created and removed again between our two requests: let the caller retry.
            None => Err(TargetsError::Conflict { location }),
        },
        Err(e) => Err(e),
    }
}

fn decode<R: for<'de> Deserialize<'de>>(key: &RecordKey, bytes: &[u8]) -> Result<R, TargetsError> {
    serde_json::from_slice(bytes).map_err(|e| TargetsError::InvalidFile {
        file: key.to_string(),
        reason: format!("not a record this broker wrote: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::TargetStore;

    const GUID: &str = "6f1e3c2a-9b4d-4e8f-a1b2-c3d4e5f6a7b8";
    const OTHER_GUID: &str = "0b7c9d2e-1f3a-4b5c-8d6e-7f8a9b0c1d2e";

    fn id(text: &str) -> RecordId {
        RecordId::parse(text).unwrap()
    }

    fn binding(app: &str) -> BindingRecord {
        BindingRecord {
            instance_id: id("instance-1"),
            app_guid: AppGuid::parse(app).unwrap(),
            service_id: "service".into(),
            plan_id: "plan".into(),
            parameters: serde_json::Map::new(),
            created_by: Some("user-1".into()),
        }
    }

    #[test]
    fn ids_that_could_leave_the_store_are_refused() {
        for bad in ["", ".hidden", "a/b", "../x", "a b", "é", &"x".repeat(129)] {
            assert!(RecordId::parse(bad).is_err(), "{bad:?}");
        }
        for good in [GUID, "binding_1.a-b", &"x".repeat(128)] {
            assert_eq!(RecordId::parse(good).unwrap().as_str(), good);
        }
    }

    #[test]
    fn a_binding_is_created_once_and_read_back_with_its_app() {
        let dir = tempfile::tempdir().unwrap();
        let store = TargetStore::open(dir.path()).unwrap();
        assert_eq!(read_binding(&store, &id("b1")).unwrap(), None);
        assert_eq!(
            create_binding(&store, &id("b1"), &binding(GUID)).unwrap(),
            Created::New
        );
        assert!(dir.path().join(format!("bindings/b1/{GUID}.json")).is_file());

        let mut again = binding(OTHER_GUID);
        again.created_by = None;
        assert_eq!(
            create_binding(&store, &id("b1"), &again).unwrap(),
            Created::Existing(binding(GUID)),
            "the first request's record stays"
        );
        assert_eq!(read_binding(&store, &id("b1")).unwrap(), Some(binding(GUID)));
        create_binding(&store, &id("b2"), &binding(GUID)).unwrap();
        let first = list_bindings(&store).unwrap().into_iter().next().unwrap();
        assert_eq!(read_listed_binding(&store, &first).unwrap(), Some(binding(GUID)));
        let listed: Vec<String> = list_bindings(&store)
            .unwrap()
            .iter()
            .map(|b| format!("{} {}", b.binding_id, b.app_guid))
            .collect();
        assert_eq!(listed, [format!("b1 {GUID}"), format!("b2 {GUID}")]);
        assert_eq!(bound_apps(&list_bindings(&store).unwrap()).len(), 1);

        assert_eq!(
            remove_binding(&store, &id("b1"), &AppGuid::parse(GUID).unwrap()).unwrap(),
            Outcome::Removed
        );
        assert_eq!(
            remove_binding(&store, &id("b1"), &AppGuid::parse(GUID).unwrap()).unwrap(),
            Outcome::Absent
        );
        assert!(
            !dir.path().join("bindings/b1").exists(),
            "the binding's folder goes with it"
        );
        assert_eq!(list_bindings(&store).unwrap().len(), 1);
    }

    #[test]
    fn instances_are_created_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = TargetStore::open(dir.path()).unwrap();
        let record = InstanceRecord {
            service_id: "s".into(),
            plan_id: "p".into(),
            organization_guid: "o".into(),
            space_guid: "sp".into(),
            parameters: serde_json::Map::new(),
            created_by: None,
        };
        assert_eq!(create_instance(&store, &id("i1"), &record).unwrap(), Created::New);
        let mut other = record.clone();
        other.plan_id = "other".into();
        assert_eq!(
            create_instance(&store, &id("i1"), &other).unwrap(),
            Created::Existing(record.clone())
        );
        assert!(!record.same_request(&other));
        assert_eq!(list_instances(&store).unwrap(), BTreeSet::from([id("i1")]));
        assert_eq!(remove_instance(&store, &id("i1")).unwrap(), Outcome::Removed);
        assert_eq!(read_instance(&store, &id("i1")).unwrap(), None);
    }

    #[test]
    fn records_are_invisible_to_target_listings_and_strays_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let store = TargetStore::open(dir.path()).unwrap();
        create_binding(&store, &id("b1"), &binding(GUID)).unwrap();
        std::fs::write(dir.path().join("bindings/notes.txt"), "x").unwrap();
        std::fs::create_dir_all(dir.path().join("bindings/b2")).unwrap();
        std::fs::write(dir.path().join("bindings/b2/not-a-guid.json"), "{}").unwrap();
        assert_eq!(crate::targets::Store::list(&store).unwrap(), Default::default());
        assert_eq!(list_bindings(&store).unwrap().len(), 1);
    }

    #[test]
    fn a_record_that_is_not_json_names_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = TargetStore::open(dir.path()).unwrap();
        std::fs::create_dir_all(dir.path().join("instances")).unwrap();
        std::fs::write(dir.path().join("instances/i1.json"), "{").unwrap();
        let err = read_instance(&store, &id("i1")).unwrap_err().to_string();
        assert!(
            err.starts_with("instances/i1.json: not a record this broker wrote"),
            "{err}"
        );
    }
}
