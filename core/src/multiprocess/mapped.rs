//! This process's file: a large region mapped once, the file grown under it.
//!
//! The region is reserved at its full size up front and never unmapped, so slot addresses
//! never move and a series keeps a `'static` reference to its slots. The file behind it
//! grows (with `posix_fallocate`, so a full disk is an error here rather than a SIGBUS
//! later) before a record is copied in, and the record is published by the `used` word.
//! Appends are serialised by a mutex; updates of existing slots take no lock at all.

use super::format::{self, FamilyDef, Role, HEADER_LEN};
use crate::liveness;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Address space reserved per process (not memory: pages exist only once the file grows
/// into them). About a million series.
const RESERVED: usize = 256 << 20;
/// The file grows by at least this much at a time.
const GROW_STEP: usize = 64 << 10;

/// The prefix and suffix of process files; anything else in the directory is not ours.
pub(crate) const PROCESS_PREFIX: &str = "proc-";
pub(crate) const SUFFIX: &str = ".gdsm";

/// The pid in a process file's name (`proc-<pid>-<nonce>.gdsm`).
pub(crate) fn pid_of(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(PROCESS_PREFIX)?.strip_suffix(SUFFIX)?;
    rest.split_once('-')?.0.parse().ok()
}

pub(crate) struct ProcessFile {
    dir: PathBuf,
    base: *mut u8,
    state: Mutex<State>,
}

// SAFETY: `base` points at a mapping that lives as long as the process; the bytes behind
// it are only written under `state`'s lock (records) or atomically (slots).
unsafe impl Send for ProcessFile {}
// SAFETY: as for `Send`: shared access writes only under the lock or atomically.
unsafe impl Sync for ProcessFile {}

/// What the region is backed by.
enum Backing {
    /// The open, locked file.
    File(File),
    /// Private memory no scrape sees: a forked child could not create its own file.
    Private,
    /// The store was closed: the lock is released so the file gets folded; nothing more
    /// may be appended (the file would not grow under the writes).
    Released,
}

struct State {
    backing: Backing,
    name: String,
    size: usize,
    used: usize,
    /// Family records already written, by name.
    families: HashMap<String, (FamilyDef, usize)>,
}

impl ProcessFile {
    /// Creates, locks and maps a new file for this process in `dir`. The mapping is
    /// leaked on purpose: series hold `'static` references into it.
    pub(crate) fn create(dir: &Path) -> io::Result<&'static ProcessFile> {
        let image = format::header(std::process::id(), Role::Process);
        let (file, name) = new_file(dir, &image, GROW_STEP)?;
        // SAFETY: a fresh shared mapping of a file we own; see `RESERVED` for why it is
        // larger than the file.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                RESERVED,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if base == libc::MAP_FAILED {
            let err = io::Error::last_os_error();
            let _ = std::fs::remove_file(dir.join(&name));
            return Err(err);
        }
        Ok(Box::leak(Box::new(ProcessFile {
            dir: dir.to_owned(),
            base: base as *mut u8,
            state: Mutex::new(State {
                backing: Backing::File(file),
                name,
                size: GROW_STEP,
                used: HEADER_LEN,
                families: HashMap::new(),
            }),
        })))
    }

    /// The file name this process currently writes to.
    pub(crate) fn name(&self) -> String {
        self.state.lock().name.clone()
    }

    /// The offset of the family record for `def`, appended on first use. `None` when the
    /// file cannot grow, or when a different family of that name is already in the file
    /// (its series would not fit the record readers find).
    pub(crate) fn family(&self, def: &FamilyDef) -> Option<usize> {
        let mut state = self.state.lock();
        if let Some((known, at)) = state.families.get(&def.name) {
            return (known == def).then_some(*at);
        }
        let mut w = format::RecordWriter::new();
        w.family(def);
        let at = self.append(&mut state, w.bytes())?;
        state.families.insert(def.name.clone(), (def.clone(), at));
        Some(at)
    }

    /// Appends a series record of `family_offset` and returns its slots, zeroed.
    pub(crate) fn series<V: AsRef<str>>(
        &self,
        family_offset: usize,
        values: &[V],
        slot_count: usize,
    ) -> Option<&'static [AtomicU64]> {
        let mut state = self.state.lock();
        let mut w = format::RecordWriter::new();
        let slots_in_record = w.series(family_offset, 0, values, &vec![0; slot_count]);
        let at = self.append(&mut state, w.bytes())?;
        // SAFETY: the record is inside the grown file and the never-unmapped region,
        // 8-byte aligned, and its slots are only ever accessed atomically.
        Some(unsafe {
            std::slice::from_raw_parts(
                self.base.add(at + slots_in_record) as *const AtomicU64,
                slot_count,
            )
        })
    }

    /// Releases the file's lock, so the next fold in the directory takes its values into
    /// the archive, and stops appends. Slots already handed out stay mapped.
    pub(crate) fn release(&self) {
        self.state.lock().backing = Backing::Released;
    }

    /// Copies a record in and publishes it; returns its offset.
    fn append(&self, state: &mut State, record: &[u8]) -> Option<usize> {
        if matches!(state.backing, Backing::Released) {
            return None;
        }
        let at = state.used;
        let end = at + record.len();
        if end > state.size && !self.grow(state, end) {
            return None;
        }
        // SAFETY: `at..end` is inside the file and the region, and beyond `used`, so no
        // reader looks at it until the store below publishes it.
        unsafe {
            std::ptr::copy_nonoverlapping(record.as_ptr(), self.base.add(at), record.len());
            format::used_word(self.base).store(end as u64, Ordering::Release);
        }
        state.used = end;
        Some(at)
    }

    fn grow(&self, state: &mut State, needed: usize) -> bool {
        let size = needed
            .max(state.size * 2)
            .next_multiple_of(GROW_STEP)
            .min(RESERVED);
        if size < needed {
            warn_once_full();
            return false;
        }
        if let Backing::File(file) = &state.backing {
            // SAFETY: a valid descriptor; the range starts at 0 and is positive.
            let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, size as libc::off_t) };
            if rc != 0 {
                eprintln!(
                    "gds-metrics: cannot grow multi-process file {}: {}; new series of this \
                     process are not aggregated",
                    self.dir.join(&state.name).display(),
                    io::Error::from_raw_os_error(rc)
                );
                return false;
            }
        }
        state.size = size;
        true
    }

    /// Locks appends, so a fork copies a consistent file (see `fork`).
    pub(crate) fn lock_for_fork(&self) {
        std::mem::forget(self.state.lock());
    }

    /// Releases [`ProcessFile::lock_for_fork`] in the parent.
    ///
    /// # Safety
    /// Only after `lock_for_fork`, on the same thread.
    pub(crate) unsafe fn unlock_after_fork(&self) {
        // SAFETY: the caller holds the lock `lock_for_fork` forgot, on this thread.
        unsafe { self.state.force_unlock() };
    }

    /// In a freshly forked child: moves this region onto a new file of the child's own,
    /// with the same records (so every slot address stays valid) and every slot zeroed,
    /// then releases [`ProcessFile::lock_for_fork`].
    ///
    /// # Safety
    /// Only in the child of a fork, after `lock_for_fork` ran in the parent.
    pub(crate) unsafe fn move_to_own_file_in_child(&self) {
        // SAFETY: the forked child has one thread, and the parent's `lock_for_fork` holds
        // the lock, so nothing else touches the state or the region.
        let state = unsafe { &mut *self.state.data_ptr() };
        // SAFETY: `used` bytes from `base` are mapped and written (see `state`).
        let mut image = unsafe { std::slice::from_raw_parts(self.base, state.used) }.to_vec();
        format::set_pid(&mut image, std::process::id());
        format::zero_slots(&mut image);
        match new_file(&self.dir, &image, state.size) {
            Ok((file, name)) => {
                // SAFETY: as above, nothing else uses the region while it is replaced.
                unsafe { self.map_fixed(libc::MAP_SHARED, file.as_raw_fd()) };
                // Dropping the inherited descriptor leaves the parent's lock in place.
                state.backing = Backing::File(file);
                state.name = name;
            }
            Err(err) => {
                eprintln!(
                    "gds-metrics: a forked process cannot create its multi-process file in {}: {err}; \
                     its metrics are not aggregated",
                    self.dir.display()
                );
                // SAFETY: as above; the new private mapping is `RESERVED` bytes, more than
                // the image, and does not overlap the image's own buffer.
                unsafe {
                    self.map_fixed(libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1);
                    std::ptr::copy_nonoverlapping(image.as_ptr(), self.base, image.len());
                }
                state.backing = Backing::Private;
                state.size = RESERVED;
            }
        }
        // SAFETY: the lock was taken by `lock_for_fork` in the parent before the fork.
        unsafe { self.state.force_unlock() };
    }

    /// Replaces the whole region in place. If even that fails the child would write into
    /// its parent's file, which must never happen: abort.
    unsafe fn map_fixed(&self, flags: libc::c_int, fd: libc::c_int) {
        // SAFETY: `base` starts our own `RESERVED`-byte mapping, which the caller keeps
        // unused while it is replaced.
        let addr = unsafe {
            libc::mmap(
                self.base as *mut libc::c_void,
                RESERVED,
                libc::PROT_READ | libc::PROT_WRITE,
                flags | libc::MAP_FIXED,
                fd,
                0,
            )
        };
        if addr == libc::MAP_FAILED {
            eprintln!("gds-metrics: cannot remap the multi-process region after fork; aborting");
            std::process::abort();
        }
    }
}

