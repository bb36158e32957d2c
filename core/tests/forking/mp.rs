//! Helpers for tests that fork worker processes.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Serialises the tests of one binary that fork: a fork copies every store of the
/// process, so concurrent tests would see each other's workers.
pub(crate) fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A fresh directory, removed when dropped.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> Self {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("gds-metrics-test-{}-{n}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        Self(path)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A forked worker: it ran its work, reported ready, and waits to be released.
pub(crate) struct Worker {
    pid: libc::pid_t,
    ready: libc::c_int,
    release: libc::c_int,
}

/// Forks a worker that runs `work`, reports ready, then waits until released (so it is
/// alive while the parent scrapes) and exits with `_exit` (0, or 101 if `work` panicked).
pub(crate) fn fork_worker(work: impl FnOnce()) -> Worker {
    let (ready_r, ready_w) = pipe();
    let (release_r, release_w) = pipe();
    // SAFETY: the child only runs `work` and then leaves through `_exit`.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).is_ok();
        // SAFETY: async-signal-safe libc calls on descriptors and pids this test owns.
        unsafe {
            libc::write(ready_w, [1u8].as_ptr().cast(), 1);
            let mut b = [0u8; 1];
            libc::read(release_r, b.as_mut_ptr().cast(), 1);
            libc::_exit(if ok { 0 } else { 101 });
        }
    }
    // SAFETY: async-signal-safe libc calls on descriptors and pids this test owns.
    unsafe {
        libc::close(ready_w);
        libc::close(release_r);
    }
    Worker {
        pid,
        ready: ready_r,
        release: release_w,
    }
}

fn pipe() -> (libc::c_int, libc::c_int) {
    let mut fds = [0; 2];
    // SAFETY: a libc call on descriptors, pids and buffers this test owns.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    (fds[0], fds[1])
}

impl Worker {
    pub(crate) fn pid(&self) -> u32 {
        self.pid as u32
    }

    /// Waits (up to 60 s) until the worker's work is done. Other workers inherit the
    /// pipe's write end, so a dead worker shows as a timeout rather than end-of-file.
    pub(crate) fn wait_ready(&self) {
        let mut poll = libc::pollfd {
            fd: self.ready,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: a libc call on descriptors, pids and buffers this test owns.
        let ready = unsafe { libc::poll(&mut poll, 1, 60_000) };
        assert_eq!(ready, 1, "worker {} did not get ready", self.pid);
        let mut b = [0u8; 1];
        // SAFETY: a libc call on descriptors, pids and buffers this test owns.
        let n = unsafe { libc::read(self.ready, b.as_mut_ptr().cast(), 1) };
        assert_eq!(n, 1, "worker {} died before it was ready", self.pid);
    }

    /// Lets the worker exit and reaps it; fails if its work panicked. Releases by
    /// writing, not by closing: later workers hold copies of the pipe.
    pub(crate) fn finish(self) {
        // SAFETY: async-signal-safe libc calls on descriptors and pids this test owns.
        unsafe {
            libc::write(self.release, [1u8].as_ptr().cast(), 1);
            libc::close(self.release);
        }
        assert_eq!(self.reap(), Some(0), "worker {} failed", self.pid);
    }

    /// Kills the worker with SIGKILL and reaps it.
    pub(crate) fn kill(self) {
        // SAFETY: async-signal-safe libc calls on descriptors and pids this test owns.
        unsafe {
            libc::kill(self.pid, libc::SIGKILL);
            libc::close(self.release);
        }
        self.reap();
    }

    /// Kills the worker with SIGKILL and waits until it is a zombie: dead, its files
    /// closed, not yet reaped (as a master that has not yet handled SIGCHLD leaves it).
    /// Reap it with [`Worker::reap_killed`].
    pub(crate) fn kill_unreaped(&self) {
        // SAFETY: a libc call on a pid this test owns.
        unsafe { libc::kill(self.pid, libc::SIGKILL) };
        let stat = format!("/proc/{}/stat", self.pid);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !std::fs::read_to_string(&stat)
            .is_ok_and(|s| s.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('Z')))
        {
            assert!(
                std::time::Instant::now() < deadline,
                "worker {} did not die",
                self.pid
            );
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }

    /// Reaps a worker killed by [`Worker::kill_unreaped`].
    pub(crate) fn reap_killed(self) {
        // SAFETY: a libc call on a descriptor this test owns.
        unsafe { libc::close(self.release) };
        assert_eq!(self.reap(), None, "worker {} was not killed", self.pid);
    }

    /// The exit code, or `None` if it was killed.
    fn reap(&self) -> Option<i32> {
        let mut status = 0;
        // SAFETY: a libc call on descriptors, pids and buffers this test owns.
        assert_eq!(unsafe { libc::waitpid(self.pid, &mut status, 0) }, self.pid);
        // SAFETY: a libc call on descriptors, pids and buffers this test owns.
        unsafe { libc::close(self.ready) };
        libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status))
    }
}

/// Forks a worker that runs `work` and exits at once; waits for it and returns its exit
/// code (101 if `work` panicked).
pub(crate) fn run_worker(work: impl FnOnce()) -> i32 {
    // SAFETY: the child only runs `work` and then leaves through `_exit`.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).is_ok();
        // SAFETY: async-signal-safe libc calls on descriptors and pids this test owns.
        unsafe { libc::_exit(if ok { 0 } else { 101 }) };
    }
    let mut status = 0;
    // SAFETY: a libc call on descriptors, pids and buffers this test owns.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status), "worker {pid} was killed");
    libc::WEXITSTATUS(status)
}

/// The names of the entries of `dir`, sorted.
pub(crate) fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The number of process files in `dir`.
pub(crate) fn process_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("proc-")
        })
        .count()
}

/// The value of the sample line that starts with `series ` (name and labels exactly).
pub(crate) fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        let value = line.strip_prefix(series)?.strip_prefix(' ')?;
        Some(match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap(),
        })
    })
}
