//! Which directory the processes of a pre-fork server share, and its lifecycle: one rule
//! for gunicorn, puma and any other server, in every language (CONTRACT section 6).
//!
//! - A directory given in code or by `PROMETHEUS_MULTIPROC_DIR`, `prometheus_multiproc_dir`
//!   or `MMAP_DIRECTORY` (first set wins) is used as it is. It belongs to the operator:
//!   it survives restarts (counters carry on from their totals) and is never removed.
//! - Otherwise each run of a server gets a private directory,
//!   `<temp dir>/gds-metrics-<uid>/<master pid>`, made empty when the master starts, so a
//!   restarted server starts its counters from zero (a counter reset, which Prometheus
//!   handles). The master removes it when it exits; directories of masters that died
//!   without exiting are removed by the next server start.
//!
//! Either way the master opens the directory when the server starts and holds its own
//! live file there until it exits, so every worker knows its master from the first
//! scrape on (the whole server's [`process`](crate::process) metrics, even with one
//! worker). The fork hooks give each worker a file of its own.

use crate::config::{resolve_multiprocess_dir, ConfigError};
use crate::multiprocess::MultiProcess;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The variable a server exports so that its workers (forked or exec'd) find the directory.
pub const EXPORTED_VARIABLE: &str = "PROMETHEUS_MULTIPROC_DIR";

/// The directory of one server's processes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerDirectory {
    dir: PathBuf,
    master_pid: u32,
    /// Whether the directory is private to this server run (not configured).
    private: bool,
}

/// Private directories this process has emptied already, so that a second call in the
/// master (or a worker forked from it) never empties a directory in use.
static PREPARED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// The stores a master opened in its servers' directories, held until [`ServerDirectory::finish`].
static HELD: Mutex<Vec<Arc<MultiProcess>>> = Mutex::new(Vec::new());

impl ServerDirectory {
    /// The directory for the server whose master is `master_pid`, from the process
    /// environment. Call it in the master before it forks (gunicorn's config file, puma's
    /// configuration), or in a worker that found no directory configured, with its
    /// parent's pid.
    pub fn for_server(master_pid: u32) -> Result<ServerDirectory, ConfigError> {
        Self::for_server_with_env(master_pid, |name| std::env::var(name).ok())
    }

