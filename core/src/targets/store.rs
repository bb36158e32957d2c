//! The directory of target files: `active/` (what Prometheus reads) and `inactive/`
//! (apps that are bound but stopped).
//!
//! Prometheus re-reads a file as soon as it changes, so a file must never be seen half
//! written: every write goes to a temporary file in the same folder, is flushed to disk,
//! renamed over the target (atomic on POSIX file systems) and the folder itself is
//! flushed so the rename survives a power cut. Temporary files are named
//! `.<guid>.json.<pid>-<random>.tmp`, which neither a `*.json` discovery pattern nor
//! [`TargetStore::list`] ever picks up.
//!
//! A writer killed mid-write leaves its temporary file behind; [`TargetStore::open`]
//! removes such leftovers. Whether a writer is dead is decided, not guessed from an age:
//! the writer holds an exclusive `flock` on its temporary file from just after creating it
//! until after the rename, and the kernel drops the lock however the writer dies. A
//! leftover is removed only when its lock can be taken and the pid in its name is not a
//! running process (the pid covers the instant between creating the file and locking it).

use super::records::{RecordFolder, RecordId, RecordKey};
use super::{AppGuid, TargetsError};
use crate::liveness;
use std::collections::BTreeSet;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

const TEMP_SUFFIX: &str = ".tmp";

/// One of the two folders of a target store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Folder {
    /// `active/`: started apps; point Prometheus's `file_sd_configs` at `active/*.json`.
    Active,
    /// `inactive/`: bound apps that are stopped, kept so a start needs no broker call.
    Inactive,
}

impl Folder {
    /// The folder's name inside the store.
    pub fn name(self) -> &'static str {
        match self {
            Folder::Active => "active",
            Folder::Inactive => "inactive",
        }
    }

    /// The folder named `name` (`active` or `inactive`), for bindings and tools that take
    /// the folder as text.
    pub fn parse(name: &str) -> Result<Folder, TargetsError> {
        match name {
            "active" => Ok(Folder::Active),
            "inactive" => Ok(Folder::Inactive),
            other => Err(TargetsError::InvalidInput {
                source_name: "folder".to_owned(),
                reason: format!("must be \"active\" or \"inactive\", got {other:?}"),
            }),
        }
    }

    /// The other folder.
    pub fn other(self) -> Folder {
        match self {
            Folder::Active => Folder::Inactive,
            Folder::Inactive => Folder::Active,
        }
    }
}

impl fmt::Display for Folder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a store operation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// New bytes were written.
    Written,
    /// The file already held exactly these bytes; it was left alone, so Prometheus has
    /// nothing to re-read.
    Unchanged,
    /// The file was moved to the other folder.
    Moved,
    /// The file was removed.
    Removed,
    /// There was no file to remove or move.
    Absent,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Written => "written",
            Outcome::Unchanged => "unchanged",
            Outcome::Moved => "moved",
            Outcome::Removed => "removed",
            Outcome::Absent => "absent",
        })
    }
}

/// The GUIDs that have a target file, per folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// GUIDs with a file in `active/`.
    pub active: BTreeSet<AppGuid>,
    /// GUIDs with a file in `inactive/`.
    pub inactive: BTreeSet<AppGuid>,
}

impl Listing {
    /// Whether `guid` has a file in `folder`.
    pub fn contains(&self, folder: Folder, guid: &AppGuid) -> bool {
        match folder {
            Folder::Active => self.active.contains(guid),
            Folder::Inactive => self.inactive.contains(guid),
        }
    }

    /// The same listing with only `guid`'s files: for planning one app alone.
    pub fn only(&self, guid: &AppGuid) -> Listing {
        let keep = |set: &BTreeSet<AppGuid>| set.iter().filter(|g| *g == guid).cloned().collect();
        Listing {
            active: keep(&self.active),
            inactive: keep(&self.inactive),
        }
    }

