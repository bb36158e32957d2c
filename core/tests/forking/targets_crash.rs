//! Crash safety of the target store: Prometheus re-reads a target file whenever it
//! changes, so a writer that dies at any instant must leave either the old file or the
//! new one in `active/`, never a truncated or mixed one.
#![cfg(unix)]

use gds_metrics::targets::{read_target_file, render_target_file, AppFacts, AppGuid, Folder, TargetStore};
use std::fs;
use std::time::Duration;

const ITERATIONS: usize = 120;
/// On a loaded machine a forked writer may not be scheduled within the first delays; the
/// test goes on, with longer delays, until the large version has been written once.
const MAX_ITERATIONS: usize = 600;
/// The first delays are short so that most kills land mid-write.
const FIRST_MAX_DELAY_MICROS: u64 = 5_000;
const LAST_MAX_DELAY_MICROS: u64 = 1_000_000;
const GUID: &str = "6f1e3c2a-9b4d-4e8f-a1b2-c3d4e5f6a7b8";

fn target_file(instances: u32) -> String {
    let facts = AppFacts {
        guid: AppGuid::parse(GUID).unwrap(),
        name: "big-app".into(),
        instances,
        route_host: "big-app.cloudapps.digital".into(),
        route_path: String::new(),
        org: "org".into(),
        space: "space".into(),
        exporter: false,
    };
    render_target_file(&facts).unwrap()
}

/// Rewrites the file forever, alternating a small and a large version, until killed.
fn run_writer(store: &TargetStore, versions: &[String]) -> ! {
    let guid = AppGuid::parse(GUID).unwrap();
    let outcome = std::panic::catch_unwind(|| loop {
        for version in versions {
            if store.write(Folder::Active, &guid, version.as_bytes()).is_err() {
                return;
            }
        }
    });
    // Only reached if writing failed: report it through the exit status.
    // SAFETY: async-signal-safe libc calls on descriptors and pids this test owns.
    unsafe { libc::_exit(if outcome.is_ok() { 3 } else { 4 }) }
}

/// Forks a writer, lets it run for `delay`, kills it with SIGKILL and reaps it.
fn kill_writer_after(store: &TargetStore, versions: &[String], delay: Duration) {
    // SAFETY: the child only runs `run_writer`, which never returns into the test harness.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed: {}", std::io::Error::last_os_error());
    if pid == 0 {
        run_writer(store, versions);
    }
    std::thread::sleep(delay);
    let mut status = 0;
    // SAFETY: async-signal-safe libc calls on descriptors and pids this test owns.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        assert_eq!(libc::waitpid(pid, &mut status, 0), pid);
    }
    assert!(
        libc::WIFSIGNALED(status),
        "the writer stopped by itself (status {status}): a write failed"
    );
}

#[test]
fn writer_killed_at_random_points_never_leaves_a_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = TargetStore::open(dir.path()).unwrap();
    // The large version takes long enough to write that many kills land mid-write.
    let versions = [target_file(1), target_file(3000)];
    let file = store.path(Folder::Active, &AppGuid::parse(GUID).unwrap());
    store
        .write(
            Folder::Active,
            &AppGuid::parse(GUID).unwrap(),
            versions[0].as_bytes(),
        )
        .unwrap();

    let seed = fastrand::u64(..);
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut seen = [0usize; 2];
    let mut max_delay = FIRST_MAX_DELAY_MICROS;
    let mut iteration = 0;
    while iteration < ITERATIONS || (seen[1] == 0 && iteration < MAX_ITERATIONS) {
        kill_writer_after(&store, &versions, Duration::from_micros(rng.u64(0..max_delay)));

        let bytes = fs::read_to_string(&file).unwrap();
        let version = versions.iter().position(|v| *v == bytes).unwrap_or_else(|| {
            panic!(
                "seed {seed}, iteration {iteration}: active file is neither version ({} bytes)",
                bytes.len()
            )
        });
        seen[version] += 1;
        let json_files: Vec<_> = fs::read_dir(store.folder_path(Folder::Active))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|ext| ext == "json"))
            .collect();
        assert_eq!(
            json_files,
            std::slice::from_ref(&file),
            "seed {seed}: only the target file matches *.json"
        );
        read_target_file(&file).unwrap();
        if seen[1] == 0 {
            max_delay = (max_delay * 2).min(LAST_MAX_DELAY_MICROS);
        }
        iteration += 1;
    }

    let leftovers = fs::read_dir(store.folder_path(Folder::Active)).unwrap().count() - 1;
    eprintln!("seed {seed}: versions seen {seen:?}, {leftovers} writes interrupted mid-file");
    assert!(
        seen[0] > 0 && seen[1] > 0,
        "seed {seed}: writers never completed both versions: {seen:?}"
    );
    assert!(
        leftovers > 0,
        "seed {seed}: no kill landed mid-write, so nothing was tested"
    );
    assert_eq!(
        store.list().unwrap().active.len(),
        1,
        "temporary files are not listed"
    );
}
