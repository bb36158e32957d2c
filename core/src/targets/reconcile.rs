//! Reconciliation: from the apps that should be bound (and what Cloud Foundry says about
//! each) and the files that exist, to the file operations that make the store agree.
//!
//! Planning is a pure function, so a broker can print, test or log a plan before
//! [`apply`] carries it out. Every input is checked and every file rendered while
//! planning: a mistake anywhere in the desired state stops the run before any file is
//! touched.

use super::{render_target_file, AppFacts, AppGuid, Folder, Listing, Outcome, Store, TargetsError};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// One app bound to the Prometheus service, and what Cloud Foundry currently says about
/// it.
///
/// In JSON: the [`AppFacts`] fields plus `"state": "started"` or `"stopped"`, or just
/// `{"guid": "...", "state": "deleted"}` for an app that no longer exists.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum BoundApp {
    /// Running: its file belongs in `active/`, where Prometheus reads it.
    Started(AppFacts),
    /// Stopped: its file is kept in `inactive/`, out of Prometheus's sight.
    Stopped(AppFacts),
    /// The app no longer exists (for example the old half of a blue-green deploy that
    /// was deleted while still bound): its files are removed.
    Deleted {
        /// The GUID the app had.
        guid: AppGuid,
    },
}

impl BoundApp {
    /// The app's GUID.
    pub fn guid(&self) -> &AppGuid {
        match self {
            BoundApp::Started(facts) | BoundApp::Stopped(facts) => &facts.guid,
            BoundApp::Deleted { guid } => guid,
        }
    }

    /// Reads a desired state, a JSON array of bound apps, naming `source_name` in errors.
    pub fn list_from_json(json: &[u8], source_name: &str) -> Result<Vec<BoundApp>, TargetsError> {
        serde_json::from_slice(json).map_err(|e| TargetsError::InvalidInput {
            source_name: source_name.to_owned(),
            reason: format!("not a valid desired state (a JSON array of bound apps): {e}"),
        })
    }

    /// Where the app's file belongs and what it holds, or `None` if it should have none.
    fn desired_file(&self) -> Result<Option<DesiredFile>, TargetsError> {
        Ok(match self {
            BoundApp::Started(facts) => Some((Folder::Active, render_target_file(facts)?)),
            BoundApp::Stopped(facts) => Some((Folder::Inactive, render_target_file(facts)?)),
            BoundApp::Deleted { .. } => None,
        })
    }
}

/// The folder an app's file belongs in, and its contents.
type DesiredFile = (Folder, String);

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// Write the app's file into `folder` (skipped by the store if the bytes are equal).
    /// `listed`: the file was in the listing the plan was made from; a shared store (S3)
    /// writes only if that is still so.
    #[allow(missing_docs)]
    Write {
        folder: Folder,
        guid: AppGuid,
        contents: String,
        listed: bool,
    },
    /// Remove the app's file from `folder`.
    #[allow(missing_docs)]
    Remove { folder: Folder, guid: AppGuid },
}

impl Operation {
    /// The file the operation concerns, relative to the store root.
    pub fn relative_path(&self) -> String {
        let (folder, guid) = match self {
            Operation::Write { folder, guid, .. } | Operation::Remove { folder, guid } => (folder, guid),
        };
        format!("{folder}/{}", guid.file_name())
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = match self {
            Operation::Write { .. } => "write",
            Operation::Remove { .. } => "remove",
        };
        write!(f, "{verb} {}", self.relative_path())
    }
}

/// The operations that bring a store holding `current` to the state `bound` describes.
///
/// `bound` is the complete list of bound apps: a file whose GUID is not in it belongs to
/// an unbound app and is removed. Per app, in GUID order:
/// - started: write `active/`, then remove any `inactive/` copy;
/// - stopped: write `inactive/`, then remove any `active/` copy;
/// - deleted or unbound: remove both copies.
///
/// The write comes before the removal, so an interrupted run leaves an app in both
/// folders rather than in neither, and the next run completes it.
pub fn plan(bound: &[BoundApp], current: &Listing) -> Result<Vec<Operation>, TargetsError> {
    plan_since(bound, current, current)
}

