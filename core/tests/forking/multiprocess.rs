//! Multi-process aggregation across real forked processes.
//!
//! Each test forks workers from the test process itself (`libc::fork`); a worker updates
//! metrics it inherited, reports through a pipe, and leaves with `_exit`.

use crate::mp;

use gds_metrics::{Format, GaugeMode, MultiProcess, Opts, Registry};
use mp::{fork_worker, process_files, sample, serial, TempDir};

#[test]
fn forked_workers_are_summed_exactly() {
    let _serial = serial();
    let dir = TempDir::new("sum");
    let registry = Registry::multiprocess(MultiProcess::open(dir.path()).unwrap());
    let jobs = registry
        .counter(Opts::new("jobs", "Jobs.").labels(["queue"]))
        .unwrap();
    let latency = registry
        .histogram(Opts::new("latency_seconds", "Latency."), Some(&[1.0, 2.0]))
        .unwrap();
    let sizes = registry.summary(Opts::new("sizes", "Sizes.")).unwrap();
    let busy = registry
        .gauge_with_mode(Opts::new("busy", "Busy workers."), GaugeMode::LiveSum)
        .unwrap();
    jobs.labels(&["email"]).unwrap().inc_by(5);

    let workers: Vec<_> = (0..4)
        .map(|w| {
            fork_worker(|| {
                for i in 0..1000 {
                    jobs.labels(&["email"]).unwrap().inc();
                    jobs.labels(&["sms"]).unwrap().inc_by_f64(0.5).unwrap();
                    latency.get().unwrap().observe(f64::from(i % 3)).unwrap();
                    sizes.get().unwrap().observe(2.0).unwrap();
                }
                busy.get().unwrap().set(f64::from(w + 1));
            })
        })
        .collect();
    workers.iter().for_each(|w| w.wait_ready());

    let text = registry.render(Format::Text);
    assert_eq!(sample(&text, "jobs_total{queue=\"email\"}"), Some(4005.0));
    assert_eq!(sample(&text, "jobs_total{queue=\"sms\"}"), Some(2000.0));
    assert_eq!(sample(&text, "latency_seconds_bucket{le=\"1.0\"}"), Some(2668.0));
    assert_eq!(sample(&text, "latency_seconds_bucket{le=\"2.0\"}"), Some(4000.0));
    assert_eq!(sample(&text, "latency_seconds_bucket{le=\"+Inf\"}"), Some(4000.0));
    assert_eq!(sample(&text, "latency_seconds_count"), Some(4000.0));
    assert_eq!(sample(&text, "latency_seconds_sum"), Some(3996.0));
    assert_eq!(sample(&text, "sizes_count"), Some(4000.0));
    assert_eq!(sample(&text, "sizes_sum"), Some(8000.0));
    assert_eq!(sample(&text, "busy"), Some(1.0 + 2.0 + 3.0 + 4.0));
    let own = jobs.labels(&["email"]).unwrap().get();
    assert_eq!(own, 5.0, "workers never write into the parent's file");

    workers.into_iter().for_each(|w| w.finish());
    let text = registry.render(Format::Text);
    assert_eq!(sample(&text, "jobs_total{queue=\"email\"}"), Some(4005.0));
    assert_eq!(sample(&text, "latency_seconds_count"), Some(4000.0));
    assert_eq!(sample(&text, "sizes_sum"), Some(8000.0));
    assert_eq!(
        sample(&text, "busy"),
        Some(0.0),
        "live gauges drop exited workers"
    );
    assert_eq!(
        process_files(dir.path()),
        1,
        "exited workers' files are folded away"
    );
}

