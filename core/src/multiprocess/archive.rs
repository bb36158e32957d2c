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
//! processes plus the archive, its lock and the server's CPU mark ([`high_water`](super::high_water)).
//!
//! Anyone who can write to the directory can put anything in it. Every entry is opened
//! with `O_NOFOLLOW | O_NONBLOCK` and checked to be a regular file before it is read,
//! mapped or locked: a FIFO would block the `open` until someone writes to it (and with
//! it every scrape and the fold a gunicorn master runs when a worker exits), a symlink
//! could point at `/dev/zero` or another user's file, and a directory cannot be mapped.
//!
//! A scrape keeps what it read for the next one ([`ScrapeCache`]): each file stays mapped
//! and parsed, and each of its series matched to the aggregate's. Files are only ever
//! appended to, and a kept mapping keeps its inode from being reused, so a file found again
//! under the same `(device, inode)` is the same file: only the records it gained are parsed
//! and matched, and every slot is read again. A different set of files, or a family record
//! added to one, rebuilds the aggregate, since which definition of a family wins depends on
//! the order of the files; a fold rebuilds it too.

use super::aggregate::{Aggregate, FilePlan, Source};
use super::format::{self, Role};
use super::mapped::{PROCESS_PREFIX, SUFFIX};
use super::Warnings;
use crate::liveness;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

pub(crate) const ARCHIVE: &str = "archive.gdsm";
const LOCK: &str = "archive.lock";
const TMP_PREFIX: &str = ".tmp-";
/// A temporary file older than this was left by a process that died while creating it.
const STALE_TMP: std::time::Duration = std::time::Duration::from_secs(60);

/// A file a scrape read, kept mapped and parsed for the next scrape. Holding the mapping
/// keeps the file's inode in use, so no other file can take its `(device, inode)` while
/// it is kept: the same identity next time is the same file, which only ever grew.
struct Input {
    id: (u64, u64),
    map: memmap2::Mmap,
    parsed: format::Parsed,
    plan: FilePlan,
}

/// What the last scrape of a directory read and built: its files in the order read, and
/// their aggregate. A scrape that finds the same files (grown or not) matches only the
/// series they gained and reads every slot again; any other change rebuilds it.
#[derive(Default)]
pub(crate) struct ScrapeCache {
    inputs: Vec<Input>,
    aggregate: Aggregate,
}

impl ScrapeCache {
    /// The aggregate of the last [`scan`] with `live`.
    pub(crate) fn aggregate(&mut self) -> &mut Aggregate {
        &mut self.aggregate
    }

    /// The kept input for the file `id`, taken out of the cache.
    fn take(&mut self, id: (u64, u64)) -> Option<Input> {
        let at = self.inputs.iter().position(|input| input.id == id)?;
        Some(self.inputs.swap_remove(at))
    }
}

/// A directory's files by what the scan does with them.
struct Listing {
    /// Live processes' files (this process's among them), in name order.
    live: Vec<(String, File)>,
    /// Files of exited processes, locked by this scan, in name order.
    dead: Vec<(String, File)>,
}

/// Folds the files of exited processes into the archive; with `live`, also reads every
/// live file (`own` is this process's) and leaves the aggregate of the whole directory in
/// `cache` (what `cache` kept from the last scan is reused where the files are the same).
pub(crate) fn scan(
    dir: &Path,
    own: &str,
    live: bool,
    warnings: &Warnings,
    cache: &mut ScrapeCache,
) -> io::Result<()> {
    let lock = liveness::open_regular(&dir.join(LOCK), OpenOptions::new().create(true).append(true))?;
    liveness::lock(&lock)?;
    let mut warn = |msg: String| warnings.warn(msg);
    let previous: Vec<(u64, u64)> = cache.inputs.iter().map(|input| input.id).collect();
    let archive = load_archive(dir, cache, &mut warn);
    let already_folded = archive.as_ref().map_or(&[][..], |a| a.parsed.folded.as_slice());
    let listing = list(dir, own, already_folded, &mut warn)?;
    if !listing.dead.is_empty() {
        let mut aggregate = fold(dir, archive.as_ref(), listing.dead, &mut warn)?;
        if live {
            for (name, file) in &listing.live {
                match read(file, Role::Process, false) {
                    Ok((map, parsed)) => aggregate.add(&parsed, &map, Source::Live, &mut warn),
                    Err(reason) => warn(format!("ignoring {}: {reason}", dir.join(name).display())),
                }
            }
        }
        // The archive changed: the next scan builds its aggregate afresh.
        *cache = ScrapeCache {
            inputs: Vec::new(),
            aggregate,
        };
        return Ok(());
    }
    if !live {
        cache.inputs = archive.into_iter().collect();
        return Ok(());
    }
    let inputs = archive.into_iter().collect();
    scrape(dir, inputs, &listing.live, &previous, cache, &mut warn);
    Ok(())
}

