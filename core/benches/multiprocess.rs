//! Multi-process mode against in-memory mode, in the same run:
//!
//! - the cost of one update (counter, labelled counter, histogram, gauge) when it lands in
//!   the mapped file instead of process memory (goal: within 2x);
//! - a scrape of a directory with 8 live workers and 0, 50 or 200 exited ones, 1,000
//!   series each: the first scrape after the exits (which folds them), the steady scrape,
//!   the output size and the files left (goal: flat in the number of exited workers).
//!
//! The scrape also runs against the peer, `prometheus_client`'s multi-process mode, on the
//! same workload (`multiprocess_peer.py`, run with the Python named by
//! `GDS_MP_PEER_PYTHON`; `make bench-multiprocess` provides one with the package).
//!
//! Update samples of the two sides alternate, so load on a shared machine hits both
//! alike. Writes `.build/bench/multiprocess.md`. Run with `make bench-multiprocess`.

use gds_metrics::{Counter, Family, Format, Gauge, GaugeMode, Histogram, MultiProcess, Opts, Registry};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

const SAMPLES: usize = 21;
/// Steady scrapes timed per directory (each side).
const SCRAPE_SAMPLES: usize = 11;

/// Median nanoseconds per call of `a` and of `b`, over alternating samples of
/// `iterations` calls each.
fn paired_median_ns(iterations: u32, mut a: impl FnMut(u32), mut b: impl FnMut(u32)) -> (f64, f64) {
    let time = |f: &mut dyn FnMut(u32)| {
        let start = Instant::now();
        (0..iterations).for_each(&mut *f);
        start.elapsed().as_nanos() as f64 / f64::from(iterations)
    };
    time(&mut a);
    time(&mut b);
    let (mut sa, mut sb): (Vec<f64>, Vec<f64>) = (0..SAMPLES).map(|_| (time(&mut a), time(&mut b))).unzip();
    (median(&mut sa), median(&mut sb))
}

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// The metrics one side updates.
struct Side {
    counter: Counter,
    labelled: Family<Counter>,
    histogram: Histogram,
    gauge: Gauge,
    recent: Gauge,
}

impl Side {
    fn on(registry: &Registry) -> Side {
        Side {
            counter: registry.counter(Opts::new("c", "h")).unwrap().get().unwrap(),
            labelled: registry
                .counter(Opts::new("l", "h").labels(["method", "path", "code"]))
                .unwrap(),
            histogram: registry
                .histogram(Opts::new("h", "h"), None)
                .unwrap()
                .get()
                .unwrap(),
            gauge: registry
                .gauge_with_mode(Opts::new("g", "h"), GaugeMode::LiveSum)
                .unwrap()
                .get()
                .unwrap(),
            recent: registry
                .gauge_with_mode(Opts::new("r", "h"), GaugeMode::MostRecent)
                .unwrap()
                .get()
                .unwrap(),
        }
    }
}

struct Row {
    case: String,
    memory_ns: f64,
    mp_ns: f64,
}

const PATHS: [&str; 8] = [
    "/",
    "/users",
    "/users/<id>",
    "/orders",
    "/orders/<id>",
    "/search",
    "/login",
    "/health",
];
const CODES: [&str; 3] = ["200", "404", "500"];

fn increments(dir: &Path) -> Vec<Row> {
    let memory_registry = Registry::new();
    let memory = Side::on(&memory_registry);
    let mp_registry = Registry::multiprocess(MultiProcess::open(dir).unwrap());
    let mp = Side::on(&mp_registry);
    let mut rows = Vec::new();
    let mut row = |case: &str, f: &dyn Fn(&Side, u32)| {
        let (memory_ns, mp_ns) = paired_median_ns(1_000_000, |i| f(&memory, i), |i| f(&mp, i));
        rows.push(Row {
            case: case.to_owned(),
            memory_ns,
            mp_ns,
        });
    };
    row("`Counter::inc` on a kept handle", &|s, _| {
        black_box(&s.counter).inc()
    });
    row("labelled counter, 24 series, lookup + `inc`", &|s, i| {
        let path = PATHS[i as usize % PATHS.len()];
        let code = CODES[(i as usize / PATHS.len()) % CODES.len()];
        s.labelled.with(&["GET", path, code], |c| c.inc()).unwrap();
    });
    row("`Histogram::observe`, 14 buckets", &|s, i| {
        s.histogram.observe(f64::from(i % 1000) / 500.0).unwrap()
    });
    row("`Gauge::set` (`livesum`)", &|s, i| s.gauge.set(f64::from(i)));
    row("`Gauge::set` (`mostrecent`, stamps the time)", &|s, i| {
        s.recent.set(f64::from(i))
    });
    rows
}