#[test]
fn gauge_modes_combine_as_named() {
    let _serial = serial();
    let dir = TempDir::new("modes");
    let registry = Registry::multiprocess(MultiProcess::open(dir.path()).unwrap());
    let gauge = |name: &str, mode| {
        registry
            .gauge_with_mode(Opts::new(name, "Gauge."), mode)
            .unwrap()
            .get()
            .unwrap()
    };
    let (all, sum, min, max, recent) = (
        gauge("g_all", GaugeMode::All),
        gauge("g_sum", GaugeMode::Sum),
        gauge("g_min", GaugeMode::Min),
        gauge("g_max", GaugeMode::Max),
        gauge("g_recent", GaugeMode::MostRecent),
    );
    let live_max = gauge("g_livemax", GaugeMode::LiveMax);
    for g in [&all, &sum, &min, &max, &recent, &live_max] {
        g.set(10.0);
    }
    let mut pids = Vec::new();
    for v in [3.0, 30.0] {
        let worker = fork_worker(|| {
            for g in [&all, &sum, &min, &max, &recent, &live_max] {
                g.set(v);
            }
        });
        worker.wait_ready();
        pids.push(worker.pid());
        worker.finish();
    }
    let text = registry.render(Format::Text);
    let me = std::process::id();
    assert_eq!(sample(&text, &format!("g_all{{pid=\"{me}\"}}")), Some(10.0));
    assert_eq!(sample(&text, &format!("g_all{{pid=\"{}\"}}", pids[0])), Some(3.0));
    assert_eq!(
        sample(&text, &format!("g_all{{pid=\"{}\"}}", pids[1])),
        Some(30.0)
    );
    assert_eq!(sample(&text, "g_sum"), Some(43.0));
    assert_eq!(sample(&text, "g_min"), Some(3.0));
    assert_eq!(sample(&text, "g_max"), Some(30.0));
    assert_eq!(sample(&text, "g_recent"), Some(30.0));
    assert_eq!(
        sample(&text, "g_livemax"),
        Some(10.0),
        "exited workers are left out"
    );
}

#[test]
fn a_pid_label_clashes_with_per_process_gauges() {
    let _serial = serial();
    let dir = TempDir::new("pid-label");
    let registry = Registry::multiprocess(MultiProcess::open(dir.path()).unwrap());
    let err = registry
        .gauge_with_mode(Opts::new("g", "h").labels(["pid"]), GaugeMode::All)
        .unwrap_err();
    assert!(
        err.to_string().contains("add the `pid` label themselves"),
        "{err}"
    );
    assert!(registry
        .gauge_with_mode(Opts::new("g", "h").labels(["pid"]), GaugeMode::Sum)
        .is_ok());
}

#[test]
fn an_unusable_directory_is_a_clear_error() {
    let _serial = serial();
    let dir = TempDir::new("unusable");
    std::fs::create_dir_all(dir.path()).unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let err = MultiProcess::open(&file.join("sub")).unwrap_err().to_string();
    assert!(err.starts_with("multi-process directory `"), "{err}");
    assert!(err.contains("PROMETHEUS_MULTIPROC_DIR"), "{err}");
}

#[test]
fn the_aggregate_renders_exactly_like_single_process_mode() {
    let _serial = serial();
    let dir = TempDir::new("same-output");
    let fill = |registry: &Registry| {
        let a = registry.counter(Opts::new("a_events", "Events \"quoted\".").labels(["kind"]));
        a.unwrap().labels(&["x\ny"]).unwrap().inc_by_f64(2.5).unwrap();
        let b = registry
            .info(Opts::new("b_build", "Build.").labels(["version"]))
            .unwrap();
        b.labels(&["1.2.3"]).unwrap();
        let c = registry.gauge_with_mode(Opts::new("c_temp_celsius", "T.").unit("celsius"), GaugeMode::Max);
        c.unwrap().get().unwrap().set(-4.25);
        let d = registry
            .histogram(Opts::new("d_seconds", "D."), Some(&[0.5, 1.0]))
            .unwrap();
        [0.1, 0.7, 3.0]
            .iter()
            .for_each(|v| d.get().unwrap().observe(*v).unwrap());
        let e = registry.summary(Opts::new("e_bytes", "E.")).unwrap();
        e.get().unwrap().observe(10.0).unwrap();
        registry
            .counter(Opts::new("f_unused", "Never used.").labels(["x"]))
            .unwrap();
    };
    let memory = Registry::new();
    fill(&memory);
    let shared = Registry::multiprocess(MultiProcess::open(dir.path()).unwrap());
    fill(&shared);
    for format in [Format::Text, Format::OpenMetrics] {
        assert_eq!(shared.render(format), memory.render(format));
    }
}

