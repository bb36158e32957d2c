//! Liveness by file locks instead of pids.
//!
//! Each process holds an exclusive `flock` on its own file for its whole life; the kernel
//! drops it when the process dies, however it dies (SIGKILL included). A reader that can
//! take the lock without waiting knows the owner is gone, and holds the lock while folding
//! so no one else folds the same file. Pids are only labels: a recycled pid gets a new
//! file with a new name, and a lock, not a pid, says who is alive.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

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
