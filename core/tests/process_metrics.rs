//! Process metrics from `/proc`: of the process in a single-process registry; of the whole
//! server (the master and its live workers) in a multi-process one, with workers forked,
//! killed and finished while the master scrapes.
#![cfg(target_os = "linux")]

mod mp;

use gds_metrics::{process, Format, MultiProcess, Opts, Registry};
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

/// Burns about `millis` of CPU time in this process.
fn burn_cpu(millis: u64) {
    let until = std::time::Instant::now() + std::time::Duration::from_millis(millis);
    let mut x = 0u64;
    while std::time::Instant::now() < until {
        x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
    }
}

#[test]
fn a_single_process_exports_its_own_metrics_with_the_client_names() {
    let registry = Registry::new();
    process::register(&registry).unwrap();
    let text = registry.render(Format::Text);
    for family in [
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_virtual_memory_bytes",
        "process_open_fds",
        "process_start_time_seconds",
    ] {
        assert!(sample(&text, family).is_some_and(|v| v > 0.0), "{family} in\n{text}");
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
                burn_cpu(150);
            })
        })
        .collect();
    workers.iter().for_each(|w| w.wait_ready());
    let text = registry.render(Format::Text);
    assert_eq!(sample(&text, "process_live_workers"), Some(3.0), "{text}");
    assert_eq!(sample(&text, "process_start_time_seconds"), Some(start_time));
    let own_fds = sample(&master_text, "process_open_fds").unwrap();
    assert!(sample(&text, "process_open_fds").unwrap() > own_fds, "{text}");
    let mut cpu = sample(&text, "process_cpu_seconds_total").unwrap();
    assert!(cpu >= 0.3, "three workers burnt about 0.45 s of CPU: {cpu}");

    // A worker answering the scrape sees the same server: its master and every worker.
    let observer = fork_worker(|| {
        work.get().unwrap().inc();
        let text = registry.render(Format::Text);
        assert_eq!(sample(&text, "process_live_workers"), Some(4.0), "{text}");
        assert_eq!(sample(&text, "process_start_time_seconds"), Some(start_time));
    });
    observer.wait_ready();
    observer.finish();

    let mut workers = workers.into_iter();
    workers.next().unwrap().kill();
    let text = registry.render(Format::Text);
    assert_eq!(sample(&text, "process_live_workers"), Some(2.0), "{text}");
    let after_kill = sample(&text, "process_cpu_seconds_total").unwrap();
    assert!(after_kill >= cpu, "a killed worker took the CPU back from {cpu} to {after_kill}");
    cpu = after_kill;

    workers.for_each(mp::Worker::finish);
    let text = registry.render(Format::Text);
    assert_eq!(sample(&text, "process_live_workers"), Some(0.0), "{text}");
    let after_exit = sample(&text, "process_cpu_seconds_total").unwrap();
    assert!(after_exit >= cpu, "exited workers took the CPU back from {cpu} to {after_exit}");
    assert_eq!(sample(&text, "work_total"), Some(4.0));
}
