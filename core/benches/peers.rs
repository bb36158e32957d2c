//! gds-metrics side by side with the Rust metrics libraries people reach for: the
//! mainstream `prometheus-client`, `prometheus` and `metrics-exporter-prometheus`, and the
//! two fastest published ones, `fastmetrics` and `measured`.
//!
//! Every case runs each library in the same process, on the same data, through the call a
//! user of that library would write. `scripts/bench-core-md` turns criterion's estimates
//! into the ratio tables of `BENCHMARKS.md`. Group names are the cases, function names the
//! libraries; keep them in step with that script.

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{criterion_group, BenchmarkGroup, Throughput};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

type Criterion = criterion::Criterion<ThreadCpuTime>;
type Group<'a> = BenchmarkGroup<'a, ThreadCpuTime>;

/// CPU time of the measuring thread rather than wall time: the benchmarks share their
/// machine with other work, and time spent descheduled would otherwise land on whichever
/// library happened to be running.
struct ThreadCpuTime;

fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write into; the clock id is a constant Linux knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

impl Measurement for ThreadCpuTime {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        thread_cpu_time()
    }
    fn end(&self, start: Duration) -> Duration {
        thread_cpu_time() - start
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &NanosFormatter
    }
}

struct NanosFormatter;

impl ValueFormatter for NanosFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = match typical {
            t if t < 1e3 => (1.0, "ns"),
            t if t < 1e6 => (1e-3, "µs"),
            t if t < 1e9 => (1e-6, "ms"),
            _ => (1e-9, "s"),
        };
        values.iter_mut().for_each(|v| *v *= factor);
        unit
    }
    fn scale_throughputs(&self, _: f64, _: &Throughput, _: &mut [f64]) -> &'static str {
        "ns"
    }
    fn scale_for_machines(&self, _: &mut [f64]) -> &'static str {
        "ns"
    }
}

const OURS: &str = "gds-metrics";
const PROMETHEUS_CLIENT: &str = "prometheus-client";
const PROMETHEUS: &str = "prometheus";
const METRICS: &str = "metrics-exporter-prometheus";
const FASTMETRICS: &str = "fastmetrics";
const MEASURED: &str = "measured";

/// Label values of the labelled cases: `method` × `path`, like request metrics.
fn label_values(series: usize) -> Vec<(&'static str, &'static str)> {
    const METHODS: [&str; 4] = ["GET", "POST", "PUT", "DELETE"];
    (0..series)
        .map(|i| {
            let path: &'static str =
                Box::leak(format!("/api/v1/resource/{}", i / METHODS.len()).into_boxed_str());
            (METHODS[i % METHODS.len()], path)
        })
        .collect()
}

/// Observed values spread over the default buckets; indexed so the compiler cannot fold
/// them into a constant.
fn observations() -> Vec<f64> {
    (0..64).map(|i| f64::from(i) * 0.17).collect()
}

// ---------------------------------------------------------------------------------------
// Peer label types: each library's own way of carrying two string labels.

mod common;
use common::{measured_label_set, FastLabels, MeasuredLabelSet, MeasuredLabels};

fn prometheus_client_labels(method: &'static str, path: &'static str) -> [(&'static str, &'static str); 2] {
    [("method", method), ("path", path)]
}

// ---------------------------------------------------------------------------------------
// Case: increment a counter through a handle kept by the caller.

fn handle_inc(c: &mut Criterion) {
    let mut group = c.benchmark_group("handle_inc");
    group.bench_function(OURS, |b| {
        let registry = gds_metrics::Registry::new();
        let counter = registry
            .counter(gds_metrics::Opts::new("c", "h"))
            .unwrap()
            .get()
            .unwrap();
        b.iter(|| black_box(&counter).inc());
    });
    group.bench_function(PROMETHEUS_CLIENT, |b| {
        let counter = prometheus_client::metrics::counter::Counter::<u64>::default();
        b.iter(|| black_box(&counter).inc());
    });
    group.bench_function(PROMETHEUS, |b| {
        let counter = prometheus::IntCounter::new("c", "h").unwrap();
        b.iter(|| black_box(&counter).inc());
    });
    group.bench_function(METRICS, |b| {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let counter = metrics::with_local_recorder(&recorder, || metrics::counter!("c"));
        b.iter(|| black_box(&counter).increment(1));
    });
    group.bench_function(FASTMETRICS, |b| {
        let counter = <fastmetrics::metrics::counter::Counter>::default();
        b.iter(|| black_box(&counter).inc());
    });
    group.bench_function(MEASURED, |b| {
        let counter = measured::Counter::new();
        b.iter(|| black_box(&counter).inc());
    });
    group.finish();
}