    /// The same listing without `guids`' files.
    pub fn without(&self, guids: &BTreeSet<AppGuid>) -> Listing {
        let keep = |set: &BTreeSet<AppGuid>| set.difference(guids).cloned().collect();
        Listing {
            active: keep(&self.active),
            inactive: keep(&self.inactive),
        }
    }

    /// Every GUID with a file in either folder: the apps the store considers bound.
    pub fn bound_guids(&self) -> BTreeSet<AppGuid> {
        self.active.union(&self.inactive).cloned().collect()
    }
}

/// A directory of target files with `active/` and `inactive/` folders.
#[derive(Debug, Clone)]
pub struct TargetStore {
    root: PathBuf,
}

impl TargetStore {
    /// Opens the store at `root`, creating it and its two folders if needed, and removes
    /// the temporary files of writers that died mid-write (never those of a live one).
    pub fn open(root: impl Into<PathBuf>) -> Result<TargetStore, TargetsError> {
        let store = TargetStore::at(root);
        for folder in [Folder::Active, Folder::Inactive] {
            let dir = store.folder_path(folder);
            fs::create_dir_all(&dir).map_err(TargetsError::io("create the folder", &dir))?;
            store.remove_dead_temporaries(folder)?;
        }
        remove_dead_record_temporaries(&store.root)?;
        Ok(store)
    }

    /// The store at `root`, without touching the disk: for listing and planning, which
    /// must not create anything. A missing folder lists as empty.
    pub fn at(root: impl Into<PathBuf>) -> TargetStore {
        TargetStore { root: root.into() }
    }

    /// The store's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The path of one folder.
    pub fn folder_path(&self, folder: Folder) -> PathBuf {
        self.root.join(folder.name())
    }

    /// The path of `guid`'s file in `folder`.
    pub fn path(&self, folder: Folder, guid: &AppGuid) -> PathBuf {
        self.folder_path(folder).join(guid.file_name())
    }

    /// Writes `contents` as `guid`'s file in `folder`, atomically, unless the file
    /// already holds exactly these bytes.
    pub fn write(&self, folder: Folder, guid: &AppGuid, contents: &[u8]) -> Result<Outcome, TargetsError> {
        write_atomically(&self.folder_path(folder), &guid.file_name(), contents)
    }

    /// Removes `guid`'s file from `folder`, if there is one.
    pub fn remove(&self, folder: Folder, guid: &AppGuid) -> Result<Outcome, TargetsError> {
        remove_durably(&self.folder_path(folder), &guid.file_name())
    }

    /// Moves `guid`'s file from `from` to the other folder in one rename, replacing any
    /// file there.
    pub fn move_file(&self, guid: &AppGuid, from: Folder) -> Result<Outcome, TargetsError> {
        let source = self.path(from, guid);
        let destination = self.path(from.other(), guid);
        match fs::rename(&source, &destination) {
            Ok(()) => {
                sync_dir(&self.folder_path(from.other()))?;
                sync_dir(&self.folder_path(from))?;
                Ok(Outcome::Moved)
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(Outcome::Absent),
            Err(e) => Err(TargetsError::io("move", source)(e)),
        }
    }

    /// The GUIDs that have a file in each folder. Anything not named `<guid>.json` (a
    /// temporary file, a stray note) is ignored, never touched.
    pub fn list(&self) -> Result<Listing, TargetsError> {
        Ok(Listing {
            active: self.guids_in(Folder::Active)?,
            inactive: self.guids_in(Folder::Inactive)?,
        })
    }

    /// Removes the temporary files in `folder` left by writers that died mid-write.
    /// Returns how many it removed. A file that cannot be probed (it vanished, or is not
    /// ours to remove) is left for a later run.
    pub fn remove_dead_temporaries(&self, folder: Folder) -> Result<usize, TargetsError> {
        remove_dead_temporaries_in(&self.folder_path(folder))
    }

    fn guids_in(&self, folder: Folder) -> Result<BTreeSet<AppGuid>, TargetsError> {
        guids_in_dir(&self.folder_path(folder))
    }
}

/// A place target files are kept: a local directory ([`TargetStore`]) or, with the `s3`
/// feature, an S3 location ([`S3Store`](super::S3Store)). [`apply`](super::apply) and
/// [`reconcile`](super::reconcile) work on either, from the same plan.
///
/// `Send + Sync`, so that a binding can keep one store in an object its language shares
/// between threads.
pub trait Store: Send + Sync {
    /// The GUIDs that have a file in each folder.
    fn list(&self) -> Result<Listing, TargetsError>;

