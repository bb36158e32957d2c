//! The endpoint's two hot paths against the official Rust client, `prometheus-client`, in
//! the same run: recording one request in the default request metrics (without and with a
//! sampled W3C `traceparent`, whose ids become the exemplars), and answering one
//! authenticated, gzip-compressed OpenMetrics scrape.
//!
//! Traced requests are measured twice: spread over 100 series as a busy app's are, where
//! a series takes one trace per duration bucket per clock tick and most traced requests
//! skip the header (amortised); and each recording its exemplar, the first of its series
//! in a new clock tick (the cost when traffic is light). Untraced requests are measured
//! with the request duration's native buckets (the default) and without them (as before
//! native buckets were added).
//!
//! The peer does what a binding built on it would have to do: build owned label sets per
//! request, and encode then compress per scrape (it has no auth or negotiation, so ours
//! does strictly more work there). Writes `.build/bench/endpoint.md`.
//! Run with `cargo bench -p gds-metrics --bench endpoint` (or `make bench`).

use flate2::write::GzEncoder;
use flate2::Compression;
use gds_metrics::request_metrics::REQUEST_DURATION_BUCKETS;
use gds_metrics::{Config, Endpoint, FinishedRequest, Registry, Request, Route};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::exemplar::{CounterWithExemplar, HistogramWithExemplars};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use std::hint::black_box;
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

const GUID: &str = "6b0b3c4e-5c1d-4d3b-9d2a-0c8e1f2a3b4c";
const ROUTES: [&str; 20] = [
    "/",
    "/login",
    "/logout",
    "/users",
    "/users/<id>",
    "/users/<id>/edit",
    "/orders",
    "/orders/<id>",
    "/orders/<id>/items",
    "/search",
    "/api/v1/things",
    "/api/v1/things/<id>",
    "/health",
    "/static/<path>",
    "/reports",
    "/reports/<id>",
    "/settings",
    "/admin",
    "/admin/users",
    "/admin/audit",
];
const STATUSES: [u16; 5] = [200, 201, 302, 404, 500];
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

type Labels = Vec<(String, String)>;

/// The peer's request metrics, as a binding would hold them.
struct PeerMetrics {
    registry: prometheus_client::registry::Registry,
    requests: Family<Vec<(String, String)>, Counter>,
    durations: Family<Vec<(String, String)>, Histogram>,
    traced_requests: Family<Labels, CounterWithExemplar<Labels>>,
    traced_durations: Family<Labels, HistogramWithExemplars<Labels>>,
}

impl PeerMetrics {
    fn new() -> Self {
        let mut registry = prometheus_client::registry::Registry::default();
        let requests = Family::<Vec<(String, String)>, Counter>::default();
        let durations = Family::<Vec<(String, String)>, Histogram>::new_with_constructor(|| {
            Histogram::new(REQUEST_DURATION_BUCKETS.iter().copied())
        });
        registry.register("http_server_requests", "Requests handled.", requests.clone());
        registry.register(
            "http_server_request_duration_seconds",
            "Request time.",
            durations.clone(),
        );
        let traced_requests = Family::<Labels, CounterWithExemplar<Labels>>::default();
        let traced_durations = Family::<Labels, HistogramWithExemplars<Labels>>::new_with_constructor(|| {
            HistogramWithExemplars::new(REQUEST_DURATION_BUCKETS.iter().copied())
        });
        Self {
            registry,
            requests,
            durations,
            traced_requests,
            traced_durations,
        }
    }

    fn labels(method: &str, host: &str, route: &str, status: u16) -> Labels {
        vec![
            ("method".to_owned(), method.to_owned()),
            ("host".to_owned(), host.to_owned()),
            ("path".to_owned(), route.to_owned()),
            ("code".to_owned(), status.to_string()),
        ]
    }

    fn record(&self, method: &str, host: &str, route: &str, status: u16, seconds: f64) {
        let labels = Self::labels(method, host, route, status);
        self.requests.get_or_create(&labels).inc();
        self.durations.get_or_create(&labels).observe(seconds);
    }

    /// What a binding would do with the peer: split the header, check the sampled flag and
    /// give the ids as exemplar labels (with fewer checks than the spec asks of ours).
    fn record_traced(
        &self,
        method: &str,
        host: &str,
        route: &str,
        status: u16,
        seconds: f64,
        traceparent: &str,
    ) {
        let labels = Self::labels(method, host, route, status);
        let fields: Vec<&str> = traceparent.split('-').collect();
        let exemplar = (fields.len() == 4 && fields[3] == "01").then(|| {
            vec![
                ("trace_id".to_owned(), fields[1].to_owned()),
                ("span_id".to_owned(), fields[2].to_owned()),
            ]
        });
        let now = Some(std::time::SystemTime::now());
        self.traced_requests
            .get_or_create(&labels)
            .inc_by(1, exemplar.clone(), now);
        self.traced_durations
            .get_or_create(&labels)
            .observe(seconds, exemplar, now);
    }