#[test]
fn grandchildren_of_a_forked_worker_are_counted_once_each() {
    let _serial = serial();
    let dir = TempDir::new("grandchildren");
    let registry = Registry::multiprocess(MultiProcess::open(dir.path()).unwrap());
    let jobs = registry.counter(Opts::new("jobs", "Jobs.")).unwrap();
    jobs.get().unwrap().inc();
    let code = mp::run_worker(|| {
        jobs.get().unwrap().inc_by(10);
        assert_eq!(mp::run_worker(|| jobs.get().unwrap().inc_by(100)), 0);
        assert_eq!(
            jobs.get().unwrap().get(),
            10.0,
            "the grandchild wrote into its parent's file"
        );
    });
    assert_eq!(code, 0);
    assert_eq!(sample(&registry.render(Format::Text), "jobs_total"), Some(111.0));
}

#[test]
fn a_child_that_cannot_create_its_file_still_never_writes_into_its_parents() {
    let _serial = serial();
    let dir = TempDir::new("no-child-file");
    let registry = Registry::multiprocess(MultiProcess::open(dir.path()).unwrap());
    let jobs = registry.counter(Opts::new("jobs", "Jobs.")).unwrap();
    jobs.get().unwrap().inc();
    // The directory is gone when the worker forks, so it cannot create a file there.
    let moved = dir.path().with_extension("moved");
    std::fs::rename(dir.path(), &moved).unwrap();
    let code = mp::run_worker(|| jobs.get().unwrap().inc_by(100));
    std::fs::rename(&moved, dir.path()).unwrap();
    assert_eq!(code, 0);
    assert_eq!(sample(&registry.render(Format::Text), "jobs_total"), Some(1.0));
}

/// Native buckets of every worker, live or folded, at whatever schema each ended on,
/// are summed per bucket index at the coarsest schema among them.
#[test]
fn native_histograms_of_all_workers_aggregate_into_one_scrape() {
    use gds_metrics::exposition::proto::decode_delimited;
    use gds_metrics::{Escaping, NativeBuckets};
    let _serial = serial();
    let dir = TempDir::new("native");
    let registry = Registry::multiprocess(MultiProcess::open(dir.path()).unwrap());
    let rpc = registry
        .native_histogram(
            Opts::new("rpc_seconds", "RPC time."),
            NativeBuckets::new().schema(2).max_buckets(8),
            Some(&[1.0]),
        )
        .unwrap();
    rpc.get().unwrap().observe(1.0).unwrap();
    // Worker 0 observes values that fit schema 2; worker 1 spreads wide enough to drop
    // to a lower schema. Both also hit the zero bucket and a negative value.
    let spread = |wide: bool| {
        let rpc = rpc.clone();
        move || {
            let h = rpc.get().unwrap();
            for i in 0..100 {
                let v = if wide {
                    2f64.powi(i % 20)
                } else {
                    1.0 + f64::from(i % 4) * 0.1
                };
                h.observe(v).unwrap();
            }
            h.observe(0.0).unwrap();
            h.observe(-3.0).unwrap();
        }
    };
    let live = fork_worker(spread(false));
    live.wait_ready();
    let folded = fork_worker(spread(true));
    folded.wait_ready();
    folded.finish();

    let mut body = Vec::new();
    registry.encode_with(Format::Protobuf, Escaping::Underscores, &mut body);
    let text = registry.render(Format::Text);
    live.finish();
    let families = decode_delimited(&body).unwrap();
    let h = families[0].metric[0].histogram.as_ref().unwrap();
    assert_eq!(h.sample_count, Some(1 + 2 * 102));
    let schema = h.schema.unwrap();
    assert!(schema < 2, "the wide worker's lower schema wins: {schema}");
    assert_eq!(h.zero_count, Some(2));
    let positive: i64 = h
        .positive_delta
        .iter()
        .scan(0, |c, d| {
            *c += d;
            Some(*c)
        })
        .sum();
    let negative: i64 = h
        .negative_delta
        .iter()
        .scan(0, |c, d| {
            *c += d;
            Some(*c)
        })
        .sum();
    assert_eq!((positive, negative), (201, 2), "every observation in one bucket");
    assert_eq!(sample(&text, "rpc_seconds_count"), Some(205.0));
    // At most 1.0: the parent's 1.0, the narrow worker's 25 of 1.0, the wide worker's 5
    // of 2^0, and each worker's 0.0 and -3.0.
    assert_eq!(
        sample(&text, "rpc_seconds_bucket{le=\"1.0\"}"),
        Some(1.0 + 25.0 + 5.0 + 4.0)
    );
}