    /// Writes `guid`'s file in `folder` unless it already holds these bytes. `listed` says
    /// whether the file was in the listing the plan was made from: a store shared by
    /// several writers (S3) makes the write conditional on that still being true and
    /// answers [`TargetsError::Conflict`] otherwise, so a writer working from an old
    /// listing never brings back a file another writer removed.
    fn write(
        &self,
        folder: Folder,
        guid: &AppGuid,
        contents: &[u8],
        listed: bool,
    ) -> Result<Outcome, TargetsError>;

    /// Removes `guid`'s file from `folder`, if there is one.
    fn remove(&self, folder: Folder, guid: &AppGuid) -> Result<Outcome, TargetsError>;

    /// The keys of the records under `folder` (see [`records`](super::records)); keys
    /// this crate does not write are left out.
    fn list_records(&self, folder: RecordFolder) -> Result<Vec<RecordKey>, TargetsError>;

    /// The bytes of the record at `key`, or `None` if there is none.
    fn read_record(&self, key: &RecordKey) -> Result<Option<Vec<u8>>, TargetsError>;

    /// Creates the record at `key` only if there is none, atomically: of two writers
    /// creating one key, one succeeds and the other gets [`TargetsError::Conflict`].
    fn create_record(&self, key: &RecordKey, contents: &[u8]) -> Result<(), TargetsError>;

    /// Removes the record at `key`, if there is one.
    fn remove_record(&self, key: &RecordKey) -> Result<Outcome, TargetsError>;

    /// The local directory, when the store is one: what only a directory offers (a move
    /// in one rename, a path on disk). `None` for a remote store.
    fn as_directory(&self) -> Option<&TargetStore> {
        None
    }
}

/// A local directory has one writer at a time (the broker on its host), so writes are
/// not conditional on the listing.
impl Store for TargetStore {
    fn list(&self) -> Result<Listing, TargetsError> {
        TargetStore::list(self)
    }

    fn write(
        &self,
        folder: Folder,
        guid: &AppGuid,
        contents: &[u8],
        _listed: bool,
    ) -> Result<Outcome, TargetsError> {
        let dir = self.folder_path(folder);
        fs::create_dir_all(&dir).map_err(TargetsError::io("create the folder", &dir))?;
        TargetStore::write(self, folder, guid, contents)
    }

    fn remove(&self, folder: Folder, guid: &AppGuid) -> Result<Outcome, TargetsError> {
        TargetStore::remove(self, folder, guid)
    }

    fn list_records(&self, folder: RecordFolder) -> Result<Vec<RecordKey>, TargetsError> {
        let mut keys = Vec::new();
        for relative in files_below(&self.root.join(folder.name()), 2)? {
            keys.extend(RecordKey::from_listed(folder, &relative));
        }
        Ok(keys)
    }

    fn read_record(&self, key: &RecordKey) -> Result<Option<Vec<u8>>, TargetsError> {
        let path = self.root.join(key.as_str());
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(TargetsError::io("read", path)(e)),
        }
    }