/// Reads the live files after the archive's `inputs` into `cache`'s aggregate, matching
/// only what is new if the files are the ones of the last scrape (`previous`).
fn scrape(
    dir: &Path,
    mut inputs: Vec<Input>,
    live: &[(String, File)],
    previous: &[(u64, u64)],
    cache: &mut ScrapeCache,
    warn: &mut dyn FnMut(String),
) {
    let mut new_families = false;
    for (name, file) in live {
        match reread(file, Role::Process, false, cache) {
            Ok((input, families)) => {
                new_families |= families > 0;
                inputs.push(input);
            }
            Err(reason) => warn(format!("ignoring {}: {reason}", dir.join(name).display())),
        }
    }
    let same_files = inputs.iter().map(|input| input.id).eq(previous.iter().copied());
    if !same_files || new_families {
        // Which definition of a family wins depends on the order its files are read in.
        cache.aggregate = Aggregate::default();
        for input in &mut inputs {
            input.plan = FilePlan::new(input.plan.source());
        }
    }
    let aggregate = &mut cache.aggregate;
    for input in &mut inputs {
        aggregate.match_file(&mut input.plan, &input.parsed, &input.map, warn);
    }
    aggregate.begin_round();
    for input in &inputs {
        aggregate.accumulate(&input.plan, &input.parsed, &input.map);
    }
    cache.inputs = inputs;
}

/// Sorts the directory's entries into live and dead processes' files; removes files the
/// archive already holds and stale temporary files, and reports anything else.
fn list(
    dir: &Path,
    own: &str,
    already_folded: &[String],
    warn: &mut dyn FnMut(String),
) -> io::Result<Listing> {
    let mut listing = Listing {
        live: Vec::new(),
        dead: Vec::new(),
    };
    // In name order, so the same directory always sums its floats in the same order.
    let mut entries = std::fs::read_dir(dir)?.collect::<io::Result<Vec<_>>>()?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            warn(format!(
                "ignoring {}: not a gds-metrics file",
                entry.path().display()
            ));
            continue;
        };
        if name == ARCHIVE || name == LOCK || name == super::high_water::FILE {
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
        if name != own && already_folded.contains(&name) {
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
        if name == own {
            listing.live.push((name, file));
            continue;
        }
        match liveness::try_lock(&file) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => listing.live.push((name, file)),
            Err(e) => warn(format!(
                "ignoring {}: cannot probe its lock: {e}",
                entry.path().display()
            )),
            // Dead: we hold its lock now, so no one else folds it meanwhile.
            Ok(()) => listing.dead.push((name, file)),
        }
    }
    Ok(listing)
}

/// Folds the files of exited processes into a new archive (the old one's families and
/// theirs), then removes them; returns the new archive's aggregate.
fn fold(
    dir: &Path,
    archive: Option<&Input>,
    dead: Vec<(String, File)>,
    warn: &mut dyn FnMut(String),
) -> io::Result<Aggregate> {
    let mut aggregate = Aggregate::default();
    if let Some(archive) = archive {
        aggregate.add(&archive.parsed, &archive.map, Source::Archive, warn);
    }
    for (name, file) in &dead {
        match read(file, Role::Process, true) {
            Ok((map, parsed)) => aggregate.add(&parsed, &map, Source::Dead, warn),
            Err(reason) => warn(format!(
                "removing {} of an exited process: {reason}",
                dir.join(name).display()
            )),
        }
    }
    let names: Vec<String> = dead.iter().map(|(name, _)| name.clone()).collect();
    write_archive(dir, &aggregate.archive_image(&names))?;
    for name in &names {
        let _ = std::fs::remove_file(dir.join(name));
    }
    Ok(aggregate)
}

/// The archive, read again only if it is another file than the one `cache` kept. A
/// damaged archive is reported and treated as empty rather than failing every scrape.
fn load_archive(dir: &Path, cache: &mut ScrapeCache, warn: &mut dyn FnMut(String)) -> Option<Input> {
    let path = dir.join(ARCHIVE);
    let file = match open_for_reading(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
        Err(e) => {
            warn(format!("ignoring archive {}: {e}", path.display()));
            return None;
        }
    };
    match reread(&file, Role::Archive, true, cache) {
        Ok((input, _)) => Some(input),
        Err(reason) => {
            warn(format!("ignoring damaged archive {}: {reason}", path.display()));
            None
        }
    }
}

/// `file` mapped and parsed: what `cache` kept of it, with the records published since,
/// or read for the first time. Also returns how many family records were new.
fn reread(
    file: &File,
    role: Role,
    complete: bool,
    cache: &mut ScrapeCache,
) -> Result<(Input, usize), String> {
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read its size: {e}"))?;
    let id = (meta.dev(), meta.ino());
    let Some(mut input) = cache.take(id) else {
        let (map, parsed) = read(file, role, complete)?;
        let families = parsed.families.len();
        let source = if role == Role::Archive {
            Source::Archive
        } else {
            Source::Live
        };
        let input = Input {
            id,
            map,
            parsed,
            plan: FilePlan::new(source),
        };
        return Ok((input, families));
    };
    if meta.len() > input.map.len() as u64 {
        // The file grew past the old mapping; slot offsets stay as they were.
        input.map = map(file)?;
    }
    let families = input
        .parsed
        .resume(&input.map, role, complete)
        .map_err(|m| m.0.to_owned())?;
    Ok((input, families))
}

/// Maps a file read-only and parses it. The mapping is page-aligned, as parsing needs.
fn read(file: &File, role: Role, complete: bool) -> Result<(memmap2::Mmap, format::Parsed), String> {
    let map = map(file)?;
    let parsed = format::parse(&map, role, complete).map_err(|m| m.0.to_owned())?;
    Ok((map, parsed))
}

fn map(file: &File) -> Result<memmap2::Mmap, String> {
    // SAFETY: other processes only append past `used` or update slots atomically; the
    // parser reads slots with atomic loads and never trusts lengths without bounds checks.
    unsafe { memmap2::Mmap::map(file) }.map_err(|e| format!("cannot map it: {e}"))
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
