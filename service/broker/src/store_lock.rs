//! A lock between the broker and the updater on a local target directory.
//!
//! A directory has no conditional writes, so an updater working from an old listing
//! could bring back a target the broker just unbound. Both take an exclusive `flock` on
//! `<root>/.gds-prometheus-broker.lock` around their changes (the kernel drops it when a
//! holder dies, SIGKILL included). S3 stores need none: their writes are conditional.

use gds_metrics::targets::{Store, TargetsError};
use std::fs::{File, OpenOptions};
use std::path::PathBuf;

const LOCK_FILE: &str = ".gds-prometheus-broker.lock";

/// The broker's and the updater's exclusive lock on a local target directory (and no
/// lock at all for an S3 store).
pub struct StoreLock {
    path: Option<PathBuf>,
}

/// Held until dropped.
pub struct Held(#[allow(dead_code)] Option<File>);

impl StoreLock {
    /// The lock for `store`: a file lock for a local directory, nothing for S3.
    pub fn for_store(store: &dyn Store) -> StoreLock {
        StoreLock {
            path: store.as_directory().map(|dir| dir.root().join(LOCK_FILE)),
        }
    }

    /// Waits for the lock.
    pub fn acquire(&self) -> Result<Held, TargetsError> {
        let Some(path) = &self.path else {
            return Ok(Held(None));
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| TargetsError::Io {
                action: "create the folder",
                path: parent.to_owned(),
                source,
            })?;
        }
        let io = |action: &'static str| {
            let path = path.clone();
            move |source| TargetsError::Io { action, path, source }
        };
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(io("open the lock"))?;
        file.lock().map_err(io("lock"))?;
        Ok(Held(Some(file)))
    }
}