    /// [`for_server`](Self::for_server) with the environment given as a lookup.
    pub fn for_server_with_env(
        master_pid: u32,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ServerDirectory, ConfigError> {
        let server = match resolve_multiprocess_dir(None, &env)? {
            Some(dir) => ServerDirectory {
                dir,
                master_pid,
                private: false,
            },
            None => Self::private(master_pid)?,
        };
        if server.in_master() {
            server.hold_open()?;
        }
        Ok(server)
    }

    /// `<temp dir>/gds-metrics-<uid>/<master pid>`, emptied on the master's first call.
    fn private(master_pid: u32) -> Result<ServerDirectory, ConfigError> {
        let base = private_base();
        let dir = base.join(master_pid.to_string());
        let invalid = |reason: String| ConfigError::InvalidMultiprocessDir {
            source_name: "the private multi-process directory",
            path: dir.clone(),
            reason,
        };
        create_private(&base).map_err(|e| invalid(format!("cannot be created ({e})")))?;
        remove_dead_siblings(&base);
        prepare_once(&dir, master_pid).map_err(|e| invalid(format!("cannot be prepared ({e})")))?;
        Ok(ServerDirectory {
            dir,
            master_pid,
            private: true,
        })
    }

    fn in_master(&self) -> bool {
        self.master_pid == std::process::id()
    }

    /// Opens the directory in the master, creating its live file, and keeps it open.
    fn hold_open(&self) -> Result<(), ConfigError> {
        let store = MultiProcess::open(&self.dir).map_err(|e| ConfigError::InvalidMultiprocessDir {
            source_name: "the multi-process directory",
            path: self.dir.clone(),
            reason: format!("cannot be opened ({e})"),
        })?;
        let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
        if !held.iter().any(|open| Arc::ptr_eq(open, &store)) {
            held.push(store);
        }
        Ok(())
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether the directory is private to this server run (not configured).
    pub fn is_private(&self) -> bool {
        self.private
    }

    /// In the master: lets go of the store it held open (its file is folded into the
    /// totals once the master has exited) and removes a private directory. Does nothing in
    /// a worker. Call it when the master exits.
    pub fn finish(&self) {
        if !self.in_master() {
            return;
        }
        let canonical = self.dir.canonicalize().unwrap_or_else(|_| self.dir.clone());
        let released: Vec<Arc<MultiProcess>> = {
            let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
            let (released, kept) = std::mem::take(&mut *held)
                .into_iter()
                .partition(|open| open.dir() == canonical);
            *held = kept;
            released
        };
        // Dropped outside the lock: closing a store scans the directory.
        drop(released);
        if self.private {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// `<temp dir>/gds-metrics-<uid>`: per user, so that users never share files.
fn private_base() -> PathBuf {
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    std::env::temp_dir().join(format!("gds-metrics-{uid}"))
}

/// Creates `base` readable and writable by its owner only.
fn create_private(base: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new().mode(0o700).create(base) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

/// Removes the directories of masters that no longer run.
fn remove_dead_siblings(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        if !process_runs(pid) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Whether a process with this pid exists (a pid reused by another process counts as
/// running: its directory is then kept, which is harmless).
fn process_runs(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// In the master, on the first call of its life, empties what an earlier process with the
/// same pid left there; elsewhere just makes sure the directory exists.
fn prepare_once(dir: &Path, master_pid: u32) -> std::io::Result<()> {
    let mut prepared = PREPARED.lock().unwrap_or_else(|e| e.into_inner());
    if master_pid == std::process::id() && !prepared.iter().any(|d| d == dir) {
        match std::fs::remove_dir_all(dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        prepared.push(dir.to_owned());
    }
    std::fs::create_dir_all(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_directory_is_used_as_it_is_and_never_removed() {
        let dir = std::env::temp_dir().join(format!("gds-metrics-configured-{}", std::process::id()));
        let shown = dir.to_string_lossy().into_owned();
        let server = ServerDirectory::for_server_with_env(std::process::id(), |name| {
            (name == "MMAP_DIRECTORY").then(|| shown.clone())
        })
        .unwrap();
        assert_eq!(server.dir(), dir);
        assert!(!server.is_private());
        server.finish();
        assert!(dir.is_dir());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_first_variable_in_the_list_wins() {
        let server = ServerDirectory::for_server_with_env(1, |name| match name {
            "PROMETHEUS_MULTIPROC_DIR" => Some("/tmp/gds-metrics-first".to_owned()),
            "MMAP_DIRECTORY" => Some("/tmp/gds-metrics-second".to_owned()),
            _ => None,
        })
        .unwrap();
        assert_eq!(server.dir(), Path::new("/tmp/gds-metrics-first"));
        let _ = std::fs::remove_dir_all("/tmp/gds-metrics-first");
    }

    #[test]
    fn a_private_directory_starts_empty_in_its_master_and_is_removed_by_it() {
        let me = std::process::id();
        let first = ServerDirectory::for_server_with_env(me, |_| None).unwrap();
        assert!(first.is_private());
        std::fs::write(first.dir().join("worker.db"), b"x").unwrap();
        // A second call in the same master (a worker forked later) keeps the files.
        let again = ServerDirectory::for_server_with_env(me, |_| None).unwrap();
        assert!(again.dir().join("worker.db").exists());
        first.finish();
        assert!(!first.dir().exists());
    }

    #[test]
    fn directories_of_dead_masters_are_removed_at_the_next_start() {
        let base = private_base();
        create_private(&base).unwrap();
        // Beyond the kernel's pid limit (4194304), so no process can have it.
        let dead = base.join("4194399");
        std::fs::create_dir_all(&dead).unwrap();
        remove_dead_siblings(&base);
        assert!(!dead.exists());
    }

    #[test]
    fn a_worker_shares_its_masters_directory_and_never_removes_it() {
        // Pid 1 runs on every Linux system and is never this test process.
        let worker_view = ServerDirectory::for_server_with_env(1, |_| None).unwrap();
        assert!(worker_view.dir().ends_with("1"));
        worker_view.finish();
        assert!(worker_view.dir().is_dir());
        std::fs::remove_dir_all(worker_view.dir()).unwrap();
    }
}