/// 1,000 series: 600 counters, 300 `livesum` gauges, 100 histograms (default buckets).
struct Workload {
    counters: Family<Counter>,
    gauges: Family<Gauge>,
    histograms: Family<Histogram>,
}

impl Workload {
    fn on(registry: &Registry) -> Workload {
        let labels = ["route"];
        Workload {
            counters: registry
                .counter(Opts::new("requests", "Requests.").labels(labels))
                .unwrap(),
            gauges: registry
                .gauge_with_mode(
                    Opts::new("in_flight", "In flight.").labels(labels),
                    GaugeMode::LiveSum,
                )
                .unwrap(),
            histograms: registry
                .histogram(Opts::new("latency_seconds", "Latency.").labels(labels), None)
                .unwrap(),
        }
    }

    fn run(&self, seed: u32) {
        for i in 0..600u32 {
            self.counters
                .with(&[format!("/r/{i}")], |c| c.inc_by(u64::from(seed % 7 + 1)))
                .unwrap();
        }
        for i in 0..300u32 {
            self.gauges
                .with(&[format!("/r/{i}")], |g| g.set(f64::from(seed % 5)))
                .unwrap();
        }
        for i in 0..100u32 {
            self.histograms
                .with(&[format!("/r/{i}")], |h| {
                    h.observe(f64::from(seed % 100) / 100.0).unwrap()
                })
                .unwrap();
        }
    }
}

/// Forks a worker that runs the workload; it exits at once (`linger` false) or stays
/// alive until killed. Returns its pid.
fn fork_worker(workload: &Workload, seed: u32, linger: bool) -> libc::pid_t {
    let mut fds = [0; 2];
    // SAFETY: a libc call on descriptors, pids and buffers this test owns.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let [ready_r, ready_w] = fds;
    // SAFETY: the bench is single-threaded; the child runs the workload and `_exit`s.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        workload.run(seed);
        // SAFETY: async-signal-safe libc calls on descriptors and pids this test owns.
        unsafe {
            libc::write(ready_w, [1u8].as_ptr().cast(), 1);
            if linger {
                libc::pause();
            }
            libc::_exit(0);
        }
    }
    let mut b = [0u8; 1];
    // SAFETY: async-signal-safe libc calls on descriptors and pids this test owns.
    unsafe {
        assert_eq!(libc::read(ready_r, b.as_mut_ptr().cast(), 1), 1);
        libc::close(ready_r);
        libc::close(ready_w);
        if !linger {
            libc::waitpid(pid, std::ptr::null_mut(), 0);
        }
    }
    pid
}

/// Fails the bench if the scrape is not the exact aggregate of all workers.
fn check_totals(out: &[u8], dead: u32) {
    let text = std::str::from_utf8(out).unwrap();
    let value = |series: &str| -> f64 {
        let line = text
            .lines()
            .find(|l| l.starts_with(series))
            .unwrap_or_else(|| panic!("no {series}"));
        line[series.len()..].trim().parse().unwrap()
    };
    let seeds = (0..=8).chain(100..100 + dead);
    let requests: u32 = seeds.map(|s| s % 7 + 1).sum();
    let in_flight: u32 = (0..=8).map(|s| s % 5).sum();
    assert_eq!(
        value("requests_total{route=\"/r/0\"} "),
        f64::from(requests),
        "{dead} exited"
    );
    assert_eq!(
        value("in_flight{route=\"/r/0\"} "),
        f64::from(in_flight),
        "{dead} exited"
    );
    assert_eq!(
        value("latency_seconds_count{route=\"/r/0\"} "),
        f64::from(9 + dead),
        "{dead} exited"
    );
}

struct ScrapeRow {
    dead: u32,
    first_ns: f64,
    steady_ns: f64,
    bytes: usize,
    files: usize,
    peer: Peer,
}

/// The same scrape in `prometheus_client`'s multi-process mode.
#[derive(serde::Deserialize)]
struct Peer {
    first_ns: f64,
    steady_ns: f64,
    bytes: usize,
    files: usize,
}

fn peer_scrape(dead: u32) -> Peer {
    let python = std::env::var("GDS_MP_PEER_PYTHON")
        .expect("set GDS_MP_PEER_PYTHON to a Python with prometheus_client (make bench-multiprocess does)");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/multiprocess_peer.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(dead.to_string())
        .output()
        .expect("running the prometheus_client peer");
    assert!(
        out.status.success(),
        "peer failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the peer's JSON report")
}

