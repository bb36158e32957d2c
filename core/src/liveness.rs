//! Liveness by file locks instead of pids.
//!
//! Each process holds an exclusive `flock` on its own file for its whole life; the kernel
//! drops it when the process dies, however it dies (SIGKILL included). A reader that can
//! take the lock without waiting knows the owner is gone, and holds the lock while folding
//! so no one else folds the same file. Pids are only labels: a recycled pid gets a new
//! file with a new name, and a lock, not a pid, says who is alive. The target store tells
//! a live writer's temporary file from a dead one's the same way.
//!
//! A file whose lock is probed was put there by someone else, so it is opened with
//! [`open_regular`]: a FIFO must not block the prober, a symlink must not lead it
//! elsewhere.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Takes an exclusive lock on `file`, failing with `WouldBlock` if it is held.
pub(crate) fn try_lock(file: &File) -> io::Result<()> {
    flock(file, libc::LOCK_EX | libc::LOCK_NB)
}

/// Takes an exclusive lock on `file`, waiting for it.
pub(crate) fn lock(file: &File) -> io::Result<()> {
    flock(file, libc::LOCK_EX)
}

fn flock(file: &File, op: libc::c_int) -> io::Result<()> {
    loop {
        // SAFETY: a valid descriptor owned by `file`.
        if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// Opens `path` only if it is a regular file: without following a symlink and without
/// blocking on a FIFO (see the module docs), then checks the type of what was opened, so
/// an entry swapped after it was listed is refused too.
pub(crate) fn open_regular(path: &Path, options: &mut OpenOptions) -> io::Result<File> {
    let file = options
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) | Some(libc::ENXIO) => not_regular(),
            _ => e,
        })?;
    if file.metadata()?.is_file() {
        Ok(file)
    } else {
        Err(not_regular())
    }
}

fn not_regular() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "not a regular file (a symlink, FIFO, device or directory); remove it",
    )
}