    fn create_record(&self, key: &RecordKey, contents: &[u8]) -> Result<(), TargetsError> {
        let (folder, name) = key.split();
        let dir = self.root.join(folder);
        fs::create_dir_all(&dir).map_err(TargetsError::io("create the folder", &dir))?;
        let temp = locked_temporary(&dir, name, contents)?;
        match temp.persist_noclobber(dir.join(name)) {
            Ok(_) => {}
            Err(e) if e.error.kind() == ErrorKind::AlreadyExists => {
                return Err(TargetsError::Conflict {
                    location: dir.join(name).display().to_string(),
                })
            }
            Err(e) => return Err(TargetsError::io("create", dir.join(name))(e.error)),
        }
        sync_dir(&dir)?;
        if let Some(parent) = dir.parent() {
            sync_dir(parent)?;
        }
        Ok(())
    }

    fn remove_record(&self, key: &RecordKey) -> Result<Outcome, TargetsError> {
        let (folder, name) = key.split();
        let dir = self.root.join(folder);
        let outcome = remove_durably(&dir, name)?;
        // A binding's own folder goes with its last file; one still in use stays.
        if folder.contains('/') && fs::remove_dir(&dir).is_ok() {
            if let Some(parent) = dir.parent() {
                sync_dir(parent)?;
            }
        }
        Ok(outcome)
    }

    fn as_directory(&self) -> Option<&TargetStore> {
        Some(self)
    }
}

/// The relative paths (`/`-separated) of the regular files below `dir`, at most `depth`
/// folders down; names starting with `.` (temporary files) are skipped. A missing
/// directory holds none.
fn files_below(dir: &Path, depth: usize) -> Result<Vec<String>, TargetsError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(TargetsError::io("list", dir)(e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(TargetsError::io("list", dir))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let Ok(kind) = entry.file_type() else { continue };
        if name.starts_with('.') {
            continue;
        }
        if kind.is_file() {
            files.push(name);
        } else if kind.is_dir() && depth > 1 {
            files.extend(
                files_below(&entry.path(), depth - 1)?
                    .into_iter()
                    .map(|inner| format!("{name}/{inner}")),
            );
        }
    }
    Ok(files)
}

/// The store at `location`: `s3://bucket/prefix` (with the `s3` feature, configured from
/// the AWS variables, see [`S3Store`](super::S3Store)) or a local directory. Nothing is
/// created until something is written; the temporary files of dead writers in a local
/// directory are removed.
pub fn open_store(location: &str) -> Result<Box<dyn Store>, TargetsError> {
    if !location.starts_with("s3://") {
        let store = TargetStore::at(location);
        // Creates nothing: a missing folder has no leftovers.
        for folder in [Folder::Active, Folder::Inactive] {
            store.remove_dead_temporaries(folder)?;
        }
        remove_dead_record_temporaries(store.root())?;
        return Ok(Box::new(store));
    }
    #[cfg(feature = "s3")]
    {
        let location = super::S3Location::parse(location)?;
        Ok(Box::new(super::S3Store::from_env(&location)?))
    }
    #[cfg(not(feature = "s3"))]
    Err(TargetsError::InvalidInput {
        source_name: location.to_owned(),
        reason: "this build of gds-metrics has no S3 support; build it with the `s3` feature".to_owned(),
    })
}

/// Removes the temporary files in `dir` left by writers that died mid-write (see
/// [`TargetStore::remove_dead_temporaries`]); a missing directory holds none.
pub(crate) fn remove_dead_temporaries_in(dir: &Path) -> Result<usize, TargetsError> {
    remove_dead_temporaries_named(dir, |target| AppGuid::parse(target).is_ok())
}