/// Scrapes with 8 live workers after `dead` workers came and went.
fn scrape(dir: &Path, dead: u32) -> ScrapeRow {
    let registry = Registry::multiprocess(MultiProcess::open(dir).unwrap());
    let workload = Workload::on(&registry);
    workload.run(0);
    let live: Vec<libc::pid_t> = (1..=8).map(|seed| fork_worker(&workload, seed, true)).collect();
    (0..dead).for_each(|seed| {
        fork_worker(&workload, 100 + seed, false);
    });

    let mut out = Vec::with_capacity(1 << 20);
    let start = Instant::now();
    registry.encode(Format::Text, &mut out);
    let first_ns = start.elapsed().as_nanos() as f64;
    let mut samples: Vec<f64> = (0..SCRAPE_SAMPLES)
        .map(|_| {
            out.clear();
            let start = Instant::now();
            registry.encode(Format::Text, &mut out);
            start.elapsed().as_nanos() as f64
        })
        .collect();
    check_totals(&out, dead);
    let files = std::fs::read_dir(dir).unwrap().count();
    for pid in live {
        // SAFETY: async-signal-safe libc calls on descriptors and pids this test owns.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, std::ptr::null_mut(), 0);
        }
    }
    ScrapeRow {
        dead,
        first_ns,
        steady_ns: median(&mut samples),
        bytes: out.len(),
        files,
        peer: peer_scrape(dead),
    }
}

fn human(ns: f64) -> String {
    if ns >= 1_000_000.0 {
        format!("{:.2} ms", ns / 1_000_000.0)
    } else if ns >= 1_000.0 {
        format!("{:.2} µs", ns / 1_000.0)
    } else {
        format!("{ns:.1} ns")
    }
}

fn markdown(rows: &[Row], scrapes: &[ScrapeRow]) -> String {
    let mut out = String::from(
        "## Multi-process mode (Rust core)\n\n\
         Updates: the same metric API in multi-process mode (value in this process's mapped \
         file) against in-memory mode, in the same run; median of 21 alternating samples of \
         1,000,000 calls. Goal: ratio within 2.\n\n\
         | update | in-memory | multi-process | ratio (multi-process ÷ in-memory) |\n|---|---|---|---|\n",
    );
    for row in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {:.2} |\n",
            row.case,
            human(row.memory_ns),
            human(row.mp_ns),
            row.mp_ns / row.memory_ns
        ));
    }
    let base = scrapes[0].steady_ns;
    out.push_str(
        "\nScrapes (text format) of a directory with 8 live workers and N exited ones, 1,000 \
         series each (600 counters, 300 `livesum` gauges, 100 histograms), all real forked \
         processes, against `prometheus_client`'s multi-process mode (Python, exited workers \
         marked dead as gunicorn's `child_exit` does) on the same workload. Our first scrape \
         after the exits folds them into the archive; steady scrapes then read the archive and \
         the live files only. Steady: median of 11 scrapes.\n\n\
         | exited workers | first scrape (folds) | steady scrape | steady ÷ steady at N = 0 | \
         prometheus_client first / steady | ratio (ours ÷ peer, steady) | output bytes (ours / peer) | \
         files (ours / peer) |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for row in scrapes {
        out.push_str(&format!(
            "| {} | {} | {} | {:.2} | {} / {} | {:.4} | {} / {} | {} / {} |\n",
            row.dead,
            human(row.first_ns),
            human(row.steady_ns),
            row.steady_ns / base,
            human(row.peer.first_ns),
            human(row.peer.steady_ns),
            row.steady_ns / row.peer.steady_ns,
            row.bytes,
            row.peer.bytes,
            row.files,
            row.peer.files
        ));
    }
    out.push_str(
        "\nBoth sides expose the same series and values (the bench checks ours against the \
         exact expected totals); output sizes vary by a few bytes between runs because float \
         sums depend on the order files are read.\n",
    );
    out
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gds-metrics-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn main() {
    let dir = temp_dir("increments");
    let rows = increments(&dir);
    std::fs::remove_dir_all(&dir).ok();
    let scrapes: Vec<ScrapeRow> = [0, 50, 200]
        .into_iter()
        .map(|dead| {
            let dir = temp_dir(&format!("scrape-{dead}"));
            let row = scrape(&dir, dead);
            std::fs::remove_dir_all(&dir).ok();
            row
        })
        .collect();
    let report = markdown(&rows, &scrapes);
    print!("{report}");
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.build/bench");
    std::fs::create_dir_all(&out).expect("creating .build/bench");
    std::fs::write(out.join("multiprocess.md"), report).expect("writing the benchmark report");
}