fn warn_once_full() {
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        eprintln!("gds-metrics: multi-process file is full; new series of this process are not aggregated")
    });
}

/// Writes `image` to a new, locked file in `dir` of at least `size` bytes, under a
/// temporary name first: a reader never sees a file whose owner does not hold its lock.
fn new_file(dir: &Path, image: &[u8], size: usize) -> io::Result<(File, String)> {
    let pid = std::process::id();
    let nonce = unique_nonce();
    let tmp = dir.join(format!(".tmp-{pid}-{nonce:016x}"));
    let name = format!("{PROCESS_PREFIX}{pid}-{nonce:016x}{SUFFIX}");
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(&tmp)?;
    let result = (|| {
        liveness::try_lock(&file)?;
        // SAFETY: a valid descriptor.
        let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, size.max(image.len()) as libc::off_t) };
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        file.write_all_at(image, 0)?;
        std::fs::rename(&tmp, dir.join(&name))
    })();
    match result {
        Ok(()) => Ok((file, name)),
        Err(err) => {
            let _ = std::fs::remove_file(&tmp);
            Err(err)
        }
    }
}

/// Distinguishes files of one pid over time (pid reuse) and within one process.
fn unique_nonce() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ COUNTER.fetch_add(1, Ordering::Relaxed).rotate_left(48)
}
