//! The endpoint's two hot paths against the official Rust client, `prometheus-client`, in
//! the same run: recording one request in the default request metrics, and answering one
//! authenticated, gzip-compressed OpenMetrics scrape.
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

/// The peer's request metrics, as a binding would hold them.
struct PeerMetrics {
    registry: prometheus_client::registry::Registry,
    requests: Family<Vec<(String, String)>, Counter>,
    durations: Family<Vec<(String, String)>, Histogram>,
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
        Self {
            registry,
            requests,
            durations,
        }
    }

    fn record(&self, method: &str, host: &str, route: &str, status: u16, seconds: f64) {
        let labels = vec![
            ("method".to_owned(), method.to_owned()),
            ("host".to_owned(), host.to_owned()),
            ("path".to_owned(), route.to_owned()),
            ("code".to_owned(), status.to_string()),
        ];
        self.requests.get_or_create(&labels).inc();
        self.durations.get_or_create(&labels).observe(seconds);
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

fn ours() -> Endpoint {
    let config = Config::builder()
        .application_id(GUID)
        .build_with_env(|_| None)
        .unwrap();
    Endpoint::new(config, Arc::new(Registry::new())).unwrap()
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

fn bench_record(ours: &Endpoint, peer: &PeerMetrics) -> Row {
    let call = |i: u32| {
        let route = ROUTES[i as usize % ROUTES.len()];
        let status = STATUSES[(i as usize / ROUTES.len()) % STATUSES.len()];
        (route, status, f64::from(i % 1000) / 1000.0)
    };
    let ours_ns = median_ns(200_000, |i| {
        let (route, status, seconds) = call(i);
        ours.record(&FinishedRequest {
            method: black_box("GET"),
            host: b"app.example",
            raw_path: route,
            route: Route::Template(route),
            status,
            seconds,
            exception: None,
        });
    });
    let peer_ns = median_ns(200_000, |i| {
        let (route, status, seconds) = call(i);
        peer.record(black_box("GET"), "app.example", route, status, seconds);
    });
    Row {
        case: "record one request (counter + histogram, 4 labels, 100 series)",
        ours_ns,
        peer_ns,
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

fn markdown(rows: &[Row]) -> String {
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

fn main() {
    let ours = ours();
    let peer = PeerMetrics::new();
    let rows = [
        bench_record(&ours, &peer),
        bench_scrape(&ours, &peer, false),
        bench_scrape(&ours, &peer, true),
    ];
    let report = markdown(&rows);
    print!("{report}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.build/bench");
    std::fs::create_dir_all(&dir).expect("creating .build/bench");
    std::fs::write(dir.join("endpoint.md"), report).expect("writing the benchmark report");
}
