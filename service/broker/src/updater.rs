//! The target updater: keeps every bound app's target file true as apps are scaled,
//! stopped, started, renamed and deleted, and writes the file of a bound app that has none.
//!
//! One run:
//! 1. lists the target files (`base`), then every binding record;
//! 2. asks the Cloud Controller about every bound app, in as few paged requests as it
//!    can; any failure ends the run with nothing changed (a partial listing would delete
//!    the targets of apps it missed);
//! 3. confirms each app with a file that the listing left out with `GET /v3/apps/:guid`:
//!    only the v3 API's 404 (`CF-ResourceNotFound`) makes it deleted. An app the Cloud
//!    Controller still has means the listing was incomplete, and the run changes nothing;
//! 4. decides each bound app's file: started, stopped, or deleted. An app that lost its
//!    public route keeps its file as it was; so does a file no binding record keeps
//!    (unbound while the run was in progress, or written by someone else): the broker owns
//!    bindings, and removes such files at start. A bound app without a file (a broker
//!    killed mid-bind, or an unbind on another broker that raced a bind of the same app on
//!    S3, whose deletes are unconditional) gets its file;
//! 5. applies with `reconcile_since(base)`: an app unbound since `base` is not brought
//!    back (S3 writes are conditional on the listing, and a local directory is locked
//!    against the broker while applying). A file the run created for an app whose last
//!    binding went while it was written is removed again at once.

use crate::cc::{AppState, CcError, CloudController};
use crate::store_lock::StoreLock;
use gds_metrics::targets::records::{bound_apps, list_bindings};
use gds_metrics::targets::{
    reconcile_app, reconcile_since, AppGuid, BoundApp, Operation, Outcome, Store, TargetsError,
};
use std::collections::{BTreeMap, BTreeSet};

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunReport {
    /// Bound apps the Cloud Controller says are started: their targets are scraped.
    pub started: usize,
    /// Bound apps that are stopped: their targets are withdrawn until they start.
    pub stopped: usize,
    /// Bound apps the Cloud Controller no longer lists: their files are removed.
    pub deleted: usize,
    /// Bound apps without a public route: their files are left as they were.
    pub unroutable: usize,
    /// Target files written because the app's facts changed.
    pub written: usize,
    /// Target files removed.
    pub removed: usize,
    /// Target files already up to date, left untouched.
    pub unchanged: usize,
    /// One line per file operation, naming the app and never its GUID (the GUID is the
    /// app's bearer token and stays out of logs): `write active/ for notify-api: written`.
    pub operations: Vec<String>,
}

