//! A real Prometheus 3.16 (built by `make prometheus3` into `.build/tools/prometheus3`)
//! scraping the crate's endpoint over loopback: with `scrape_native_histograms: true` it
//! negotiates protobuf, and `histogram_quantile` over the native histogram gives the
//! expected median, `/api/v1/query_exemplars` returns the recorded exemplars; with its
//! default protocols it negotiates OpenMetrics with `escaping=allow-utf-8`, and the UTF-8
//! metric name is queryable as registered. Debian's Prometheus 2.42 scrapes the same
//! endpoint as text/OpenMetrics. Names that differ only in characters the escaping
//! schemes rewrite (`a.b`, `a:b`, `a__b`) are scraped by 3.16 in every format and
//! escaping and by 2.42 escaped, each target up and every series stored under the name
//! asked for, while the names the registry refused never appear. `promtool` 3.16 checks the text outputs.
//!
//! Runs with `--features system-tests` and fails (never skips) without the binaries.
#![cfg(feature = "system-tests")]

use gds_metrics::{Config, Endpoint, NativeBuckets, Opts, Registry, Request};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// Prometheus 3.16's binaries: `$PROMETHEUS3_DIR`, else the directory `make prometheus3`
/// fills.
fn prometheus3_dir() -> PathBuf {
    std::env::var_os("PROMETHEUS3_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../.build/tools/prometheus3"),
        PathBuf::from,
    )
}

fn prometheus3() -> PathBuf {
    let binary = prometheus3_dir().join("prometheus");
    assert!(
        binary.exists(),
        "{} is missing: run `make prometheus3` (it builds Prometheus 3.16 with `go install`)",
        binary.display()
    );
    binary
}

/// The app: a native histogram with 100 observations 0.01..=1.00 (median 0.5), a
/// counter and a histogram bucket with exemplars, a counter with a UTF-8 name, and a
/// state set with a UTF-8 name (its state label is named like it).
fn app_registry() -> Arc<Registry> {
    let registry = Arc::new(Registry::new());
    let rpc = registry
        .native_histogram(
            Opts::new("rpc_duration_seconds", "RPC latency."),
            NativeBuckets::new(),
            Some(&[0.25, 0.5, 1.0]),
        )
        .unwrap()
        .get()
        .unwrap();
    for i in 1..=100 {
        rpc.observe(f64::from(i) / 100.0).unwrap();
    }
    rpc.observe_with_exemplar(0.5, &[("trace_id", TRACE_ID)]).unwrap();
    let jobs = registry.counter(Opts::new("jobs", "Jobs done.")).unwrap();
    jobs.get()
        .unwrap()
        .inc_with_exemplar(1.0, &[("trace_id", TRACE_ID), ("span_id", "00f067aa0ba902b7")])
        .unwrap();
    let events = registry
        .counter(Opts::new("app.events", "Events, named the OpenTelemetry way.").labels(["http.method"]))
        .unwrap();
    events.labels(&["GET"]).unwrap().inc_by(7);
    let states = scrape_time::state_set(
        "worker.state",
        "What the worker does.",
        &[],
        vec![(vec![], vec![("idle", false), ("busy", true)])],
    );
    registry.register(Arc::new(states)).unwrap();
    registry
}

use crate::scrape_time;

/// The endpoint served over loopback HTTP/1.0, one thread, until dropped.
struct App {
    addr: SocketAddr,
    accepts: Arc<Mutex<Vec<String>>>,
}

impl App {
    fn start() -> App {
        App::serving(app_registry())
    }

    fn serving(registry: Arc<Registry>) -> App {
        let config = Config::builder().build_with_env(|_| None).unwrap();
        let endpoint = Endpoint::new(config, registry).unwrap();
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        let accepts = Arc::new(Mutex::new(Vec::new()));
        let seen = accepts.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                serve(stream, &endpoint, &seen);
            }
        });
        App { addr, accepts }
    }
}

