//! Process metrics from `/proc`: of the process in a single-process registry; of the whole
//! server (the master and its live workers) in a multi-process one, with workers forked,
//! killed and finished while the master scrapes.
#![cfg(target_os = "linux")]

use crate::mp;

use gds_metrics::{process, Format, MultiProcess, Opts, Registry, ServerDirectory};
use mp::{fork_worker, sample, serial, TempDir};

fn open_files_limit() -> f64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid rlimit to write into.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) }, 0);
    limit.rlim_cur as f64
}

/// Burns `millis` of CPU time in this process, however busy the machine is.
fn burn_cpu(millis: u64) {
    let cpu_time = || {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `now` is a valid timespec to write into.
        unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
        now.tv_sec as f64 + now.tv_nsec as f64 * 1e-9
    };
    let until = cpu_time() + millis as f64 / 1000.0;
    let mut x = 0u64;
    while cpu_time() < until {
        x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
    }
}

#[test]
fn a_single_process_exports_its_own_metrics_with_the_client_names() {
    let registry = Registry::new();
    process::register(&registry).unwrap();
    let text = registry.render(Format::Text);
    assert!(
        sample(&text, "process_cpu_seconds_total").is_some_and(|v| v >= 0.0),
        "{text}"
    );
    for family in [
        "process_resident_memory_bytes",
        "process_virtual_memory_bytes",
        "process_open_fds",
        "process_start_time_seconds",
    ] {
        assert!(
            sample(&text, family).is_some_and(|v| v > 0.0),
            "{family} in\n{text}"
        );
    }
    assert_eq!(sample(&text, "process_max_fds"), Some(open_files_limit()));
    assert_eq!(sample(&text, "process_live_workers"), None);
    assert!(matches!(
        process::register(&registry),
        Err(gds_metrics::Error::Duplicate { .. })
    ));
}

#[test]
fn a_server_exports_the_sum_of_its_master_and_live_workers_and_never_loses_cpu() {
    let _serial = serial();
    let dir = TempDir::new("process-metrics");
    let registry = Registry::multiprocess(MultiProcess::open(dir.path()).unwrap());
    process::register(&registry).unwrap();
    let work = registry.counter(Opts::new("work", "Work done.")).unwrap();
    let master_text = registry.render(Format::Text);
    let start_time = sample(&master_text, "process_start_time_seconds").unwrap();
    assert_eq!(sample(&master_text, "process_live_workers"), Some(0.0));
    assert_eq!(sample(&master_text, "process_virtual_memory_bytes"), None);

    let workers: Vec<_> = (0..3)
        .map(|_| {
            fork_worker(|| {
                work.get().unwrap().inc();
                burn_cpu(200);
            })
        })
        .collect();
    workers.iter().for_each(|w| w.wait_ready());
    let with_workers = registry.render(Format::Text);
    // A worker answering the scrape sees the same server: its master and every worker.
    // Its checks end in its exit status, read once every other worker is released.
    let observer = fork_worker(|| {
        work.get().unwrap().inc();
        let text = registry.render(Format::Text);
        assert_eq!(sample(&text, "process_live_workers"), Some(4.0), "{text}");
        assert_eq!(sample(&text, "process_start_time_seconds"), Some(start_time));
    });
    observer.wait_ready();

    let mut workers = workers.into_iter();
    workers.next().unwrap().kill();
    let after_kill = registry.render(Format::Text);
    workers.for_each(mp::Worker::finish);
    observer.finish();
    let after_exit = registry.render(Format::Text);

    assert_eq!(
        sample(&with_workers, "process_live_workers"),
        Some(3.0),
        "{with_workers}"
    );
    assert_eq!(
        sample(&with_workers, "process_start_time_seconds"),
        Some(start_time)
    );
    let own_fds = sample(&master_text, "process_open_fds").unwrap();
    assert!(
        sample(&with_workers, "process_open_fds").unwrap() > own_fds,
        "{with_workers}"
    );
    let cpu = |text: &str| sample(text, "process_cpu_seconds_total").unwrap();
    assert!(
        cpu(&with_workers) >= 0.45,
        "three workers burnt 0.6 s of CPU: {with_workers}"
    );
    assert_eq!(
        sample(&after_kill, "process_live_workers"),
        Some(3.0),
        "the observer and two: {after_kill}"
    );
    assert!(
        cpu(&after_kill) >= cpu(&with_workers),
        "a killed worker took CPU back: {after_kill}"
    );
    assert_eq!(
        sample(&after_exit, "process_live_workers"),
        Some(0.0),
        "{after_exit}"
    );
    assert!(
        cpu(&after_exit) >= cpu(&after_kill),
        "exited workers took CPU back: {after_exit}"
    );
    assert_eq!(sample(&after_exit, "work_total"), Some(4.0));
}

