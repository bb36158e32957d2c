//! Fork hooks: a child never writes into its parent's file.
//!
//! Pre-fork servers (gunicorn, puma) load the app, and so create metrics, in a master
//! that then forks workers. The child inherits the parent's shared mapping; left alone its
//! increments would land in the parent's file. Instead of checking the pid on every
//! increment, `pthread_atfork` hooks move each of this process's regions onto a new file
//! of the child's own, at the same address, before `fork()` returns in the child.

use super::mapped::ProcessFile;
use parking_lot::Mutex;
use std::sync::Once;

static FILES: Mutex<Vec<&'static ProcessFile>> = Mutex::new(Vec::new());
static HOOKS: Once = Once::new();

/// Puts `file` under the fork hooks, installing them on first use.
pub(crate) fn watch(file: &'static ProcessFile) {
    HOOKS.call_once(|| {
        // SAFETY: the handlers are `extern "C"` functions that live for the whole program.
        let rc = unsafe { libc::pthread_atfork(Some(prepare), Some(in_parent), Some(in_child)) };
        assert_eq!(rc, 0, "pthread_atfork failed");
    });
    FILES.lock().push(file);
}

/// Stops moving `file` in forked children (its store was closed).
pub(crate) fn unwatch(file: &'static ProcessFile) {
    FILES.lock().retain(|f| !std::ptr::eq(*f, file));
}

/// Before the fork: holds every lock the hooks touch, so no other thread is halfway
/// through an append when the address space is copied.
extern "C" fn prepare() {
    std::mem::forget(FILES.lock());
    // SAFETY: the list is locked by this thread (guard forgotten above).
    for file in unsafe { &*FILES.data_ptr() } {
        file.lock_for_fork();
    }
}

extern "C" fn in_parent() {
    // SAFETY: `prepare` locked all of these on this thread.
    unsafe {
        for file in &*FILES.data_ptr() {
            file.unlock_after_fork();
        }
        FILES.force_unlock();
    }
}

extern "C" fn in_child() {
    // SAFETY: we are the child of a fork whose `prepare` locked all of these; the
    // forking thread is the only thread here.
    unsafe {
        for file in &*FILES.data_ptr() {
            file.move_to_own_file_in_child();
        }
        crate::storage::count_fork_in_child();
        FILES.force_unlock();
    }
}
