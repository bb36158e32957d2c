//! Workers that are killed, come and go by the thousand, race scrapes, or leave junk
//! behind: totals stay exact and monotonic, files stay bounded, scrapes stay valid.

use crate::mp;

use gds_metrics::{Format, MultiProcess, Opts, Registry};
use mp::{entries, fork_worker, process_files, run_worker, sample, serial, TempDir};

#[test]
fn killed_workers_lose_nothing_they_completed() {
    let _serial = serial();
    let dir = TempDir::new("sigkill");
    let registry = Registry::multiprocess(MultiProcess::open(dir.path()).unwrap());
    let done = registry.counter(Opts::new("done", "Finished work.")).unwrap();
    let stream = registry.counter(Opts::new("stream", "Work in flight.")).unwrap();
    let seconds = registry
        .histogram(Opts::new("work_seconds", "Work time."), Some(&[0.5]))
        .unwrap();

    let workers: Vec<_> = (0..3)
        .map(|_| {
            fork_worker(|| {
                (0..1000).for_each(|_| done.get().unwrap().inc());
                (0..10).for_each(|_| seconds.get().unwrap().observe(0.25).unwrap());
                // Reports ready first (see `fork_worker`), so the worker is
                // incrementing when it is killed.
                std::thread::spawn({
                    let stream = stream.get().unwrap();
                    move || loop {
                        stream.inc();
                    }
                });
            })
        })
        .collect();
    workers.iter().for_each(|w| w.wait_ready());

    let mut last_stream = 0.0;
    for worker in workers {
        let before = sample(&registry.render(Format::Text), "stream_total").unwrap();
        assert!(
            before >= last_stream,
            "stream went back from {last_stream} to {before}"
        );
        worker.kill();
        let text = registry.render(Format::Text);
        let after = sample(&text, "stream_total").unwrap();
        assert!(
            after >= before,
            "a kill took stream back from {before} to {after}"
        );
        assert_eq!(sample(&text, "done_total"), Some(3000.0));
        assert_eq!(sample(&text, "work_seconds_count"), Some(30.0));
        last_stream = after;
    }
    let text = registry.render(Format::Text);
    assert_eq!(sample(&text, "done_total"), Some(3000.0));
    assert_eq!(sample(&text, "work_seconds_bucket{le=\"0.5\"}"), Some(30.0));
    assert_eq!(sample(&text, "work_seconds_sum"), Some(7.5));
    assert_eq!(sample(&text, "stream_total"), Some(last_stream));
    assert_eq!(process_files(dir.path()), 1);
}

#[test]
fn a_thousand_short_lived_workers_leave_bounded_files_and_exact_totals() {
    let _serial = serial();
    let dir = TempDir::new("churn");
    let store = MultiProcess::open(dir.path()).unwrap();
    let registry = Registry::multiprocess(store.clone());
    let requests = registry
        .counter(Opts::new("requests", "Requests.").labels(["code"]))
        .unwrap();
    let seconds = registry
        .histogram(Opts::new("request_seconds", "Time."), Some(&[0.1, 1.0]))
        .unwrap();
    requests.labels(&["200"]).unwrap().inc();

    for i in 0..1000u32 {
        let code = run_worker(|| {
            requests.labels(&["200"]).unwrap().inc_by(2);
            requests.labels(&[format!("{}", 500 + i % 2)]).unwrap().inc();
            seconds.get().unwrap().observe(0.5).unwrap();
        });
        assert_eq!(code, 0);
        // What a gunicorn master does in `child_exit`, every few exits.
        if i % 10 == 9 {
            store.fold_dead().unwrap();
        }
        assert!(process_files(dir.path()) <= 1 + 10, "files pile up at worker {i}");
    }

    let text = registry.render(Format::Text);
    assert_eq!(sample(&text, "requests_total{code=\"200\"}"), Some(2001.0));
    assert_eq!(sample(&text, "requests_total{code=\"500\"}"), Some(500.0));
    assert_eq!(sample(&text, "requests_total{code=\"501\"}"), Some(500.0));
    assert_eq!(sample(&text, "request_seconds_bucket{le=\"0.1\"}"), Some(0.0));
    assert_eq!(sample(&text, "request_seconds_bucket{le=\"1.0\"}"), Some(1000.0));
    assert_eq!(sample(&text, "request_seconds_sum"), Some(500.0));
    let own = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("proc-")
        })
        .count();
    assert_eq!(own, 1);
    assert_eq!(
        entries(dir.path()).len(),
        3,
        "own file, archive and its lock: {:?}",
        entries(dir.path())
    );
}

/// Checks one text exposition: every histogram's buckets rise, `+Inf` equals `_count`,
/// and every line is a comment or `name{labels} value`. Returns the `+Inf` count.
fn check_consistent(text: &str, histogram: &str) -> f64 {
    let mut previous = 0.0;
    let mut inf = None;
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("a sample line");
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value in {line:?}")),
        };
        if let Some(le) = series.strip_prefix(&format!("{histogram}_bucket{{le=\"")) {
            assert!(value >= previous, "buckets fall in\n{text}");
            previous = value;
            if le == "+Inf\"}" {
                inf = Some(value);
            }
        }
    }
    let inf = inf.expect("a +Inf bucket");
    assert_eq!(sample(text, &format!("{histogram}_count")), Some(inf), "{text}");
    inf
}