/// Removes the temporary files of dead writers in every record folder below `root`
/// (`instances/` and each `bindings/<id>/`); returns how many it removed.
pub(crate) fn remove_dead_record_temporaries(root: &Path) -> Result<usize, TargetsError> {
    let is_record = |target: &str| RecordId::parse(target).is_ok();
    let mut removed = remove_dead_temporaries_named(&root.join(RecordFolder::Instances.name()), is_record)?;
    let bindings = root.join(RecordFolder::Bindings.name());
    let entries = match fs::read_dir(&bindings) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(removed),
        Err(e) => return Err(TargetsError::io("list", &bindings)(e)),
    };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            removed += remove_dead_temporaries_named(&entry.path(), is_record)?;
            // A binding whose writer died before its record was in place.
            let _ = fs::remove_dir(entry.path());
        }
    }
    Ok(removed)
}

/// Removes the temporary files in `dir` of dead writers whose target name (before
/// `.json`) `is_target` accepts.
fn remove_dead_temporaries_named(dir: &Path, is_target: fn(&str) -> bool) -> Result<usize, TargetsError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(TargetsError::io("list", dir)(e)),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry.map_err(TargetsError::io("list", dir))?;
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|name| temporary_file_writer(name, is_target))
        else {
            continue;
        };
        if remove_if_writer_dead(&entry.path(), pid) {
            removed += 1;
        }
    }
    if removed > 0 {
        sync_dir(dir)?;
    }
    Ok(removed)
}

/// The GUIDs of the `<guid>.json` files in `dir`; a missing directory holds none.
pub(crate) fn guids_in_dir(dir: &Path) -> Result<BTreeSet<AppGuid>, TargetsError> {
    let mut guids = BTreeSet::new();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(guids),
        Err(e) => return Err(TargetsError::io("list", dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(TargetsError::io("list", dir))?;
        if let Some(guid) = entry.file_name().to_str().and_then(AppGuid::from_file_name) {
            guids.insert(guid);
        }
    }
    Ok(guids)
}

/// Writes `contents` as `dir/name` through a temporary file, a flush and a rename, unless
/// the file already holds exactly these bytes. The temporary file carries the writer's pid
/// and its lock, so a later run can tell a dead writer's leftover from a live one's.
pub(crate) fn write_atomically(dir: &Path, name: &str, contents: &[u8]) -> Result<Outcome, TargetsError> {
    let path = dir.join(name);
    if fs::read(&path).is_ok_and(|existing| existing == contents) {
        return Ok(Outcome::Unchanged);
    }
    let temp = locked_temporary(dir, name, contents)?;
    temp.persist(&path)
        .map_err(|e| TargetsError::io("rename a temporary file to", &path)(e.error))?;
    sync_dir(dir)?;
    Ok(Outcome::Written)
}

/// A flushed temporary file in `dir` holding `contents`, named after `name` and this
/// process, locked until it is closed (see the module docs), ready to be renamed to
/// `dir/name`.
fn locked_temporary(
    dir: &Path,
    name: &str,
    contents: &[u8],
) -> Result<tempfile::NamedTempFile, TargetsError> {
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}.{}-", std::process::id()))
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)
        .map_err(TargetsError::io("create a temporary file in", dir))?;
    let temp_path = temp.path().to_owned();
    // Held until the file is closed, after the rename. Waits only while another run
    // probes this file.
    liveness::lock(temp.as_file())
        .and_then(|()| temp.write_all(contents))
        .and_then(|()| make_world_readable(temp.as_file()))
        .and_then(|()| temp.as_file().sync_all())
        .map_err(TargetsError::io("write", &temp_path))?;
    Ok(temp)
}