/// Exemplars of families declared `exemplars_across_processes` reach the aggregate from
/// live and folded workers: per bucket the newest wins.
#[test]
fn the_newest_exemplar_per_bucket_of_any_worker_is_shown() {
    let _serial = serial();
    let dir = TempDir::new("exemplars");
    let registry = Registry::multiprocess(MultiProcess::open(dir.path()).unwrap());
    let jobs = registry
        .counter(Opts::new("jobs", "Jobs.").exemplars_across_processes(true))
        .unwrap();
    let latency = registry
        .histogram(
            Opts::new("latency_seconds", "Latency.").exemplars_across_processes(true),
            Some(&[1.0, 2.0]),
        )
        .unwrap();
    let record = |trace: &'static str, v: f64| {
        let (jobs, latency) = (jobs.clone(), latency.clone());
        move || {
            jobs.get()
                .unwrap()
                .inc_with_exemplar(1.0, &[("trace_id", trace)])
                .unwrap();
            latency
                .get()
                .unwrap()
                .observe_with_exemplar(v, &[("trace_id", trace)])
                .unwrap();
        }
    };
    let folded = fork_worker(record("old-low", 0.5));
    folded.wait_ready();
    folded.finish();
    std::thread::sleep(std::time::Duration::from_millis(5)); // a later timestamp
    let live_low = fork_worker(record("new-low", 0.7));
    live_low.wait_ready();
    let live_high = fork_worker(record("high", 1.5));
    live_high.wait_ready();

    let om = registry.render(Format::OpenMetrics);
    let text = registry.render(Format::Text);
    live_low.finish();
    live_high.finish();
    assert_eq!(sample(&text, "jobs_total"), Some(3.0), "{text}");
    assert!(
        om.contains("latency_seconds_bucket{le=\"1.0\"} 2.0 # {trace_id=\"new-low\"} 0.7 "),
        "{om}"
    );
    assert!(
        om.contains("latency_seconds_bucket{le=\"2.0\"} 3.0 # {trace_id=\"high\"} 1.5 "),
        "{om}"
    );
    let counter_line = om.lines().find(|l| l.starts_with("jobs_total")).unwrap();
    assert!(counter_line.contains("# {trace_id=\""), "{counter_line}");
    assert!(
        !counter_line.contains("old-low"),
        "the folded worker's exemplar is older: {counter_line}"
    );
}

