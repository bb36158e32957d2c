//! The directory: folding files of exited processes into the archive, and reading the
//! whole directory for a scrape.
//!
//! Everything here runs under an exclusive `flock` on `archive.lock`, so a fold and a
//! scrape never see each other half done. A fold writes the new archive (temporary file,
//! rename) naming the files it folded, then removes those files; a crash between the two
//! steps leaves files the archive already names, which the next fold removes without
//! counting them twice. There is no fsync: the directory guards against processes dying,
//! not the machine (after a reboot the app starts from zero, which Prometheus reads as a
//! counter reset), and a scrape must not wait for a disk. The number of files is therefore bounded by the live
//! processes plus the archive and its lock.
//!
//! Anyone who can write to the directory can put anything in it. Every entry is opened
//! with `O_NOFOLLOW | O_NONBLOCK` and checked to be a regular file before it is read,
//! mapped or locked: a FIFO would block the `open` until someone writes to it (and with
//! it every scrape and the fold a gunicorn master runs when a worker exits), a symlink
//! could point at `/dev/zero` or another user's file, and a directory cannot be mapped.

use super::aggregate::{Aggregate, Source};
use super::format::{self, Role};
use super::liveness;
use super::mapped::{PROCESS_PREFIX, SUFFIX};
use super::Warnings;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

pub(crate) const ARCHIVE: &str = "archive.gdsm";
const LOCK: &str = "archive.lock";
const TMP_PREFIX: &str = ".tmp-";
/// A temporary file older than this was left by a process that died while creating it.
const STALE_TMP: std::time::Duration = std::time::Duration::from_secs(60);

/// Folds the files of exited processes into the archive; with `live`, also adds every
/// live file (`own` is this process's) and returns the aggregate of the whole directory.
pub(crate) fn scan(dir: &Path, own: &str, live: bool, warnings: &Warnings) -> io::Result<Aggregate> {
    let lock = liveness::open_regular(&dir.join(LOCK), OpenOptions::new().create(true).append(true))?;
    liveness::lock(&lock)?;
    let (mut aggregate, already_folded) = load_archive(dir, warnings);
    let mut warn = |msg: String| warnings.warn(msg);

    let mut live_files = Vec::new();
    let mut folded: Vec<(String, Option<File>)> = Vec::new();
    // In name order, so the same directory always sums its floats in the same order.
    let mut listing = std::fs::read_dir(dir)?.collect::<io::Result<Vec<_>>>()?;
    listing.sort_by_key(|entry| entry.file_name());
    for entry in listing {
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            warn(format!(
                "ignoring {}: not a gds-metrics file",
                entry.path().display()
            ));
            continue;
        };
        if name == ARCHIVE || name == LOCK {
            continue;
        }
        if !entry.file_type().is_ok_and(|t| t.is_file()) {
            warn(format!("ignoring {}: not a regular file", entry.path().display()));
            continue;
        }
        if name.starts_with(TMP_PREFIX) {
            remove_if_stale(&entry.path());
            continue;
        }
        if !(name.starts_with(PROCESS_PREFIX) && name.ends_with(SUFFIX)) {
            warn(format!(
                "ignoring {}: not a gds-metrics file",
                entry.path().display()
            ));
            continue;
        }
        if name == own {
            live_files.push(name);
            continue;
        }
        if already_folded.contains(&name) {
            let _ = std::fs::remove_file(entry.path());
            continue;
        }
        let file = match open_for_reading(&entry.path()) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue, // removed since listed
            Err(e) => {
                warn(format!("ignoring {}: {e}", entry.path().display()));
                continue;
            }
        };
        match liveness::try_lock(&file) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => live_files.push(name),
            Err(e) => warn(format!(
                "ignoring {}: cannot probe its lock: {e}",
                entry.path().display()
            )),
            Ok(()) => {
                // Dead: we hold its lock now, so no one else folds it meanwhile.
                match read(&file, Role::Process, true) {
                    Ok((map, parsed)) => aggregate.add(&parsed, &map, Source::Dead, &mut warn),
                    Err(reason) => warn(format!(
                        "removing {} of an exited process: {reason}",
                        entry.path().display()
                    )),
                }
                folded.push((name, Some(file)));
            }
        }
    }

    if !folded.is_empty() {
        let names: Vec<String> = folded.iter().map(|(n, _)| n.clone()).collect();
        write_archive(dir, &aggregate.archive_image(&names))?;
        for (name, _file) in &folded {
            let _ = std::fs::remove_file(dir.join(name));
        }
    }

    if live {
        for name in live_files {
            let path = dir.join(&name);
            let Ok(file) = open_for_reading(&path) else {
                continue;
            };
            match read(&file, Role::Process, false) {
                Ok((map, parsed)) => aggregate.add(&parsed, &map, Source::Live, &mut warn),
                Err(reason) => warn(format!("ignoring {}: {reason}", path.display())),
            }
        }
    }
    Ok(aggregate)
}

/// The archive's families and the names of the files it already holds. A damaged
/// archive is reported and treated as empty rather than failing every scrape.
fn load_archive(dir: &Path, warnings: &Warnings) -> (Aggregate, Vec<String>) {
    let mut aggregate = Aggregate::default();
    let path = dir.join(ARCHIVE);
    let file = match open_for_reading(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return (aggregate, Vec::new()),
        Err(e) => {
            warnings.warn(format!("ignoring archive {}: {e}", path.display()));
            return (aggregate, Vec::new());
        }
    };
    match read(&file, Role::Archive, true) {
        Ok((map, parsed)) => {
            aggregate.add(&parsed, &map, Source::Archive, &mut |msg| warnings.warn(msg));
            (aggregate, parsed.folded)
        }
        Err(reason) => {
            warnings.warn(format!("ignoring damaged archive {}: {reason}", path.display()));
            (aggregate, Vec::new())
        }
    }
}

/// Maps a file read-only and parses it. The mapping is page-aligned, as parsing needs.
fn read(file: &File, role: Role, complete: bool) -> Result<(memmap2::Mmap, format::Parsed), String> {
    // SAFETY: other processes only append past `used` or update slots atomically; the
    // parser reads slots with atomic loads and never trusts lengths without bounds checks.
    let map = unsafe { memmap2::Mmap::map(file) }.map_err(|e| format!("cannot map it: {e}"))?;
    let parsed = format::parse(&map, role, complete).map_err(|m| m.0.to_owned())?;
    Ok((map, parsed))
}

fn open_for_reading(path: &Path) -> io::Result<File> {
    liveness::open_regular(path, OpenOptions::new().read(true))
}

fn write_archive(dir: &Path, image: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!("{TMP_PREFIX}archive-{}", std::process::id()));
    let mut file = File::create(&tmp)?;
    file.write_all(image)?;
    std::fs::rename(&tmp, dir.join(ARCHIVE))
}

fn remove_if_stale(path: &Path) {
    let stale = std::fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age > STALE_TMP);
    if stale {
        let _ = std::fs::remove_file(path);
    }
}