impl RunReport {
    /// The bound apps counted by state, as the `state` label of the updater's apps gauge.
    pub fn apps_by_state(&self) -> [(&'static str, usize); 4] {
        [
            ("started", self.started),
            ("stopped", self.stopped),
            ("deleted", self.deleted),
            ("unroutable", self.unroutable),
        ]
    }
}

/// Why a run changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The Cloud Controller or UAA failed before any file was touched.
    #[error("the Cloud Controller listing failed, so nothing was changed: {0}")]
    CloudController(#[from] CcError),
    /// Listing, reading or writing the target store failed.
    #[error("the target store failed: {0}")]
    Store(#[from] TargetsError),
}

/// One run over `store` (call from a blocking thread: the store blocks).
pub fn run_once(
    store: &dyn Store,
    cc: &CloudController,
    runtime: &tokio::runtime::Handle,
) -> Result<RunReport, RunError> {
    let base = store.list()?;
    let had_file = base.bound_guids();
    let bound = bound_apps(&list_bindings(store)?);
    let states = runtime.block_on(cc.apps(&bound))?;
    let unlisted: Vec<&AppGuid> = bound
        .intersection(&had_file)
        .filter(|guid| !states.contains_key(*guid))
        .collect();
    runtime.block_on(confirm_deleted(cc, &unlisted))?;
    let exporters = crate::broker::exporters(store)?;

    let lock = StoreLock::for_store(store);
    let _held = lock.acquire()?;
    // Bindings removed while the Cloud Controller was asked: those apps are unbound now.
    // A file no binding kept when the run started was not asked about: it is left alone.
    let still_bound = bound_apps(&list_bindings(store)?);
    let mut report = RunReport::default();
    let mut desired = Vec::new();
    let mut untouched = BTreeSet::new();
    for guid in had_file.union(&bound) {
        if !bound.contains(guid) || !still_bound.contains(guid) {
            untouched.insert(guid.clone());
            continue;
        }
        match decide(guid, states.get(guid), exporters.contains(guid)) {
            Decision::Apply(app) => {
                count(&mut report, &app);
                desired.push(app);
            }
            Decision::Leave => {
                report.unroutable += 1;
                untouched.insert(guid.clone());
            }
        }
    }
    let base = base.without(&untouched);
    let mut done = reconcile_since(store, &desired, &base)?;
    done.extend(withdraw_unbound_since(store, &done, &had_file)?);
    let names = states
        .iter()
        .map(|(guid, state)| (guid.clone(), state.name.clone()))
        .collect();
    tally(&mut report, &done, &names);
    Ok(report)
}

/// Checks that every app of `unlisted` (bound, with a file, left out of the listing) is
/// gone: the Cloud Controller answers 404 for it. Anything else fails the run before any
/// file is touched.
async fn confirm_deleted(cc: &CloudController, unlisted: &[&AppGuid]) -> Result<(), CcError> {
    let mut still_there = 0;
    for guid in unlisted {
        if !cc.confirmed_gone(guid).await? {
            still_there += 1;
        }
    }
    if still_there > 0 {
        return Err(CcError(format!(
            "the listing left out {still_there} bound app(s) that GET /v3/apps/:guid still finds, so the \
             listing was incomplete"
        )));
    }
    Ok(())
}

/// Removes again the files this run created (apps without a file in `had_file`) whose
/// app lost its last binding meanwhile: on S3 the broker's unbind may have found no file
/// to remove just before the run wrote one.
fn withdraw_unbound_since(
    store: &dyn Store,
    done: &[(Operation, Outcome)],
    had_file: &BTreeSet<AppGuid>,
) -> Result<Vec<(Operation, Outcome)>, TargetsError> {
    let created: BTreeSet<&AppGuid> = done
        .iter()
        .filter_map(|(operation, outcome)| match operation {
            Operation::Write { guid, .. } if *outcome == Outcome::Written && !had_file.contains(guid) => {
                Some(guid)
            }
            _ => None,
        })
        .collect();
    if created.is_empty() {
        return Ok(Vec::new());
    }
    let bound_now = bound_apps(&list_bindings(store)?);
    let mut withdrawn = Vec::new();
    for guid in created.into_iter().filter(|guid| !bound_now.contains(*guid)) {
        withdrawn.extend(reconcile_app(store, &BoundApp::Deleted { guid: guid.clone() })?);
    }
    Ok(withdrawn)
}

enum Decision {
    Apply(BoundApp),
    Leave,
}

fn decide(guid: &AppGuid, state: Option<&AppState>, exporter: bool) -> Decision {
    match state {
        None => Decision::Apply(BoundApp::Deleted { guid: guid.clone() }),
        Some(state) => match state.bound_app(exporter) {
            Ok(app) => Decision::Apply(app),
            Err(reason) => {
                eprintln!("gds-prometheus-broker update: {reason}; its target file is left as it was");
                Decision::Leave
            }
        },
    }
}

fn count(report: &mut RunReport, app: &BoundApp) {
    match app {
        BoundApp::Started(_) => report.started += 1,
        BoundApp::Stopped(_) => report.stopped += 1,
        BoundApp::Deleted { .. } => report.deleted += 1,
    }
}

fn tally(report: &mut RunReport, done: &[(Operation, Outcome)], names: &BTreeMap<AppGuid, String>) {
    for (operation, outcome) in done {
        match outcome {
            Outcome::Written => report.written += 1,
            Outcome::Removed => report.removed += 1,
            Outcome::Unchanged => report.unchanged += 1,
            Outcome::Moved | Outcome::Absent => {}
        }
        let (verb, folder, guid) = match operation {
            Operation::Write { folder, guid, .. } => ("write", folder, guid),
            Operation::Remove { folder, guid } => ("remove", folder, guid),
        };
        let app = names
            .get(guid)
            .map_or("an app the Cloud Controller no longer lists", String::as_str);
        report
            .operations
            .push(format!("{verb} {folder}/ for {app}: {outcome}"));
    }
}