/// The directory a server whose master is this process gets from `PROMETHEUS_MULTIPROC_DIR`
/// set to `dir`.
fn configured_server_directory(dir: &TempDir) -> ServerDirectory {
    let shown = dir.path().to_string_lossy().into_owned();
    ServerDirectory::for_server_with_env(std::process::id(), |name| {
        (name == "PROMETHEUS_MULTIPROC_DIR").then(|| shown.clone())
    })
    .unwrap()
}

#[test]
fn the_only_worker_of_a_master_that_opened_the_server_directory_sees_one_live_worker() {
    let _serial = serial();
    let dir = TempDir::new("one-worker");
    let server = configured_server_directory(&dir);
    assert_eq!(
        mp::process_files(dir.path()),
        1,
        "the master holds a live file from the start"
    );
    let master_start = process::sample(std::process::id()).unwrap().start_time_seconds;
    // As under gunicorn without --preload: the app, and its registry, load in the worker.
    let path = dir.path().to_owned();
    let worker = fork_worker(move || {
        let registry = Registry::multiprocess(MultiProcess::open(&path).unwrap());
        process::register(&registry).unwrap();
        let text = registry.render(Format::Text);
        assert_eq!(sample(&text, "process_live_workers"), Some(1.0), "{text}");
        assert_eq!(
            sample(&text, "process_start_time_seconds"),
            Some(master_start),
            "{text}"
        );
    });
    worker.wait_ready();
    worker.finish();
    server.finish();
}

#[test]
fn a_worker_dead_but_not_yet_reaped_takes_no_cpu_back() {
    let _serial = serial();
    let dir = TempDir::new("unreaped");
    let registry = Registry::multiprocess(MultiProcess::open(dir.path()).unwrap());
    process::register(&registry).unwrap();
    let cpu = |text: &str| sample(text, "process_cpu_seconds_total").unwrap();
    let worker = fork_worker(|| burn_cpu(300));
    worker.wait_ready();
    let alive = registry.render(Format::Text);
    assert_eq!(sample(&alive, "process_live_workers"), Some(1.0), "{alive}");
    assert!(cpu(&alive) >= 0.25, "the worker burnt 0.3 s of CPU: {alive}");

    // Its lock is gone, so it is no longer live; its CPU is not yet in the master's.
    worker.kill_unreaped();
    let unreaped = registry.render(Format::Text);
    assert_eq!(sample(&unreaped, "process_live_workers"), Some(0.0), "{unreaped}");
    assert!(
        cpu(&unreaped) >= cpu(&alive),
        "the dead worker took CPU back: {} then {}",
        cpu(&alive),
        cpu(&unreaped)
    );

    worker.reap_killed();
    let reaped = registry.render(Format::Text);
    assert!(cpu(&reaped) >= cpu(&unreaped), "{reaped}");
    assert!(
        cpu(&reaped) - cpu(&alive) < 0.25,
        "the reaped worker's CPU is counted once, not twice: {} then {}",
        cpu(&alive),
        cpu(&reaped)
    );
}