// ---------------------------------------------------------------------------------------
// Case: find a series by two label values among 1,000 and increment it.

const LOOKUP_SERIES: usize = 1_000;

fn labelled_inc(c: &mut Criterion) {
    let labels = label_values(LOOKUP_SERIES);
    let mut group = c.benchmark_group("labelled_inc");
    group.bench_function(OURS, |b| {
        let registry = gds_metrics::Registry::new();
        let family = registry
            .counter(gds_metrics::Opts::new("c", "h").labels(["method", "path"]))
            .unwrap();
        let mut i = 0;
        b.iter(|| {
            let (method, path) = labels[i % LOOKUP_SERIES];
            i += 1;
            family.with(&[method, path], |c| c.inc()).unwrap();
        });
    });
    group.bench_function(PROMETHEUS_CLIENT, |b| {
        use prometheus_client::metrics::{counter::Counter, family::Family};
        let family = Family::<[(&'static str, &'static str); 2], Counter>::default();
        let mut i = 0;
        b.iter(|| {
            let (method, path) = labels[i % LOOKUP_SERIES];
            i += 1;
            family
                .get_or_create(&prometheus_client_labels(method, path))
                .inc();
        });
    });
    group.bench_function(PROMETHEUS, |b| {
        let family =
            prometheus::IntCounterVec::new(prometheus::Opts::new("c", "h"), &["method", "path"]).unwrap();
        let mut i = 0;
        b.iter(|| {
            let (method, path) = labels[i % LOOKUP_SERIES];
            i += 1;
            family.with_label_values(&[method, path]).inc();
        });
    });
    group.bench_function(METRICS, |b| {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        metrics::with_local_recorder(&recorder, || {
            let mut i = 0;
            b.iter(|| {
                let (method, path) = labels[i % LOOKUP_SERIES];
                i += 1;
                metrics::counter!("c", "method" => method, "path" => path).increment(1);
            });
        });
    });
    group.bench_function(FASTMETRICS, |b| {
        use fastmetrics::metrics::{counter::Counter, family::Family};
        let family = Family::<FastLabels, Counter>::default();
        let mut i = 0;
        b.iter(|| {
            let (method, path) = labels[i % LOOKUP_SERIES];
            i += 1;
            family.with_or_new(&FastLabels { method, path }, |c| c.inc());
        });
    });
    group.bench_function(MEASURED, |b| {
        let family = measured::CounterVec::with_label_set(measured_label_set());
        let mut i = 0;
        b.iter(|| {
            let (method, path) = labels[i % LOOKUP_SERIES];
            i += 1;
            family.inc(MeasuredLabels { method, path });
        });
    });
    group.finish();
}

// ---------------------------------------------------------------------------------------
// Case: two threads incrementing the same counter. The time is per increment of one
// thread while the other increments too.

fn contended(group: &mut Group<'_>, name: &str, inc: impl Fn() + Sync) {
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let start = AtomicBool::new(false);
            std::thread::scope(|s| {
                let worker = || {
                    while !start.load(Ordering::Acquire) {
                        std::hint::spin_loop();
                    }
                    let t = thread_cpu_time();
                    for _ in 0..iters {
                        inc();
                    }
                    thread_cpu_time() - t
                };
                let a = s.spawn(worker);
                let b = s.spawn(worker);
                start.store(true, Ordering::Release);
                let (a, b) = (a.join().unwrap(), b.join().unwrap());
                a.max(b)
            })
        });
    });
}