/// [`plan`] for a writer whose `bound` was decided when the store looked like `base`, and
/// that now finds it as `current` (after a [`TargetsError::Conflict`]): only this writer's
/// own changes are carried over. An app that had a file in `base` and has none now was
/// unbound by another writer and is not brought back; a file that appeared since `base`
/// was bound by another writer and is not removed.
pub fn plan_since(
    bound: &[BoundApp],
    base: &Listing,
    current: &Listing,
) -> Result<Vec<Operation>, TargetsError> {
    let desired = desired_files(bound)?;
    let bound_in_base = base.bound_guids();
    let bound_now = current.bound_guids();
    let every_guid: BTreeSet<&AppGuid> = desired.keys().copied().chain(bound_now.iter()).collect();
    let mut operations = Vec::new();
    for guid in every_guid {
        let unbound_by_another_writer = bound_in_base.contains(guid) && !bound_now.contains(guid);
        let bound_by_another_writer = !bound_in_base.contains(guid) && !desired.contains_key(guid);
        if unbound_by_another_writer || bound_by_another_writer {
            continue;
        }
        let keep = match desired.get(guid) {
            Some(Some((folder, contents))) => {
                operations.push(Operation::Write {
                    folder: *folder,
                    guid: guid.clone(),
                    contents: contents.clone(),
                    listed: current.contains(*folder, guid),
                });
                Some(*folder)
            }
            Some(None) | None => None,
        };
        for folder in [Folder::Active, Folder::Inactive] {
            if Some(folder) != keep && current.contains(folder, guid) {
                operations.push(Operation::Remove {
                    folder,
                    guid: guid.clone(),
                });
            }
        }
    }
    Ok(operations)
}

/// Each bound app's desired file, rejecting a GUID listed twice.
fn desired_files(bound: &[BoundApp]) -> Result<BTreeMap<&AppGuid, Option<DesiredFile>>, TargetsError> {
    let mut desired = BTreeMap::new();
    for app in bound {
        if desired.insert(app.guid(), app.desired_file()?).is_some() {
            return Err(TargetsError::DuplicateApp {
                guid: app.guid().to_string(),
            });
        }
    }
    Ok(desired)
}

/// Carries out `operations` in order on `store`, returning what each one did. Stops at
/// the first failure; every operation already done is complete (writes are atomic), so
/// running the same plan again finishes the job.
pub fn apply<S: Store + ?Sized>(store: &S, operations: &[Operation]) -> Result<Vec<Outcome>, TargetsError> {
    operations
        .iter()
        .map(|operation| match operation {
            Operation::Write {
                folder,
                guid,
                contents,
                listed,
            } => store.write(*folder, guid, contents.as_bytes(), *listed),
            Operation::Remove { folder, guid } => store.remove(*folder, guid),
        })
        .collect()
}

/// How many times [`reconcile`] plans and applies before giving up on a store that other
/// writers keep changing.
pub const RECONCILE_ATTEMPTS: usize = 5;

/// Lists `store`, plans and applies: [`reconcile_since`] from a listing taken now.
pub fn reconcile<S: Store + ?Sized>(
    store: &S,
    bound: &[BoundApp],
) -> Result<Vec<(Operation, Outcome)>, TargetsError> {
    reconcile_since(store, bound, &store.list()?)
}

/// Plans from `base` (the listing `bound` was decided against) and applies; when another
/// writer wins a race ([`TargetsError::Conflict`]), lists again and re-plans with
/// [`plan_since`] against `base`, up to [`RECONCILE_ATTEMPTS`] times. Returns every
/// operation carried out and what it did.
pub fn reconcile_since<S: Store + ?Sized>(
    store: &S,
    bound: &[BoundApp],
    base: &Listing,
) -> Result<Vec<(Operation, Outcome)>, TargetsError> {
    let mut current = base.clone();
    let mut done = Vec::new();
    let mut attempt = 1;
    loop {
        let operations = plan_since(bound, base, &current)?;
        match apply_each(store, operations, &mut done) {
            Err(TargetsError::Conflict { .. }) if attempt < RECONCILE_ATTEMPTS => {
                attempt += 1;
                current = store.list()?;
            }
            result => return result.map(|()| done),
        }
    }
}

/// The target updater's reconciliation: refreshes the files of the apps in `bound` that
/// have a file now and binds nothing, so an updater racing the broker never brings back
/// an app the broker just unbound, whichever of them lists first. Files of apps not in
/// `bound` are removed, as in [`reconcile`].
pub fn reconcile_updates<S: Store + ?Sized>(
    store: &S,
    bound: &[BoundApp],
) -> Result<Vec<(Operation, Outcome)>, TargetsError> {
    let base = store.list()?;
    reconcile_since(store, &only_listed(bound, &base), &base)
}