fn serve(mut stream: TcpStream, endpoint: &Endpoint, accepts: &Mutex<Vec<String>>) {
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.split("\r\n");
    let mut start = lines.next().unwrap_or_default().split_whitespace();
    let (method, path) = (start.next().unwrap_or("GET"), start.next().unwrap_or("/"));
    let headers: Vec<(&str, &str)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim(), v.trim()))
        .collect();
    let mut request = Request::new(method, path);
    for (name, value) in &headers {
        if name.eq_ignore_ascii_case("accept") {
            accepts.lock().unwrap().push((*value).to_owned());
        }
        request = request.header(name, value.as_bytes());
    }
    let response = endpoint.handle(&request);
    let mut out = format!("HTTP/1.1 {} X\r\n", response.status);
    for (name, value) in &response.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        response.body.len()
    ));
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.write_all(&response.body);
}

use crate::prometheus_server;
use prometheus_server::{http_get, PrometheusServer as Prometheus, WAIT};

impl Prometheus {
    /// `binary` scraping with `scrape_configs`, with `features` enabled.
    fn scraping(binary: &Path, scrape_configs: &str, features: &[&str]) -> Prometheus {
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n{scrape_configs}"
        );
        let args: Vec<String> = features.iter().map(|f| format!("--enable-feature={f}")).collect();
        Prometheus::start(binary, &config, &args)
    }

    /// `GET /api/v1/<path>?<query>`'s `data`, after checking `status` is `success`.
    fn api(&self, path: &str, params: &[(&str, &str)]) -> Value {
        let query: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}={}", url_encode(v)))
            .collect();
        let (status, body) = http_get(self.addr, &format!("/api/v1/{path}?{}", query.join("&"))).unwrap();
        assert_eq!(status, 200, "{path} {params:?}: {body}");
        let value: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(value["status"], "success", "{body}");
        value["data"].clone()
    }

    /// The value of an instant query's single result, once there is one.
    fn wait_for_value(&self, query: &str) -> f64 {
        let deadline = Instant::now() + WAIT;
        loop {
            let data = self.api("query", &[("query", query)]);
            if let Some(value) = data["result"][0]["value"][1].as_str() {
                return value.parse().unwrap();
            }
            assert!(
                Instant::now() < deadline,
                "no result for `{query}`; targets: {}\nlog:\n{}",
                self.api("targets", &[]),
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

fn scrape_job(name: &str, app: &App, extra: &str) -> String {
    format!(
        "  - job_name: {name}\n    static_configs:\n      - targets: ['{}']\n{extra}",
        app.addr
    )
}

#[test]
fn prometheus_3_reads_native_histograms_and_exemplars_from_protobuf() {
    let app = App::start();
    let native = scrape_job("native", &app, "    scrape_native_histograms: true\n");
    let prometheus = Prometheus::scraping(&prometheus3(), &native, &["exemplar-storage"]);

    // 101 observations, 0.01..=1.00 and one more 0.5: the median is 0.5; schema 5
    // buckets are within 2.2% of any value, and interpolation stays inside one bucket.
    let median = prometheus.wait_for_value("histogram_quantile(0.5, rpc_duration_seconds)");
    assert!((median - 0.5).abs() < 0.5 * 0.03, "median {median}");
    let count = prometheus.wait_for_value("histogram_count(rpc_duration_seconds)");
    assert_eq!(count, 101.0);
    assert!(
        app.accepts.lock().unwrap()[0].starts_with("application/vnd.google.protobuf"),
        "Prometheus asked for {:?}",
        app.accepts.lock().unwrap()
    );

    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let (start, end) = ((now - 300).to_string(), (now + 300).to_string());
    for query in ["jobs_total", "rpc_duration_seconds"] {
        let deadline = Instant::now() + WAIT;
        loop {
            let data = prometheus.api(
                "query_exemplars",
                &[("query", query), ("start", &start), ("end", &end)],
            );
            let text = data.to_string();
            if text.contains(TRACE_ID) {
                break;
            }
            assert!(Instant::now() < deadline, "no exemplar for {query}: {text}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

#[test]
fn prometheus_3_queries_utf8_names_over_openmetrics() {
    let app = App::start();
    let text = scrape_job("text", &app, "");
    let prometheus = Prometheus::scraping(&prometheus3(), &text, &[]);
    let events = prometheus.wait_for_value("{\"app.events_total\", \"http.method\"=\"GET\"}");
    assert_eq!(events, 7.0);
    let busy = prometheus.wait_for_value("{\"worker.state\", \"worker.state\"=\"busy\"}");
    assert_eq!(busy, 1.0);
    let accept = app.accepts.lock().unwrap()[0].clone();
    assert!(
        accept.starts_with("application/openmetrics-text;version=1.0.0;escaping=allow-utf-8"),
        "{accept}"
    );
}

#[test]
fn prometheus_2_still_scrapes_the_same_endpoint() {
    let app = App::start();
    let prometheus = Prometheus::scraping(Path::new("prometheus"), &scrape_job("old", &app, ""), &[]);
    // Prometheus 2 asks for OpenMetrics without `escaping`, so UTF-8 names arrive with
    // underscores.
    assert_eq!(prometheus.wait_for_value("app_events_total"), 7.0);
    assert_eq!(
        prometheus.wait_for_value("worker_state{worker_state=\"idle\"}"),
        0.0
    );
    assert_eq!(prometheus.wait_for_value("rpc_duration_seconds_count"), 101.0);
}

/// promtool's linter assumes legacy names, so the UTF-8 text 1.0.0 output is checked by
/// its parser alone (`--lint=none --extended`) and the escaped text 0.0.4 output with
/// every lint.
#[test]
fn promtool_3_accepts_the_text_outputs() {
    let registry = app_registry();
    let utf8 = registry.render_with(gds_metrics::Format::TextV1, gds_metrics::Escaping::AllowUtf8);
    assert!(utf8.contains("{\"app.events_total\""), "{utf8}");
    promtool_check(&utf8, &["--lint=none", "--extended"]);
    let escaped = registry.render_with(gds_metrics::Format::Text, gds_metrics::Escaping::Underscores);
    promtool_check(&escaped, &[]);
}

fn promtool_check(body: &str, flags: &[&str]) {
    let mut promtool = Command::new(prometheus3_dir().join("promtool"))
        .args(["check", "metrics"])
        .args(flags)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool 3.16: run `make prometheus3`");
    promtool.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
    let output = promtool.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "promtool check metrics {flags:?}: {}{}\n{body}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Names that differ only in characters the escaping schemes rewrite, accepted because no
/// scheme writes two of them alike: `a.b` (label `x-y`), `a:b` and `a__b`. Declaring `a-b`
/// (written `a_b` with `escaping=underscores`, like `a.b`) or the labels `x-y` and `x_y`
/// together is refused, and the registry keeps only the first three.
fn near_colliding_registry() -> Arc<Registry> {
    let registry = Arc::new(Registry::new());
    let dotted = registry
        .counter(Opts::new("a.b", "Dotted.").labels(["x-y"]))
        .unwrap();
    dotted.labels(&["1"]).unwrap().inc_by(3);
    registry
        .counter(Opts::new("a:b", "Coloned."))
        .unwrap()
        .get()
        .unwrap()
        .inc_by(5);
    registry
        .gauge(Opts::new("a__b", "Doubled."))
        .unwrap()
        .get()
        .unwrap()
        .set(7.0);
    let dashed = registry.counter(Opts::new("a-b", "Dashed.")).map(|_| ());
    assert!(
        matches!(&dashed, Err(gds_metrics::Error::NameCollision { other, .. }) if other == "a.b"),
        "{dashed:?}"
    );
    let labels = registry
        .counter(Opts::new("c", "Labels alike.").labels(["x-y", "x_y"]))
        .map(|_| ());
    assert!(
        matches!(labels, Err(gds_metrics::Error::LabelNameCollision { .. })),
        "{labels:?}"
    );
    registry
}

/// Every series of `job` Prometheus holds, as `name{labels} value` without `job` and
/// `instance`, sorted; the scrape's own series (`up`, `scrape_*`) and the endpoint's request
/// metrics (`http_server_*` in any escaping) left out.
fn stored_series(prometheus: &Prometheus, job: &str) -> Vec<String> {
    let data = prometheus.api("query", &[("query", &format!("{{job=\"{job}\"}}"))]);
    let mut series: Vec<String> = data["result"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| {
            let metric = r["metric"].as_object().unwrap();
            let name = metric["__name__"].as_str().unwrap();
            if name == "up" || name.starts_with("scrape_") || name.starts_with("http_") {
                return None;
            }
            let labels: Vec<String> = metric
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "__name__" | "job" | "instance"))
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
                .collect();
            Some(format!(
                "{name}{{{}}} {}",
                labels.join(","),
                r["value"][1].as_str().unwrap()
            ))
        })
        .collect();
    series.sort();
    series
}

/// The series of [`near_colliding_registry`] as Prometheus stores them, sorted, for the
/// names a scrape is written with: as declared, or escaped by one scheme.
fn near_colliding_series(escaping: &str) -> [&'static str; 3] {
    match escaping {
        "allow-utf-8" => ["a.b_total{x-y=1} 3", "a:b_total{} 5", "a__b{} 7"],
        "underscores" => ["a:b_total{} 5", "a__b{} 7", "a_b_total{x_y=1} 3"],
        "dots" => ["a:b_total{} 5", "a____b{} 7", "a_dot_b_total{x__y=1} 3"],
        "values" => ["U__a_2e_b_total{U__x_2d_y=1} 3", "a:b_total{} 5", "a__b{} 7"],
        other => panic!("no escaping {other}"),
    }
}

/// One Prometheus 3.16 job per format and escaping scheme. Text 0.0.4 cannot carry UTF-8
/// names and Prometheus asks for protobuf without an `escaping` parameter, so both arrive
/// with `escaping=underscores` (the default when none is asked for); the text 1.0.0 and
/// OpenMetrics scrapes are written with the scheme asked for. Every target is up, and holds
/// exactly the three accepted families, never one of the refused names.
#[test]
fn prometheus_3_scrapes_near_colliding_utf8_names_in_every_format_and_escaping() {
    let app = App::serving(near_colliding_registry());
    let protocols = [
        "PrometheusProto",
        "OpenMetricsText1.0.0",
        "PrometheusText1.0.0",
        "PrometheusText0.0.4",
    ];
    let escapings = ["allow-utf-8", "underscores", "dots", "values"];
    let jobs: Vec<(String, &str, &str)> = protocols
        .iter()
        .flat_map(|p| {
            escapings
                .iter()
                .map(move |e| (format!("{}-{e}", p.replace('.', "_")), *p, *e))
        })
        .collect();
    let configs: String = jobs
        .iter()
        .map(|(name, protocol, escaping)| {
            let settings =
                format!("    scrape_protocols: [{protocol}]\n    metric_name_escaping_scheme: {escaping}\n");
            scrape_job(name, &app, &settings)
        })
        .collect();
    let prometheus = Prometheus::scraping(&prometheus3(), &configs, &[]);
    for (job, protocol, escaping) in &jobs {
        assert_eq!(
            prometheus.wait_for_value(&format!("up{{job=\"{job}\"}}")),
            1.0,
            "{job}"
        );
        let written = match *protocol {
            "PrometheusProto" | "PrometheusText0.0.4" => "underscores",
            _ => escaping,
        };
        assert_eq!(
            stored_series(&prometheus, job),
            near_colliding_series(written),
            "{job}"
        );
    }
}

/// Prometheus 2.42 asks for OpenMetrics without `escaping`: the same families arrive with
/// underscores, the target up.
#[test]
fn prometheus_2_scrapes_near_colliding_utf8_names_escaped() {
    let app = App::serving(near_colliding_registry());
    let prometheus = Prometheus::scraping(Path::new("prometheus"), &scrape_job("old", &app, ""), &[]);
    assert_eq!(prometheus.wait_for_value("up{job=\"old\"}"), 1.0);
    assert_eq!(
        stored_series(&prometheus, "old"),
        near_colliding_series("underscores")
    );
}