fn contended_inc(c: &mut Criterion) {
    let mut group = c.benchmark_group("contended_inc");
    let registry = gds_metrics::Registry::new();
    let ours = registry
        .counter(gds_metrics::Opts::new("c", "h"))
        .unwrap()
        .get()
        .unwrap();
    contended(&mut group, OURS, || ours.inc());
    let pc = prometheus_client::metrics::counter::Counter::<u64>::default();
    contended(&mut group, PROMETHEUS_CLIENT, || {
        pc.inc();
    });
    let p = prometheus::IntCounter::new("c", "h").unwrap();
    contended(&mut group, PROMETHEUS, || p.inc());
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let m = metrics::with_local_recorder(&recorder, || metrics::counter!("c"));
    contended(&mut group, METRICS, || m.increment(1));
    let f = <fastmetrics::metrics::counter::Counter>::default();
    contended(&mut group, FASTMETRICS, || f.inc());
    let me = measured::Counter::new();
    contended(&mut group, MEASURED, || me.inc());
    group.finish();
}

// ---------------------------------------------------------------------------------------
// Case: observe into a histogram with the default buckets, through a handle.

/// Our histogram with the default buckets, as a user registers it.
fn default_bucket_histogram() -> gds_metrics::Histogram {
    gds_metrics::Registry::new()
        .histogram(gds_metrics::Opts::new("h", "h"), None)
        .unwrap()
        .get()
        .unwrap()
}

fn histogram_observe(c: &mut Criterion) {
    let values = observations();
    let buckets = gds_metrics::DEFAULT_BUCKETS;
    let mut group = c.benchmark_group("histogram_observe");
    let cycle = |group: &mut Group<'_>, name: &str, observe: &dyn Fn(f64)| {
        group.bench_function(name, |b| {
            let mut i = 0;
            b.iter(|| {
                observe(values[i & 63]);
                i += 1;
            });
        });
    };
    let ours = default_bucket_histogram();
    cycle(&mut group, OURS, &|v| ours.observe(v).unwrap());
    let pc = prometheus_client::metrics::histogram::Histogram::new(buckets.iter().copied());
    cycle(&mut group, PROMETHEUS_CLIENT, &|v| pc.observe(v));
    let p =
        prometheus::Histogram::with_opts(prometheus::HistogramOpts::new("h", "h").buckets(buckets.to_vec()))
            .unwrap();
    cycle(&mut group, PROMETHEUS, &|v| p.observe(v));
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets(buckets)
        .unwrap()
        .build_recorder();
    let m = metrics::with_local_recorder(&recorder, || metrics::histogram!("h"));
    cycle(&mut group, METRICS, &|v| m.record(v));
    let f = fastmetrics::metrics::histogram::Histogram::new(buckets.iter().copied());
    cycle(&mut group, FASTMETRICS, &|v| f.observe(v));
    let me = measured::Histogram::<14>::with_metadata(measured::metric::histogram::Thresholds::with_buckets(
        buckets.try_into().unwrap(),
    ));
    cycle(&mut group, MEASURED, &|v| me.observe(v));
    group.finish();
}

// ---------------------------------------------------------------------------------------
// The counter family `requests{method, path}` with one series per label pair, in our
// registry and in prometheus-client's, for the render and protobuf cases.

fn prometheus_client_requests(
    labels: &[(&'static str, &'static str)],
) -> prometheus_client::registry::Registry {
    let mut registry = prometheus_client::registry::Registry::default();
    let family = prometheus_client::metrics::family::Family::<
        [(&'static str, &'static str); 2],
        prometheus_client::metrics::counter::Counter,
    >::default();
    registry.register("requests", "Requests.", family.clone());
    labels.iter().for_each(|(m, p)| {
        family.get_or_create(&prometheus_client_labels(m, p)).inc();
    });
    registry
}

// ---------------------------------------------------------------------------------------
// Case: render a counter family of N series (two labels) as Prometheus text. Each library
// writes into a buffer it keeps between scrapes where its API allows. At 1,000,000 series
// `prometheus` and `metrics-exporter-prometheus` are left out (seconds per render, 10 to
// 20 times the others at 100,000): `slow_peers` says whether they run.

