//! Temporary files of `gds-metrics-targets apply` runs killed mid-write are removed by a
//! later run, and a live concurrent writer's temporary file is never touched
//! (CONTRACT section 7).
#![cfg(feature = "cli")]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const APPS: usize = 4;
const KILLS: usize = 25;

/// A desired state of `APPS` started apps whose target files are large (so writing them
/// takes long enough for kills to land mid-write) and differ with `version` (so every run
/// rewrites them rather than finding them unchanged).
fn desired_state(version: usize) -> String {
    let apps: Vec<String> = (0..APPS)
        .map(|app| {
            format!(
                r#"{{"guid": "6f1e3c2a-9b4d-4e8f-a1b2-c3d4e5f6a7{app:02}", "name": "app-{app}", "state": "started",
                     "instances": {}, "route_host": "app-{app}.cloudapps.digital",
                     "org": "org", "space": "space"}}"#,
                2000 + version
            )
        })
        .collect();
    format!("[{}]", apps.join(","))
}

fn spawn_apply(dir: &Path, version: usize) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gds-metrics-targets"))
        .args(["apply", "--dir", dir.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(desired_state(version).as_bytes())
        .unwrap();
    child
}

fn apply_to_completion(dir: &Path, version: usize) {
    let output = spawn_apply(dir, version).wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "apply failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Temporary files in both folders.
fn temporaries(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for folder in ["active", "inactive"] {
        let Ok(entries) = fs::read_dir(dir.join(folder)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let ours = name.starts_with('.') && name.ends_with(".tmp");
            if ours {
                found.push(path);
            }
        }
    }
    found
}

fn signal(child: &Child, signal: libc::c_int) {
    // SAFETY: a libc call on descriptors, pids and buffers this test owns.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
}

/// Waits until `writer` has a temporary file (one not in `before`) and returns it, or
/// `None` once the writer has exited (and been reaped) without being caught.
fn new_temporaries(dir: &Path, writer: &mut Child, before: &[PathBuf]) -> Option<Vec<PathBuf>> {
    loop {
        let new: Vec<PathBuf> = temporaries(dir)
            .into_iter()
            .filter(|t| !before.contains(t))
            .collect();
        if !new.is_empty() {
            return Some(new);
        }
        if writer.try_wait().unwrap().is_some() {
            return None;
        }
    }
}

#[test]
fn a_later_run_removes_the_temporary_files_of_killed_writers() {
    let dir = tempfile::tempdir().unwrap();
    apply_to_completion(dir.path(), 0);
    let seed = fastrand::u64(..);
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut left_behind = 0;
    for kill in 1..=KILLS {
        let before = temporaries(dir.path());
        let mut writer = spawn_apply(dir.path(), kill);
        // Kill it at a random point after its first temporary file appeared.
        if new_temporaries(dir.path(), &mut writer, &before).is_none() {
            continue;
        }
        std::thread::sleep(Duration::from_micros(rng.u64(0..20_000)));
        signal(&writer, libc::SIGKILL);
        writer.wait().unwrap();
        left_behind += usize::from(!temporaries(dir.path()).is_empty());
    }
    eprintln!("seed {seed}: {left_behind} of {KILLS} killed writers left temporary files");
    assert!(
        left_behind > 0,
        "seed {seed}: no kill landed mid-write, so nothing was tested"
    );

    apply_to_completion(dir.path(), 0);
    assert_eq!(temporaries(dir.path()), Vec::<PathBuf>::new(), "seed {seed}");
}

/// Starts a writer and stops it (SIGSTOP) at a moment it has a temporary file: a live
/// writer, only slow. `None` if it finished before it could be caught.
fn writer_stopped_mid_write(dir: &Path) -> Option<(Child, Vec<PathBuf>)> {
    let before = temporaries(dir);
    let mut writer = spawn_apply(dir, 1);
    let pid = writer.id() as libc::pid_t;
    while new_temporaries(dir, &mut writer, &before).is_some() {
        signal(&writer, libc::SIGSTOP);
        let mut status = 0;
        // Until it has really stopped: the signal is delivered asynchronously.
        // SAFETY: a libc call on descriptors, pids and buffers this test owns.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, libc::WUNTRACED) }, pid);
        assert!(libc::WIFSTOPPED(status), "the writer ended instead of stopping");
        let caught: Vec<PathBuf> = temporaries(dir)
            .into_iter()
            .filter(|t| !before.contains(t))
            .collect();
        if !caught.is_empty() {
            return Some((writer, caught));
        }
        signal(&writer, libc::SIGCONT);
    }
    None
}

#[test]
fn a_live_concurrent_writers_temporary_file_survives_another_run() {
    let dir = tempfile::tempdir().unwrap();
    apply_to_completion(dir.path(), 0);
    let deadline = Instant::now() + Duration::from_secs(60);
    let (mut writer, caught) = loop {
        assert!(Instant::now() < deadline, "never caught a writer mid-write");
        apply_to_completion(dir.path(), 0);
        if let Some(stopped) = writer_stopped_mid_write(dir.path()) {
            break stopped;
        }
    };

    apply_to_completion(dir.path(), 2);
    for file in &caught {
        assert!(file.exists(), "{} of a live writer was removed", file.display());
    }

    signal(&writer, libc::SIGCONT);
    let status = writer.wait().unwrap();
    assert!(
        status.success(),
        "the stopped writer could not finish its rename: {status}"
    );
    assert_eq!(temporaries(dir.path()), Vec::<PathBuf>::new());
}