/// Scrapes keep the files they read mapped and matched for the next scrape; each change
/// between two scrapes (values, new series, a new family, a new worker, an exited one) must
/// still show exactly.
#[test]
fn every_change_between_scrapes_shows_in_the_next() {
    let _serial = serial();
    let dir = TempDir::new("rescrape");
    let registry = Registry::multiprocess(MultiProcess::open(dir.path()).unwrap());
    let jobs = registry
        .counter(Opts::new("jobs", "Jobs.").labels(["queue"]))
        .unwrap();
    let busy = registry
        .gauge_with_mode(Opts::new("busy", "Busy."), GaugeMode::All)
        .unwrap();
    jobs.labels(&["a"]).unwrap().inc_by(1);
    let first = fork_worker(|| jobs.labels(&["a"]).unwrap().inc_by(10));
    first.wait_ready();
    let text = registry.render(Format::Text);
    assert_eq!(sample(&text, "jobs_total{queue=\"a\"}"), Some(11.0));

    jobs.labels(&["a"]).unwrap().inc_by(100);
    let text = registry.render(Format::Text);
    assert_eq!(
        sample(&text, "jobs_total{queue=\"a\"}"),
        Some(111.0),
        "values are read again"
    );

    jobs.labels(&["b"]).unwrap().inc_by(2);
    let text = registry.render(Format::Text);
    assert_eq!(
        sample(&text, "jobs_total{queue=\"b\"}"),
        Some(2.0),
        "a series added since"
    );
    assert_eq!(sample(&text, "jobs_total{queue=\"a\"}"), Some(111.0));

    busy.get().unwrap().set(3.0);
    let text = registry.render(Format::Text);
    let own = format!("busy{{pid=\"{}\"}}", std::process::id());
    assert_eq!(sample(&text, &own), Some(3.0), "a family added since");

    let second = fork_worker(|| {
        jobs.labels(&["b"]).unwrap().inc_by(1000);
        busy.get().unwrap().set(7.0);
    });
    second.wait_ready();
    let text = registry.render(Format::Text);
    assert_eq!(
        sample(&text, "jobs_total{queue=\"b\"}"),
        Some(1002.0),
        "a worker started since"
    );
    assert_eq!(
        sample(&text, &format!("busy{{pid=\"{}\"}}", second.pid())),
        Some(7.0)
    );

    first.finish();
    let text = registry.render(Format::Text);
    assert_eq!(
        sample(&text, "jobs_total{queue=\"a\"}"),
        Some(111.0),
        "folded, counted once"
    );
    jobs.labels(&["a"]).unwrap().inc_by(1000);
    let text = registry.render(Format::Text);
    assert_eq!(
        sample(&text, "jobs_total{queue=\"a\"}"),
        Some(1111.0),
        "read from the archive"
    );
    assert_eq!(sample(&text, "jobs_total{queue=\"b\"}"), Some(1002.0));

    second.kill();
    let text = registry.render(Format::Text);
    assert_eq!(
        sample(&text, "jobs_total{queue=\"b\"}"),
        Some(1002.0),
        "a killed worker's counts stay"
    );
    assert_eq!(
        process_files(dir.path()),
        1,
        "exited workers' files are folded away"
    );
}

/// Under gunicorn or puma a worker records the request: its duration's native buckets and
/// trace reach the aggregate any process renders, as one native histogram carrying the
/// trace in protobuf.
#[test]
fn a_workers_traced_request_reaches_the_aggregate_native_histogram() {
    use gds_metrics::exposition::proto::decode_delimited;
    use gds_metrics::{Config, Endpoint, Escaping, FinishedRequest, Route};
    let _serial = serial();
    let dir = TempDir::new("request-native");
    let registry = std::sync::Arc::new(Registry::multiprocess(MultiProcess::open(dir.path()).unwrap()));
    let config = Config::builder().build_with_env(|_| None).unwrap();
    let endpoint = Endpoint::new(config, registry.clone()).unwrap();
    let worker = fork_worker(|| {
        endpoint.record(&FinishedRequest {
            method: "GET",
            host: b"app.example",
            raw_path: "/",
            route: Route::Template("/"),
            status: 200,
            seconds: 0.01,
            exception: None,
            traceparent: b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        });
    });
    worker.wait_ready();
    let mut body = Vec::new();
    registry.encode_with(Format::Protobuf, Escaping::Underscores, &mut body);
    worker.finish();
    let families = decode_delimited(&body).unwrap();
    let durations = families
        .iter()
        .find(|f| f.name.as_deref() == Some("http_server_request_duration_seconds"))
        .unwrap();
    let histogram = durations.metric[0].histogram.as_ref().unwrap();
    assert_eq!((histogram.schema, histogram.sample_count), (Some(5), Some(1)));
    assert_eq!(
        (
            histogram.positive_span[0].offset,
            histogram.positive_delta.as_slice()
        ),
        (Some(-212), &[1][..]),
        "0.01 s in bucket -212 of schema 5"
    );
    let traces: Vec<(&str, f64)> = histogram
        .exemplars
        .iter()
        .map(|e| (e.label[0].value.as_deref().unwrap(), e.value.unwrap()))
        .collect();
    assert_eq!(traces, [("4bf92f3577b34da6a3ce929d0e0e4736", 0.01)]);
}