fn render(c: &mut Criterion, series: usize, slow_peers: bool) {
    let labels = label_values(series);
    let mut group = c.benchmark_group(format!("render_{series}"));
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));

    // Each library's series are dropped before the next builds its own: at 1,000,000
    // series they take hundreds of megabytes each.
    {
        let ours = common::ours_requests(&labels);
        let mut buf = Vec::new();
        group.bench_function(OURS, |b| {
            b.iter(|| {
                buf.clear();
                ours.encode(gds_metrics::Format::Text, &mut buf);
                black_box(buf.len())
            })
        });
    }
    {
        let pc = prometheus_client_requests(&labels);
        let mut text = String::new();
        group.bench_function(PROMETHEUS_CLIENT, |b| {
            b.iter(|| {
                text.clear();
                prometheus_client::encoding::text::encode(&mut text, &pc).unwrap();
                black_box(text.len())
            })
        });
    }
    if slow_peers {
        render_slow_peers(&mut group, &labels);
    }
    render_fast_peers(&mut group, &labels);
    group.finish();
}

/// `prometheus` and `metrics-exporter-prometheus`.
fn render_slow_peers(group: &mut Group<'_>, labels: &[(&'static str, &'static str)]) {
    let mut buf = Vec::new();
    let p = prometheus::Registry::new();
    let p_family = prometheus::IntCounterVec::new(
        prometheus::Opts::new("requests_total", "Requests."),
        &["method", "path"],
    )
    .unwrap();
    p.register(Box::new(p_family.clone())).unwrap();
    labels
        .iter()
        .for_each(|(m, p)| p_family.with_label_values(&[m, p]).inc());
    let encoder = prometheus::TextEncoder::new();
    group.bench_function(PROMETHEUS, |b| {
        b.iter(|| {
            buf.clear();
            prometheus::Encoder::encode(&encoder, &p.gather(), &mut buf).unwrap();
            black_box(buf.len())
        })
    });

    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || {
        metrics::describe_counter!("requests", "Requests.");
        for (m, p) in labels {
            metrics::counter!("requests", "method" => *m, "path" => *p).increment(1);
        }
    });
    group.bench_function(METRICS, |b| {
        b.iter(|| {
            buf.clear();
            handle.render_to_write(&mut buf).unwrap();
            black_box(buf.len())
        })
    });
}

/// `fastmetrics` and `measured`, the fastest published renderers.
fn render_fast_peers(group: &mut Group<'_>, labels: &[(&'static str, &'static str)]) {
    let mut text = String::new();
    let mut f = fastmetrics::registry::Registry::default();
    let f_family =
        fastmetrics::metrics::family::Family::<FastLabels, fastmetrics::metrics::counter::Counter>::default();
    f.register("requests", "Requests.", f_family.clone()).unwrap();
    labels
        .iter()
        .for_each(|(method, path)| f_family.with_or_new(&FastLabels { method, path }, |c| c.inc()));
    group.bench_function(FASTMETRICS, |b| {
        b.iter(|| {
            text.clear();
            fastmetrics::format::text::encode(
                &mut text,
                &f,
                fastmetrics::format::text::TextProfile::PrometheusV0_0_4,
            )
            .unwrap();
            black_box(text.len())
        })
    });
    drop((f, f_family));

    let me = MeasuredMetrics {
        requests: measured::CounterVec::with_label_set(measured_label_set()),
    };
    labels
        .iter()
        .for_each(|(method, path)| me.requests.inc(MeasuredLabels { method, path }));
    let mut enc = measured::text::BufferedTextEncoder::new();
    group.bench_function(MEASURED, |b| {
        b.iter(|| {
            measured::MetricGroup::collect_group_into(&me, &mut enc).unwrap();
            black_box(enc.finish().len())
        })
    });
}

#[derive(measured::MetricGroup)]
struct MeasuredMetrics {
    /// Requests.
    requests: measured::CounterVec<MeasuredLabelSet>,
}

// ---------------------------------------------------------------------------------------
// Case: observe into a native histogram (schema 5, at most 160 buckets, as client_java's
// defaults), against prometheus-client's native histogram with the same settings.