#[test]
fn scrapes_while_workers_write_are_consistent_and_monotonic() {
    let _serial = serial();
    let dir = TempDir::new("race");
    let registry = Registry::multiprocess(MultiProcess::open(dir.path()).unwrap());
    let latency = registry
        .histogram(Opts::new("latency", "Latency."), Some(&[1.0, 2.0, 3.0]))
        .unwrap();
    let hits = registry
        .counter(Opts::new("hits", "Hits.").labels(["w"]))
        .unwrap();

    const PER_WORKER: u32 = 20_000;
    let workers: Vec<_> = (0..3)
        .map(|w| {
            let (latency, hits) = (latency.clone(), hits.clone());
            std::thread::spawn(move || {
                // Each worker adds series while it writes, so its file grows under
                // the scrapes.
                run_worker(|| {
                    let h = latency.get().unwrap();
                    for i in 0..PER_WORKER {
                        h.observe(f64::from(i % 4)).unwrap();
                        hits.labels(&[format!("{w}-{}", i % 50)]).unwrap().inc();
                    }
                })
            })
        })
        .collect();

    let mut last = 0.0;
    while !workers.iter().all(|w| w.is_finished()) {
        let count = check_consistent(&registry.render(Format::Text), "latency");
        assert!(count >= last, "count went back from {last} to {count}");
        last = count;
    }
    workers.into_iter().for_each(|w| assert_eq!(w.join().unwrap(), 0));
    let text = registry.render(Format::Text);
    assert_eq!(check_consistent(&text, "latency"), f64::from(3 * PER_WORKER));
    assert_eq!(
        sample(&text, "hits_total{w=\"1-7\"}"),
        Some(f64::from(PER_WORKER / 50))
    );
}

#[test]
fn garbage_truncated_and_foreign_files_are_ignored_with_a_warning() {
    let _serial = serial();
    let dir = TempDir::new("junk");
    let store = MultiProcess::open(dir.path()).unwrap();
    let registry = Registry::multiprocess(store.clone());
    let jobs = registry.counter(Opts::new("jobs", "Jobs.")).unwrap();
    jobs.get().unwrap().inc_by(7);
    assert_eq!(run_worker(|| jobs.get().unwrap().inc_by(3)), 0);
    let clean = registry.render(Format::OpenMetrics);

    let own = entries(dir.path())
        .into_iter()
        .find(|n| n.starts_with("proc-"))
        .unwrap();
    let real = std::fs::read(dir.path().join(&own)).unwrap();
    let junk: [(&str, Vec<u8>); 5] = [
        ("counter_1234.db", vec![0xAB; 4096]),
        (
            "proc-1-00000000deadbeef.gdsm",
            b"not a metrics file at all".repeat(20),
        ),
        ("proc-2-00000000deadbeef.gdsm", real[..40].to_vec()),
        ("proc-3-00000000deadbeef.gdsm", real[..100].to_vec()),
        ("proc-4-00000000deadbeef.gdsm", {
            let mut v = real.clone();
            v[8] = 99; // another format version
            v
        }),
    ];
    for (name, bytes) in &junk {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }

    assert_eq!(registry.render(Format::OpenMetrics), clean);
    assert_eq!(sample(&clean, "jobs_total"), Some(10.0));
    let warnings = store.warnings().join("\n");
    for (name, _) in &junk {
        assert!(warnings.contains(name), "no warning for {name} in:\n{warnings}");
    }
    assert!(warnings.contains("wrong magic"), "{warnings}");
    assert!(warnings.contains("unsupported file version"), "{warnings}");
    assert!(warnings.contains("truncated"), "{warnings}");
    assert!(
        dir.path().join("counter_1234.db").exists(),
        "foreign files are left alone"
    );
}

#[test]
fn a_file_named_after_a_live_pid_is_still_folded_when_unlocked() {
    let _serial = serial();
    let dir = TempDir::new("pid-reuse");
    let registry = Registry::multiprocess(MultiProcess::open(dir.path()).unwrap());
    let jobs = registry.counter(Opts::new("jobs", "Jobs.")).unwrap();
    let before = entries(dir.path());
    // A worker that dies without anyone folding its file ...
    let worker = fork_worker(|| jobs.get().unwrap().inc_by(4));
    worker.wait_ready();
    let file = entries(dir.path())
        .into_iter()
        .find(|n| !before.contains(n))
        .unwrap();
    worker.kill();
    // ... whose pid is then reused by a live process (this one).
    let reused = format!("proc-{}-00000000000000ff.gdsm", std::process::id());
    std::fs::rename(dir.path().join(&file), dir.path().join(&reused)).unwrap();

    let text = registry.render(Format::Text);
    assert_eq!(sample(&text, "jobs_total"), Some(4.0));
    assert!(
        !dir.path().join(&reused).exists(),
        "an unlocked file is dead whatever its pid"
    );
    assert_eq!(sample(&registry.render(Format::Text), "jobs_total"), Some(4.0));
}