/// Removes `dir/name`, if it exists, and flushes the directory.
pub(crate) fn remove_durably(dir: &Path, name: &str) -> Result<Outcome, TargetsError> {
    let path = dir.join(name);
    match fs::remove_file(&path) {
        Ok(()) => {
            sync_dir(dir)?;
            Ok(Outcome::Removed)
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(Outcome::Absent),
        Err(e) => Err(TargetsError::io("remove", path)(e)),
    }
}

/// The pid of the writer of a temporary file named `.<guid>.json.<pid>-<random>.tmp`;
/// `None` for any other name.
fn temporary_file_writer(name: &str, is_target: fn(&str) -> bool) -> Option<u32> {
    let inner = name.strip_prefix('.')?.strip_suffix(TEMP_SUFFIX)?;
    let (target, writer) = inner.split_once(".json.")?;
    if !is_target(target) {
        return None;
    }
    let (pid, _random) = writer.split_once('-')?;
    pid.parse().ok()
}

/// Removes the temporary file at `path` if its writer `pid` is dead: its lock can be
/// taken (held while removing, so a concurrent run does not race this one) and no
/// process has that pid.
fn remove_if_writer_dead(path: &Path, pid: u32) -> bool {
    let Ok(file) = liveness::open_regular(path, OpenOptions::new().read(true)) else {
        return false;
    };
    if liveness::try_lock(&file).is_err() || process_is_running(pid) {
        return false;
    }
    fs::remove_file(path).is_ok()
}

/// Whether a process with `pid` exists (a zombie counts: it may not have been reaped yet).
fn process_is_running(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists and may be signalled.
    unsafe { libc::kill(pid, 0) == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM) }
}

/// Temporary files are created readable by their owner only; Prometheus usually runs
/// as another user and must be able to read the file once it is renamed into place.
fn make_world_readable(file: &File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o644))
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        Ok(())
    }
}