fn native_histogram_observe(c: &mut Criterion) {
    let values = observations();
    let mut group = c.benchmark_group("native_histogram_observe");
    let cycle = |group: &mut Group<'_>, name: &str, observe: &dyn Fn(f64)| {
        group.bench_function(name, |b| {
            let mut i = 0;
            b.iter(|| {
                observe(values[i & 63]);
                i += 1;
            });
        });
    };
    let registry = gds_metrics::Registry::new();
    let ours = registry
        .native_histogram(
            gds_metrics::Opts::new("h", "h"),
            gds_metrics::NativeBuckets::new().schema(5).max_buckets(160),
            None,
        )
        .unwrap()
        .get()
        .unwrap();
    cycle(&mut group, OURS, &|v| ours.observe(v).unwrap());
    let config =
        prometheus_client::metrics::histogram::NativeHistogramConfig::with_schema(5).max_buckets(160);
    let pc = prometheus_client::metrics::histogram::Histogram::new_native(config);
    cycle(&mut group, PROMETHEUS_CLIENT, &|v| pc.observe(v));
    group.finish();
}

// ---------------------------------------------------------------------------------------
// Case: encode a counter family of N series (two labels) as delimited Prometheus protobuf,
// the body Prometheus 3 asks for with native histograms on.

fn protobuf(c: &mut Criterion, series: usize) {
    let labels = label_values(series);
    let mut group = c.benchmark_group(format!("protobuf_{series}"));
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));

    let ours = common::ours_requests(&labels);
    let mut buf = Vec::new();
    group.bench_function(OURS, |b| {
        b.iter(|| {
            buf.clear();
            ours.encode(gds_metrics::Format::Protobuf, &mut buf);
            black_box(buf.len())
        })
    });

    let pc = prometheus_client_requests(&labels);
    group.bench_function(PROMETHEUS_CLIENT, |b| {
        b.iter(|| {
            let body = prometheus_client::encoding::prometheus_protobuf::encode_to_vec(&pc).unwrap();
            black_box(body.len())
        })
    });
    group.finish();
}

fn protobuf_10k(c: &mut Criterion) {
    protobuf(c, 10_000);
}

fn protobuf_100k(c: &mut Criterion) {
    protobuf(c, 100_000);
}

fn render_10k(c: &mut Criterion) {
    render(c, 10_000, true);
}

fn render_100k(c: &mut Criterion) {
    render(c, 100_000, true);
}

fn render_1m(c: &mut Criterion) {
    render(c, 1_000_000, false);
}

/// Keeps `make bench` to a few minutes on a shared two-core machine while leaving criterion
/// enough samples for stable medians.
fn config() -> Criterion {
    criterion::Criterion::default()
        .with_measurement(ThreadCpuTime)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
}

criterion_group! {
    name = benches;
    config = config();
    targets = handle_inc, labelled_inc, contended_inc, histogram_observe, native_histogram_observe,
        render_10k, render_100k, render_1m, protobuf_10k, protobuf_100k
}
/// Under `valgrind --tool=callgrind` (`make bench-observe-instructions`): the same
/// observations into a default-bucket histogram of ours and of the two fastest peers, each
/// through a function of its own, so `--toggle-collect` counts the instructions of one
/// library's `observe` alone.
mod observe_instructions {
    use std::hint::black_box;

    #[inline(never)]
    pub(crate) fn observe_gds_metrics(h: &gds_metrics::Histogram, v: f64) {
        h.observe(v).unwrap();
    }

    #[inline(never)]
    pub(crate) fn observe_prometheus_client(h: &prometheus_client::metrics::histogram::Histogram, v: f64) {
        h.observe(v);
    }

    #[inline(never)]
    pub(crate) fn observe_fastmetrics(h: &fastmetrics::metrics::histogram::Histogram, v: f64) {
        h.observe(v);
    }

    pub(crate) fn run(observations: usize) {
        let values = super::observations();
        let buckets = gds_metrics::DEFAULT_BUCKETS;
        let ours = super::default_bucket_histogram();
        let pc = prometheus_client::metrics::histogram::Histogram::new(buckets.iter().copied());
        let f = fastmetrics::metrics::histogram::Histogram::new(buckets.iter().copied());
        for i in 0..observations {
            let v = black_box(values[i & 63]);
            observe_gds_metrics(black_box(&ours), v);
            observe_prometheus_client(black_box(&pc), v);
            observe_fastmetrics(black_box(&f), v);
        }
        let count = ours.snapshot().count();
        assert_eq!(count, observations as u64, "every observation counted");
    }
}

fn main() {
    if let Ok(observations) = std::env::var("GDS_BENCH_CALLGRIND_OBSERVATIONS") {
        observe_instructions::run(observations.parse().expect("a number of observations"));
        return;
    }
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
