//! Copying an S3 folder of target files into a Prometheus' directory (feature `s3`): what
//! `gds-metrics-targets sync` runs instead of a cron job calling `aws s3 sync --delete`.
//!
//! Unlike a plain copy, every object is read as strictly as Prometheus reads a file
//! ([`parse_target_file`]): a bad object is reported with its key and reason and not
//! applied, and the last good copy of that file stays, so one broken upload does not drop
//! an app's targets. Files are written atomically and only when their bytes change; a
//! file whose object is gone is removed. A listing that fails changes nothing.

use super::store::{guids_in_dir, remove_dead_temporaries_in, remove_durably, write_atomically};
use super::{parse_target_file, AppGuid, Outcome, S3Store, TargetsError};
use crate::{Counter, Family, Gauge, Opts, Registry};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// What one sync did.
#[derive(Debug, Default)]
pub struct SyncReport {
    /// Files written with new bytes.
    pub written: usize,
    /// Files that already held the object's bytes.
    pub unchanged: usize,
    /// Files removed because their object is gone.
    pub removed: usize,
    /// Objects not applied (invalid, or unreadable), each naming the object and the reason;
    /// their files were left as they were.
    pub rejected: Vec<TargetsError>,
}

impl SyncReport {
    /// Files written or removed.
    pub fn applied(&self) -> usize {
        self.written + self.removed
    }
}

/// Makes `dir` hold a copy of every valid `<guid>.json` object directly under `source`'s
/// location, and no `<guid>.json` file whose object is gone. Other files in `dir` are
/// never touched. Errors only when the listing (or the directory) fails, in which case
/// nothing was changed.
pub fn sync_to_directory(source: &S3Store, dir: &Path) -> Result<SyncReport, TargetsError> {
    std::fs::create_dir_all(dir).map_err(TargetsError::io("create the folder", dir))?;
    // Leftovers of an earlier sync killed mid-write: Prometheus ignores them, but they
    // would pile up.
    remove_dead_temporaries_in(dir)?;
    let objects = source.json_objects(source.location())?;
    let mut report = SyncReport::default();
    let mut present = BTreeSet::new();
    for (guid, key) in objects {
        let url = source.url_of(&key);
        let bytes = match source.read(&key) {
            Ok(Some((bytes, _))) => bytes,
            // Removed between the listing and the read: gone, like an unlisted object.
            Ok(None) => continue,
            Err(error) => {
                present.insert(guid);
                report.rejected.push(error);
                continue;
            }
        };
        present.insert(guid.clone());
        match parse_target_file(&bytes, &url) {
            Ok(_) => match write_atomically(dir, &guid.file_name(), &bytes)? {
                Outcome::Unchanged => report.unchanged += 1,
                _ => report.written += 1,
            },
            Err(error) => report.rejected.push(error),
        }
    }
    remove_gone(dir, &present, &mut report)?;
    Ok(report)
}

/// Removes the `<guid>.json` files of `dir` whose GUID is not in `present`.
fn remove_gone(dir: &Path, present: &BTreeSet<AppGuid>, report: &mut SyncReport) -> Result<(), TargetsError> {
    for guid in guids_in_dir(dir)?.difference(present) {
        if remove_durably(dir, &guid.file_name())? == Outcome::Removed {
            report.removed += 1;
        }
    }
    Ok(())
}

/// The sync's own metrics, so "are there targets, and did the sync run?" is a query.
#[derive(Debug, Clone)]
pub struct SyncMetrics {
    last_success: Gauge,
    applied: Counter,
    rejected: Gauge,
    files: Gauge,
    errors: Counter,
}

impl SyncMetrics {
    /// Registers the sync's metrics in `registry`.
    pub fn register(registry: &Registry) -> crate::Result<SyncMetrics> {
        let gauge = |name: &str, help: &str| {
            registry
                .gauge(Opts::new(name, help))
                .and_then(|family: Family<Gauge>| family.get())
        };
        let counter = |name: &str, help: &str| {
            registry
                .counter(Opts::new(name, help))
                .and_then(|family: Family<Counter>| family.get())
        };
        Ok(SyncMetrics {
            last_success: gauge(
                "targets_sync_last_success_timestamp_seconds",
                "When the last sync that could list the source finished, in Unix seconds.",
            )?,
            applied: counter(
                "targets_sync_files_applied_total",
                "Target files written or removed by the sync.",
            )?,
            rejected: gauge(
                "targets_sync_objects_rejected",
                "Objects the last sync did not apply because they were invalid or unreadable.",
            )?,
            files: gauge(
                "targets_sync_files",
                "Target files in the directory after the last successful sync.",
            )?,
            errors: counter(
                "targets_sync_errors_total",
                "Syncs that failed as a whole (the source could not be listed, the directory not written).",
            )?,
        })
    }

    /// Records the result of one sync into `dir`.
    pub fn record(&self, result: &Result<SyncReport, TargetsError>, dir: &Path) {
        match result {
            Ok(report) => {
                self.last_success.set(unix_now());
                self.applied.inc_by(report.applied() as u64);
                self.rejected.set(report.rejected.len() as f64);
                let files = guids_in_dir(dir).map_or(0, |guids| guids.len());
                self.files.set(files as f64);
            }
            Err(_) => self.errors.inc(),
        }
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |elapsed| elapsed.as_secs_f64())
}