/// Flushes a directory, so that a rename or removal in it is durable.
fn sync_dir(dir: &Path) -> Result<(), TargetsError> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(TargetsError::io("flush the folder", dir))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    const GUID: &str = "6f1e3c2a-9b4d-4e8f-a1b2-c3d4e5f6a7b8";

    fn guid() -> AppGuid {
        AppGuid::parse(GUID).unwrap()
    }

    fn inode(path: &Path) -> u64 {
        fs::metadata(path).unwrap().ino()
    }

    #[test]
    fn open_creates_both_folders() {
        let dir = tempfile::tempdir().unwrap();
        let store = TargetStore::open(dir.path().join("targets")).unwrap();
        assert!(store.folder_path(Folder::Active).is_dir());
        assert!(store.folder_path(Folder::Inactive).is_dir());
        assert_eq!(store.list().unwrap(), Listing::default());
    }

    #[test]
    fn a_store_that_does_not_exist_lists_as_empty_and_is_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("targets");
        assert_eq!(TargetStore::at(&root).list().unwrap(), Listing::default());
        assert!(!root.exists());
    }

    #[test]
    fn only_changed_files_are_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let store = TargetStore::open(dir.path()).unwrap();
        let path = store.path(Folder::Active, &guid());

        assert_eq!(
            store.write(Folder::Active, &guid(), b"[]\n").unwrap(),
            Outcome::Written
        );
        let first = inode(&path);
        assert_eq!(
            store.write(Folder::Active, &guid(), b"[]\n").unwrap(),
            Outcome::Unchanged
        );
        assert_eq!(inode(&path), first, "an unchanged file keeps its inode");
        assert_eq!(
            store.write(Folder::Active, &guid(), b"[ ]\n").unwrap(),
            Outcome::Written
        );
        assert_ne!(inode(&path), first, "a changed file is replaced by a rename");
        assert_eq!(fs::read(&path).unwrap(), b"[ ]\n");
    }

    #[test]
    fn written_files_are_readable_by_other_users_and_leave_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let store = TargetStore::open(dir.path()).unwrap();
        store.write(Folder::Active, &guid(), b"[]\n").unwrap();
        let mode = fs::metadata(store.path(Folder::Active, &guid()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o644);
        let names: Vec<_> = fs::read_dir(store.folder_path(Folder::Active))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, [format!("{GUID}.json")]);
    }

    #[test]
    fn move_and_remove_report_what_they_did() {
        let dir = tempfile::tempdir().unwrap();
        let store = TargetStore::open(dir.path()).unwrap();
        store.write(Folder::Active, &guid(), b"[]\n").unwrap();

        assert_eq!(store.move_file(&guid(), Folder::Active).unwrap(), Outcome::Moved);
        let listing = store.list().unwrap();
        assert!(listing.active.is_empty());
        assert_eq!(listing.inactive, BTreeSet::from([guid()]));
        assert_eq!(fs::read(store.path(Folder::Inactive, &guid())).unwrap(), b"[]\n");
        assert_eq!(store.move_file(&guid(), Folder::Active).unwrap(), Outcome::Absent);

        assert_eq!(store.remove(Folder::Inactive, &guid()).unwrap(), Outcome::Removed);
        assert_eq!(store.remove(Folder::Inactive, &guid()).unwrap(), Outcome::Absent);
        assert_eq!(store.list().unwrap(), Listing::default());
    }

    #[test]
    fn listing_ignores_files_not_named_after_a_guid() {
        let dir = tempfile::tempdir().unwrap();
        let store = TargetStore::open(dir.path()).unwrap();
        store.write(Folder::Inactive, &guid(), b"[]\n").unwrap();
        let active = store.folder_path(Folder::Active);
        fs::write(active.join(format!(".{GUID}.json.abc123.tmp")), "[").unwrap();
        fs::write(active.join("README.json"), "[]").unwrap();
        fs::write(active.join(format!("{}.json", GUID.to_uppercase())), "[]").unwrap();

        let listing = store.list().unwrap();
        assert!(listing.active.is_empty());
        assert_eq!(listing.bound_guids(), BTreeSet::from([guid()]));
    }

    /// A pid no process can have: above Linux's largest `pid_max`.
    const DEAD_PID: u32 = 2_000_000_000;

    fn temporary(store: &TargetStore, pid: u32, random: &str) -> PathBuf {
        let path = store
            .folder_path(Folder::Active)
            .join(format!(".{GUID}.json.{pid}-{random}.tmp"));
        fs::write(&path, "[").unwrap();
        path
    }

    #[test]
    fn opening_removes_temporaries_of_dead_writers_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = TargetStore::open(dir.path()).unwrap();
        let dead = temporary(&store, DEAD_PID, "aaaaaa");
        let locked = temporary(&store, DEAD_PID, "bbbbbb");
        let holder = File::open(&locked).unwrap();
        liveness::try_lock(&holder).unwrap();
        // Unlocked, but its writer runs: it may be between creating and locking the file.
        let running = temporary(&store, std::process::id(), "cccccc");
        let foreign = store.folder_path(Folder::Active).join(".notes.tmp");
        fs::write(&foreign, "mine").unwrap();
        let inactive_dead = store
            .folder_path(Folder::Inactive)
            .join(format!(".{GUID}.json.{DEAD_PID}-dddddd.tmp"));
        fs::write(&inactive_dead, "[").unwrap();

        TargetStore::open(dir.path()).unwrap();
        assert!(
            !dead.exists() && !inactive_dead.exists(),
            "dead writers' files are removed"
        );
        assert!(
            locked.exists(),
            "a locked temporary file belongs to a live writer"
        );
        assert!(running.exists(), "a running writer's file is kept");
        assert!(foreign.exists(), "files not named like ours are never touched");
        drop(holder);
    }

    fn is_guid(target: &str) -> bool {
        AppGuid::parse(target).is_ok()
    }

    #[test]
    fn temporary_names_carry_the_writers_pid() {
        assert_eq!(
            temporary_file_writer(&format!(".{GUID}.json.1234-Ab9xYz.tmp"), is_guid),
            Some(1234)
        );
        for name in [
            format!(".{GUID}.json.Ab9xYz.tmp"),
            format!("{GUID}.json"),
            format!(".{GUID}.json.x-1.tmp"),
            ".README.json.1-a.tmp".to_owned(),
        ] {
            assert_eq!(temporary_file_writer(&name, is_guid), None, "{name}");
        }
    }
}