/// Brings one app's files to the state `app` describes and touches no other app's: what a
/// broker does when it binds an app (write) or unbinds its last binding
/// ([`BoundApp::Deleted`], remove). The broker's records are the truth about this app, so
/// on a [`TargetsError::Conflict`] it simply lists again and re-plans, up to
/// [`RECONCILE_ATTEMPTS`] times.
pub fn reconcile_app<S: Store + ?Sized>(
    store: &S,
    app: &BoundApp,
) -> Result<Vec<(Operation, Outcome)>, TargetsError> {
    let mut attempt = 1;
    loop {
        let listing = store.list()?.only(app.guid());
        let mut done = Vec::new();
        match apply_each(store, plan(std::slice::from_ref(app), &listing)?, &mut done) {
            Err(TargetsError::Conflict { .. }) if attempt < RECONCILE_ATTEMPTS => attempt += 1,
            result => return result.map(|()| done),
        }
    }
}

/// The apps of `bound` that have a file in `listing`: what a target updater may refresh.
pub fn only_listed(bound: &[BoundApp], listing: &Listing) -> Vec<BoundApp> {
    let listed = listing.bound_guids();
    bound
        .iter()
        .filter(|app| listed.contains(app.guid()))
        .cloned()
        .collect()
}

/// Applies `operations` one by one, recording each completed one in `done`.
fn apply_each<S: Store + ?Sized>(
    store: &S,
    operations: Vec<Operation>,
    done: &mut Vec<(Operation, Outcome)>,
) -> Result<(), TargetsError> {
    for operation in operations {
        let outcome = apply(store, std::slice::from_ref(&operation))?[0];
        done.push((operation, outcome));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::{read_target_file, TargetStore};
    use std::fs;

    /// A GUID whose last digit is `n`, so tests read like the scenario they set up.
    fn guid(n: u8) -> AppGuid {
        AppGuid::parse(&format!("00000000-0000-4000-8000-00000000000{n}")).unwrap()
    }

    fn facts(n: u8, instances: u32) -> AppFacts {
        AppFacts {
            guid: guid(n),
            name: format!("app-{n}"),
            instances,
            route_host: format!("app-{n}.cloudapps.digital"),
            route_path: String::new(),
            org: "org".into(),
            space: "space".into(),
            exporter: false,
        }
    }

    fn listing(active: &[u8], inactive: &[u8]) -> Listing {
        Listing {
            active: active.iter().map(|&n| guid(n)).collect(),
            inactive: inactive.iter().map(|&n| guid(n)).collect(),
        }
    }

    fn lines(operations: &[Operation]) -> Vec<String> {
        operations.iter().map(ToString::to_string).collect()
    }

    fn path(folder: &str, n: u8) -> String {
        format!("{folder}/{}", guid(n).file_name())
    }

    #[test]
    fn reconciling_one_app_leaves_every_other_file_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = TargetStore::open(dir.path()).unwrap();
        reconcile(
            &store,
            &[BoundApp::Started(facts(1, 1)), BoundApp::Started(facts(2, 1))],
        )
        .unwrap();
        let done = reconcile_app(&store, &BoundApp::Stopped(facts(3, 2))).unwrap();
        assert_eq!(
            lines(&done.iter().map(|(op, _)| op.clone()).collect::<Vec<_>>()),
            [format!("write {}", path("inactive", 3))]
        );
        reconcile_app(&store, &BoundApp::Started(facts(3, 2))).unwrap();
        assert_eq!(store.list().unwrap(), listing(&[1, 2, 3], &[]));
        let done = reconcile_app(&store, &BoundApp::Deleted { guid: guid(1) }).unwrap();
        assert_eq!(done.len(), 1);
        assert_eq!(store.list().unwrap(), listing(&[2, 3], &[]));
    }

    #[test]
    fn bind_writes_active() {
        let ops = plan(&[BoundApp::Started(facts(1, 1))], &Listing::default()).unwrap();
        assert_eq!(lines(&ops), [format!("write {}", path("active", 1))]);
        let Operation::Write { contents, .. } = &ops[0] else {
            panic!("{ops:?}")
        };
        assert_eq!(contents, &render_target_file(&facts(1, 1)).unwrap());
    }

    #[test]
    fn unbind_removes_both_copies() {
        let ops = plan(&[], &listing(&[1], &[1])).unwrap();
        assert_eq!(
            lines(&ops),
            [
                format!("remove {}", path("active", 1)),
                format!("remove {}", path("inactive", 1))
            ]
        );
    }

    #[test]
    fn stop_writes_inactive_then_removes_active() {
        let ops = plan(&[BoundApp::Stopped(facts(1, 1))], &listing(&[1], &[])).unwrap();
        assert_eq!(
            lines(&ops),
            [
                format!("write {}", path("inactive", 1)),
                format!("remove {}", path("active", 1))
            ]
        );
    }

    #[test]
    fn start_writes_active_then_removes_the_stale_inactive_copy() {
        let ops = plan(&[BoundApp::Started(facts(1, 1))], &listing(&[], &[1])).unwrap();
        assert_eq!(
            lines(&ops),
            [
                format!("write {}", path("active", 1)),
                format!("remove {}", path("inactive", 1))
            ]
        );
    }

    #[test]
    fn deleted_app_loses_its_files() {
        let ops = plan(&[BoundApp::Deleted { guid: guid(1) }], &listing(&[1], &[])).unwrap();
        assert_eq!(lines(&ops), [format!("remove {}", path("active", 1))]);
        assert!(plan(&[BoundApp::Deleted { guid: guid(1) }], &Listing::default())
            .unwrap()
            .is_empty());
    }

    #[test]
    fn duplicate_app_is_rejected_before_anything_is_planned() {
        let err = plan(
            &[BoundApp::Started(facts(1, 1)), BoundApp::Stopped(facts(1, 1))],
            &Listing::default(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "app `{}` appears more than once in the desired state; list each bound app once",
                guid(1)
            )
        );
    }

    #[test]
    fn writes_say_whether_the_file_was_listed() {
        let bound = [BoundApp::Started(facts(1, 1)), BoundApp::Started(facts(2, 1))];
        let ops = plan(&bound, &listing(&[1], &[])).unwrap();
        let listed: Vec<_> = ops
            .iter()
            .map(|op| match op {
                Operation::Write { listed, .. } => *listed,
                Operation::Remove { .. } => panic!("nothing to remove: {op}"),
            })
            .collect();
        assert_eq!(listed, [true, false]);
    }

    #[test]
    fn a_writer_behind_another_does_not_bring_back_what_it_unbound() {
        let bound = [BoundApp::Started(facts(1, 2)), BoundApp::Started(facts(2, 1))];
        let base = listing(&[1, 2], &[]);
        let now = listing(&[2], &[]);
        let ops = plan_since(&bound, &base, &now).unwrap();
        let paths: Vec<_> = ops.iter().map(Operation::to_string).collect();
        assert_eq!(paths, [format!("write active/{}.json", guid(2))]);
    }

    #[test]
    fn a_writer_behind_another_does_not_remove_what_it_bound() {
        let bound = [BoundApp::Started(facts(1, 1))];
        let base = listing(&[1, 2], &[]);
        let now = listing(&[1, 2, 3], &[]);
        let ops = plan_since(&bound, &base, &now).unwrap();
        let paths: Vec<_> = ops.iter().map(Operation::to_string).collect();
        assert_eq!(
            paths,
            [
                format!("write active/{}.json", guid(1)),
                format!("remove active/{}.json", guid(2)),
            ],
            "app 2 was unbound by this writer; app 3 was bound by another"
        );
    }

    #[test]
    fn bad_facts_anywhere_reject_the_whole_plan() {
        let mut bad = facts(2, 1);
        bad.route_host = String::new();
        let err = plan(
            &[BoundApp::Started(facts(1, 1)), BoundApp::Started(bad)],
            &Listing::default(),
        );
        assert!(
            matches!(
                err,
                Err(TargetsError::InvalidFacts {
                    field: "route_host",
                    ..
                })
            ),
            "{err:?}"
        );
    }

    #[test]
    fn desired_state_json_reads_every_state() {
        let json = format!(
            r#"[
              {{"state": "started", "guid": "{g1}", "name": "app-1", "instances": 1,
                "route_host": "app-1.cloudapps.digital", "org": "org", "space": "space"}},
              {{"state": "stopped", "guid": "{g2}", "name": "app-2", "instances": 2,
                "route_host": "app-2.cloudapps.digital", "org": "org", "space": "space"}},
              {{"state": "deleted", "guid": "{g3}"}}
            ]"#,
            g1 = guid(1),
            g2 = guid(2),
            g3 = guid(3)
        );
        assert_eq!(
            BoundApp::list_from_json(json.as_bytes(), "state.json").unwrap(),
            [
                BoundApp::Started(facts(1, 1)),
                BoundApp::Stopped(facts(2, 2)),
                BoundApp::Deleted { guid: guid(3) }
            ]
        );
    }

    #[test]
    fn desired_state_json_errors_say_what_is_wrong() {
        let cases = [
            (r#"[{"guid": "x"}]"#.to_owned(), "missing field `state`"),
            (
                format!(r#"[{{"state": "running", "guid": "{}"}}]"#, guid(1)),
                "unknown variant `running`, expected one of `started`, `stopped`, `deleted`",
            ),
            (
                format!(
                    r#"[{{"state": "started", "guid": "{}", "name": "a", "instances": 1, "route_host": "h", "org": "o", "space": "s", "colour": "blue"}}]"#,
                    guid(1)
                ),
                "unknown field `colour`",
            ),
        ];
        for (json, expected) in cases {
            let err = BoundApp::list_from_json(json.as_bytes(), "state.json")
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with("state.json: not a valid desired state (a JSON array of bound apps): ")
                    && err.contains(expected),
                "{err}"
            );
        }
    }

    /// The run a broker does every few minutes, over every kind of change at once.
    #[test]
    fn reconcile_run_over_a_mix_of_apps_leaves_exactly_the_right_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = TargetStore::open(dir.path()).unwrap();
        // The files the previous run left behind.
        let seed = |folder, n: u8, instances| {
            store
                .write(
                    folder,
                    &guid(n),
                    render_target_file(&facts(n, instances)).unwrap().as_bytes(),
                )
                .unwrap();
        };
        seed(Folder::Active, 1, 1); // running, since scaled to 2 instances
        seed(Folder::Active, 2, 1); // running, unchanged
        seed(Folder::Active, 3, 1); // since stopped
        seed(Folder::Inactive, 4, 1); // stopped, since restarted
        seed(Folder::Active, 5, 1); // since unbound
        seed(Folder::Inactive, 6, 1); // stopped, since unbound
        seed(Folder::Active, 7, 1); // the old half of a blue-green deploy, since deleted
        seed(Folder::Active, 9, 1); // a run interrupted mid-stop left both copies; running again
        seed(Folder::Inactive, 9, 1);

        let bound = [
            BoundApp::Started(facts(1, 2)),
            BoundApp::Started(facts(2, 1)),
            BoundApp::Stopped(facts(3, 1)),
            BoundApp::Started(facts(4, 1)),
            BoundApp::Deleted { guid: guid(7) },
            BoundApp::Started(facts(8, 3)), // newly bound
            BoundApp::Started(facts(9, 1)),
            BoundApp::Stopped(facts(0, 1)), // newly bound while stopped
        ];
        let operations = plan(&bound, &store.list().unwrap()).unwrap();
        let report: Vec<String> = operations
            .iter()
            .zip(apply(&store, &operations).unwrap())
            .map(|(op, outcome)| format!("{op}: {outcome}"))
            .collect();
        assert_eq!(
            report,
            [
                format!("write {}: written", path("inactive", 0)),
                format!("write {}: written", path("active", 1)),
                format!("write {}: unchanged", path("active", 2)),
                format!("write {}: written", path("inactive", 3)),
                format!("remove {}: removed", path("active", 3)),
                format!("write {}: written", path("active", 4)),
                format!("remove {}: removed", path("inactive", 4)),
                format!("remove {}: removed", path("active", 5)),
                format!("remove {}: removed", path("inactive", 6)),
                format!("remove {}: removed", path("active", 7)),
                format!("write {}: written", path("active", 8)),
                format!("write {}: unchanged", path("active", 9)),
                format!("remove {}: removed", path("inactive", 9)),
            ]
        );

        assert_eq!(store.list().unwrap(), listing(&[1, 2, 4, 8, 9], &[0, 3]));
        for (folder, n, instances) in [
            (Folder::Active, 1, 2),
            (Folder::Active, 2, 1),
            (Folder::Active, 4, 1),
            (Folder::Active, 8, 3),
            (Folder::Active, 9, 1),
            (Folder::Inactive, 0, 1),
            (Folder::Inactive, 3, 1),
        ] {
            let file = store.path(folder, &guid(n));
            assert_eq!(
                fs::read_to_string(&file).unwrap(),
                render_target_file(&facts(n, instances)).unwrap()
            );
            assert_eq!(
                read_target_file(&file).unwrap(),
                facts(n, instances).target_groups().unwrap()
            );
        }

        // A second run over the same state changes nothing.
        let again = plan(&bound, &store.list().unwrap()).unwrap();
        assert!(apply(&store, &again)
            .unwrap()
            .iter()
            .all(|o| *o == Outcome::Unchanged));
        assert!(again.iter().all(|op| matches!(op, Operation::Write { .. })));
    }
}