    fn scrape(&self, compress: bool) -> Vec<u8> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry).expect("encoding to a String");
        if !compress {
            return text.into_bytes();
        }
        let mut gzip = GzEncoder::new(Vec::new(), Compression::fast());
        gzip.write_all(text.as_bytes()).expect("writing to a Vec");
        gzip.finish().expect("writing to a Vec")
    }
}

/// Our endpoint, its request duration with native buckets or without.
fn ours(native_histogram: bool) -> Endpoint {
    let config = Config::builder()
        .application_id(GUID)
        .request_native_histogram(native_histogram)
        .build_with_env(|_| None)
        .unwrap();
    Endpoint::new(config, Arc::new(Registry::new())).unwrap()
}

/// Distinct series the requests of a run are spread over (routes × statuses).
const SERIES: u32 = (ROUTES.len() * STATUSES.len()) as u32;

/// The coarse clock whose ticks the request metrics claim for their exemplars.
fn coarse_tick() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec to write into.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut now) };
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}

/// Returns once the coarse clock has ticked: every series' exemplar claims are then free.
fn wait_for_tick() {
    let start = coarse_tick();
    while coarse_tick() == start {
        std::hint::spin_loop();
    }
}

/// Median nanoseconds per call of `f` over 15 samples, each of `ticks` batches of one call
/// per series, every batch started just after the coarse clock ticked: each call is its
/// series' first of a tick. The waits are not timed.
fn median_ns_per_new_tick(ticks: u32, mut f: impl FnMut(u32)) -> f64 {
    let mut samples: Vec<f64> = (0..16)
        .map(|_| {
            let mut elapsed = std::time::Duration::ZERO;
            for _ in 0..ticks {
                wait_for_tick();
                let start = Instant::now();
                for i in 0..SERIES {
                    f(i);
                }
                elapsed += start.elapsed();
            }
            elapsed.as_nanos() as f64 / f64::from(ticks * SERIES)
        })
        .skip(1) // the first warms up
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Median nanoseconds per call of `f` over 15 samples of `iterations` calls each.
fn median_ns(iterations: u32, mut f: impl FnMut(u32)) -> f64 {
    for i in 0..iterations {
        f(i);
    }
    let mut samples: Vec<f64> = (0..15)
        .map(|_| {
            let start = Instant::now();
            for i in 0..iterations {
                f(i);
            }
            start.elapsed().as_nanos() as f64 / f64::from(iterations)
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

struct Row {
    case: &'static str,
    ours_ns: f64,
    peer_ns: f64,
}

/// The i-th request of a run: its route, status and seconds, spread over 100 series.
fn nth_request(i: u32) -> (&'static str, u16, f64) {
    let route = ROUTES[i as usize % ROUTES.len()];
    let status = STATUSES[(i as usize / ROUTES.len()) % STATUSES.len()];
    (route, status, f64::from(i % 1000) / 1000.0)
}

fn record_ours(ours: &Endpoint, i: u32, traceparent: &[u8]) {
    let (route, status, seconds) = nth_request(i);
    ours.record(&FinishedRequest {
        method: black_box("GET"),
        host: b"app.example",
        raw_path: route,
        route: Route::Template(route),
        status,
        seconds,
        exception: None,
        traceparent: black_box(traceparent),
    });
}

// Each kind of request is recorded by its own function, kept out of line so that
// `callgrind --toggle-collect` counts it alone; no name is part of another. Each hands
// `black_box` its own line number: functions with the same body would otherwise be
// folded into one, and the others' names would count nothing.

/// One untraced request (the request duration with native buckets, the default).
#[inline(never)]
fn record_untraced(ours: &Endpoint, i: u32) {
    black_box(line!());
    record_ours(ours, i, b"");
}

/// One untraced request into a request duration without native buckets.
#[inline(never)]
fn record_classic_untraced(classic: &Endpoint, i: u32) {
    black_box(line!());
    record_ours(classic, i, b"");
}

/// One request with a sampled `traceparent`, which mostly finds its series' exemplar of
/// this tick and bucket already taken.
#[inline(never)]
fn record_traced(ours: &Endpoint, i: u32) {
    black_box(line!());
    record_ours(ours, i, TRACEPARENT.as_bytes());
}

/// One request with a sampled `traceparent` whose series has no exemplar of this tick yet
/// (the caller waits for the clock to tick): it parses the header and records the trace.
#[inline(never)]
fn record_new_exemplar(ours: &Endpoint, i: u32) {
    black_box(line!());
    record_ours(ours, i, TRACEPARENT.as_bytes());
}

fn peer_record(peer: &PeerMetrics, i: u32) {
    let (route, status, seconds) = nth_request(i);
    peer.record(black_box("GET"), "app.example", route, status, seconds);
}

fn peer_record_traced(peer: &PeerMetrics, i: u32) {
    let (route, status, seconds) = nth_request(i);
    peer.record_traced(
        black_box("GET"),
        "app.example",
        route,
        status,
        seconds,
        black_box(TRACEPARENT),
    );
}

fn bench_record(ours: &Endpoint, peer: &PeerMetrics) -> Row {
    Row {
        case: "record one request (counter + histogram with native buckets, 4 labels, 100 series)",
        ours_ns: median_ns(200_000, |i| record_untraced(ours, i)),
        peer_ns: median_ns(200_000, |i| peer_record(peer, i)),
    }
}

fn bench_record_classic(classic: &Endpoint, peer: &PeerMetrics) -> Row {
    Row {
        case: "record one request, classic buckets only (`request_native_histogram` off)",
        ours_ns: median_ns(200_000, |i| record_classic_untraced(classic, i)),
        peer_ns: median_ns(200_000, |i| peer_record(peer, i)),
    }
}

fn bench_record_traced(ours: &Endpoint, peer: &PeerMetrics) -> Row {
    Row {
        case: "record one request with a sampled `traceparent`, amortised (one exemplar per series \
               and bucket per clock tick)",
        ours_ns: median_ns(200_000, |i| record_traced(ours, i)),
        peer_ns: median_ns(200_000, |i| peer_record_traced(peer, i)),
    }
}

fn bench_record_new_exemplar(ours: &Endpoint, peer: &PeerMetrics) -> Row {
    Row {
        case: "record one request with a sampled `traceparent`, each recording its exemplar (a new \
               clock tick for its series)",
        ours_ns: median_ns_per_new_tick(20, |i| record_new_exemplar(ours, i)),
        peer_ns: median_ns_per_new_tick(20, |i| peer_record_traced(peer, i)),
    }
}

fn bench_scrape(ours: &Endpoint, peer: &PeerMetrics, gzip: bool) -> Row {
    let bearer = format!("Bearer {GUID}");
    let accept = "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
    let ours_ns = median_ns(200, |_| {
        let request = Request::new("GET", "/metrics")
            .header("host", b"app.example")
            .header("authorization", bearer.as_bytes())
            .header("accept", accept.as_bytes())
            .header("accept-encoding", if gzip { b"gzip" } else { b"identity" });
        let response = ours.handle(&request);
        assert_eq!(response.status, 200);
        black_box(response.body);
    });
    let peer_ns = median_ns(200, |_| {
        black_box(peer.scrape(gzip));
    });
    Row {
        case: if gzip {
            "answer one scrape (auth, negotiation, OpenMetrics, gzip; 100 histogram series)"
        } else {
            "answer one scrape (auth, negotiation, OpenMetrics, uncompressed; 100 histogram series)"
        },
        ours_ns,
        peer_ns,
    }
}

/// The costs of one request of each kind, in the unit a section reports them in.
struct RecordCosts {
    classic_untraced: f64,
    untraced: f64,
    traced: f64,
    new_exemplar: f64,
}

impl RecordCosts {
    /// The sentences comparing them: traced against untraced, native against classic.
    fn ratios(&self) -> String {
        format!(
            "A request with a sampled `traceparent` costs {:.2}× one without, amortised, and {:.2}× \
             when it records its exemplar (the budget is 1.10×). Native buckets make an untraced \
             request cost {:.2}× what it cost with classic buckets only.\n",
            self.traced / self.untraced,
            self.new_exemplar / self.untraced,
            self.untraced / self.classic_untraced,
        )
    }
}

fn markdown(rows: &[Row], costs: &RecordCosts) -> String {
    let mut out = String::from(
        "## Endpoint (Rust core)\n\n\
         Peer: `prometheus-client` (the official Rust client), used as a binding would use it, \
         in the same run. Median of 15 samples.\n\n\
         | case | gds-metrics | prometheus-client | ratio |\n|---|---|---|---|\n",
    );
    for row in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {:.2} |\n",
            row.case,
            human(row.ours_ns),
            human(row.peer_ns),
            row.ours_ns / row.peer_ns
        ));
    }
    out.push('\n');
    out.push_str(&costs.ratios());
    out
}

fn human(ns: f64) -> String {
    if ns >= 1_000_000.0 {
        format!("{:.2} ms", ns / 1_000_000.0)
    } else if ns >= 1_000.0 {
        format!("{:.2} µs", ns / 1_000.0)
    } else {
        format!("{ns:.0} ns")
    }
}

/// Under `valgrind --tool=callgrind` (`scripts/callgrind-record`): `requests` untraced
/// requests of each kind over the same 100 series, and as many traced ones, nothing else,
/// so the instruction counts of the `record_*` functions compare them exactly. Under
/// callgrind a clock tick holds only a few dozen requests, so the traced ones go in
/// pairs: each series' first request after the clock ticked records its exemplar, and
/// the same request again right after finds that series, bucket and tick taken (the
/// amortised path, which most traced requests of a busy app take). Prints how many calls
/// each function had, for the script to divide by.
fn record_for_callgrind(requests: u32) {
    let (ours, classic) = (ours(true), ours(false));
    // Every series and exemplar slot exists before counting: the steady state.
    for i in 0..1000 {
        record_ours(&ours, i, TRACEPARENT.as_bytes());
        record_ours(&classic, i, TRACEPARENT.as_bytes());
    }
    for i in 0..requests {
        record_untraced(&ours, i);
        record_classic_untraced(&classic, i);
    }
    let ticks = requests.div_ceil(SERIES);
    for _ in 0..ticks {
        wait_for_tick();
        for i in 0..SERIES {
            record_new_exemplar(&ours, i);
            record_traced(&ours, i);
        }
    }
    let traced = ticks * SERIES;
    println!(
        "record_untraced={requests} record_classic_untraced={requests} record_traced={traced} \
         record_new_exemplar={traced}"
    );
}

/// The callgrind subsection from the instructions per request `scripts/callgrind-record`
/// counted, given as `classic_untraced untraced traced new_exemplar`.
fn instructions_markdown(counts: &str) -> String {
    let counts: Vec<f64> = counts
        .split_whitespace()
        .map(|n| n.parse().expect("instructions per request"))
        .collect();
    let [classic_untraced, untraced, traced, new_exemplar] = counts[..] else {
        panic!("four instruction counts, got {counts:?}");
    };
    let costs = RecordCosts {
        classic_untraced,
        untraced,
        traced,
        new_exemplar,
    };
    format!(
        "\n### Recording a request, in instructions (callgrind)\n\n\
         Counted in the same run by callgrind, which a busy machine does not disturb \
         (`scripts/callgrind-record`, also `make bench-endpoint-instructions`).\n\n\
         | case | instructions per request |\n|---|---|\n\
         | without `traceparent`, classic buckets only (`request_native_histogram` off, as before) | {classic_untraced:.0} |\n\
         | without `traceparent` (native buckets beside the classic ones) | {untraced:.0} |\n\
         | with a sampled `traceparent`, amortised | {traced:.0} |\n\
         | with a sampled `traceparent`, recording its exemplar | {new_exemplar:.0} |\n\n{}",
        costs.ratios()
    )
}

fn main() {
    if let Ok(requests) = std::env::var("GDS_BENCH_CALLGRIND_REQUESTS") {
        record_for_callgrind(requests.parse().expect("a number of requests"));
        return;
    }
    if let Ok(counts) = std::env::var("GDS_BENCH_INSTRUCTIONS") {
        print!("{}", instructions_markdown(&counts));
        return;
    }
    let (ours, classic) = (ours(true), ours(false));
    let peer = PeerMetrics::new();
    let rows = [
        bench_record(&ours, &peer),
        bench_record_classic(&classic, &peer),
        bench_record_traced(&ours, &peer),
        bench_record_new_exemplar(&ours, &peer),
        bench_scrape(&ours, &peer, false),
        bench_scrape(&ours, &peer, true),
    ];
    let costs = RecordCosts {
        untraced: rows[0].ours_ns,
        classic_untraced: rows[1].ours_ns,
        traced: rows[2].ours_ns,
        new_exemplar: rows[3].ours_ns,
    };
    let report = markdown(&rows, &costs);
    print!("{report}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.build/bench");
    std::fs::create_dir_all(&dir).expect("creating .build/bench");
    std::fs::write(dir.join("endpoint.md"), report).expect("writing the benchmark report");
}
