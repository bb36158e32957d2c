//! A real Prometheus (Debian package `prometheus`) reading the target files this crate
//! writes: the files become targets with the contract's labels, each scrape carries the
//! `cf_app_*` query parameters the proxy needs, removing a file removes its targets, and
//! Prometheus never counts a file read error.
//!
//! Runs with `--features system-tests` and fails (never skips) without `prometheus`.
#![cfg(feature = "system-tests")]

use gds_metrics::targets::{apply, plan, AppFacts, AppGuid, BoundApp, Folder, TargetStore};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const GUID_A: &str = "6f1e3c2a-9b4d-4e8f-a1b2-c3d4e5f6a7b8";
const GUID_B: &str = "0b7c9d2e-1f3a-4b5c-8d6e-7f8a9b0c1d2e";
const GUID_C: &str = "c0ffee00-1234-4abc-9def-0123456789ab";

use crate::prometheus_server;
use prometheus_server::{http_get, PrometheusServer as Prometheus, WAIT};

impl Prometheus {
    /// Debian's Prometheus, discovering targets from the files matching `file_sd_glob`.
    fn reading(file_sd_glob: &Path) -> Prometheus {
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
             scrape_configs:\n  - job_name: paas-apps\n    file_sd_configs:\n\
             \x20     - files: ['{}']\n        refresh_interval: 1s\n",
            file_sd_glob.display()
        );
        Prometheus::start(Path::new("prometheus"), &config, &[])
    }

    /// The active targets, as `/api/v1/targets` reports them.
    fn active_targets(&self) -> Vec<Value> {
        let (status, body) = http_get(self.addr, "/api/v1/targets?state=active").unwrap();
        assert_eq!(status, 200, "{body}");
        let json: Value = serde_json::from_str(&body).unwrap();
        json["data"]["activeTargets"].as_array().unwrap().clone()
    }

    /// Polls until the active targets satisfy `done`, returning them.
    fn wait_for_targets(&self, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + WAIT;
        loop {
            let targets = self.active_targets();
            if done(&targets) {
                return targets;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; targets: {targets:#?}\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Prometheus's own count of target files it could not read.
    fn sd_file_read_errors(&self) -> f64 {
        let (status, body) = http_get(self.addr, "/metrics").unwrap();
        assert_eq!(status, 200);
        let line = body
            .lines()
            .find(|line| line.starts_with("prometheus_sd_file_read_errors_total "))
            .unwrap_or_else(|| panic!("no prometheus_sd_file_read_errors_total in:\n{body}"));
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }
}

/// A stand-in app on loopback that answers every request with one metric and records
/// the request target (path and query) of each scrape.
struct App {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl App {
    fn start() -> App {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stopping = Arc::new(AtomicBool::new(false));
        let thread = {
            let (requests, stopping) = (requests.clone(), stopping.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        return;
                    }
                    if let Ok(stream) = stream {
                        answer_scrape(stream, &requests);
                    }
                }
            })
        };
        App {
            addr,
            requests,
            stopping,
            thread: Some(thread),
        }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn answer_scrape(mut stream: TcpStream, requests: &Mutex<Vec<String>>) {
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    if let Some(target) = head.split_whitespace().nth(1) {
        requests.lock().unwrap().push(target.to_owned());
    }
    let body = "app_up 1\n";
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn facts(guid: &str, name: &str, instances: u32, app: &App, route_path: &str, exporter: bool) -> AppFacts {
    AppFacts {
        guid: AppGuid::parse(guid).unwrap(),
        name: name.into(),
        instances,
        route_host: app.addr.to_string(),
        route_path: route_path.into(),
        org: "govuk-notify".into(),
        space: "production".into(),
        exporter,
    }
}

fn reconcile(store: &TargetStore, bound: &[BoundApp]) {
    apply(store, &plan(bound, &store.list().unwrap()).unwrap()).unwrap();
}

fn labels(target: &Value, key: &str) -> BTreeMap<String, String> {
    serde_json::from_value(target[key].clone()).unwrap()
}

fn target_for<'a>(targets: &'a [Value], instance: &str) -> &'a Value {
    targets
        .iter()
        .find(|t| t["labels"]["instance"] == instance)
        .unwrap_or_else(|| panic!("no target with instance `{instance}` in {targets:#?}"))
}

fn expected_labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn has_instances(targets: &[Value], guid: &str) -> bool {
    targets.iter().any(|t| {
        t["labels"]["instance"]
            .as_str()
            .is_some_and(|i| i.starts_with(guid))
    })
}

#[test]
fn prometheus_discovers_scrapes_and_forgets_the_targets_the_store_writes() {
    let dir = tempfile::tempdir().unwrap();
    let store = TargetStore::open(dir.path().join("targets")).unwrap();
    let app = App::start();
    let prometheus = Prometheus::reading(&store.folder_path(Folder::Active).join("*.json"));
    assert_eq!(prometheus.active_targets(), Vec::<Value>::new());

    // Bind two started apps (one an exporter under a route path) and one stopped app.
    let notify = facts(GUID_A, "notify-api-venerable", 2, &app, "", false);
    let exporter = facts(GUID_B, "paas-exporter", 1, &app, "/custom-path", true);
    let stopped = facts(GUID_C, "stopped-app", 1, &app, "", false);
    reconcile(
        &store,
        &[
            BoundApp::Started(notify.clone()),
            BoundApp::Started(exporter.clone()),
            BoundApp::Stopped(stopped.clone()),
        ],
    );
    let targets = prometheus.wait_for_targets("three targets", |t| t.len() == 3);
    assert!(!has_instances(&targets, GUID_C), "a stopped app is not scraped");
    let host = app.addr.to_string();
    for index in ["0", "1"] {
        let instance = format!("{GUID_A}:{index}");
        let target = target_for(&targets, &instance);
        assert_eq!(
            labels(target, "labels"),
            expected_labels(&[
                ("instance", &instance),
                ("job", "notify-api"),
                ("org", "govuk-notify"),
                ("space", "production"),
            ])
        );
        assert_eq!(
            target["scrapeUrl"],
            format!(
                "http://{host}/metrics?cf_app_guid={GUID_A}&cf_app_instance={GUID_A}%3A{index}\
                 &cf_app_instance_index={index}"
            )
        );
    }
    let instance = format!("{GUID_B}:0");
    let target = target_for(&targets, &instance);
    assert_eq!(
        labels(target, "labels"),
        expected_labels(&[
            ("instance", &instance),
            ("job", "paas-exporter"),
            ("org", "govuk-notify")
        ])
    );
    assert_eq!(
        target["scrapeUrl"],
        format!(
            "http://{host}/custom-path/metrics?cf_app_guid={GUID_B}&cf_app_instance={GUID_B}%3A0\
             &cf_app_instance_index=0"
        )
    );
    assert_eq!(prometheus.sd_file_read_errors(), 0.0);

    // The scrapes really reach the app with the query parameters the proxy turns into
    // `Authorization: Bearer <guid>` and `X-CF-APP-INSTANCE`.
    let scrape =
        format!("/metrics?cf_app_guid={GUID_A}&cf_app_instance={GUID_A}%3A1&cf_app_instance_index=1");
    wait_until("a scrape of instance 1", || app.requests().contains(&scrape));

    // Stop the first app: its file moves to `inactive/` and its targets go.
    reconcile(
        &store,
        &[
            BoundApp::Stopped(notify.clone()),
            BoundApp::Started(exporter),
            BoundApp::Stopped(stopped.clone()),
        ],
    );
    let targets = prometheus.wait_for_targets("the stopped app's targets to go", |t| t.len() == 1);
    assert!(has_instances(&targets, GUID_B));
    assert_eq!(prometheus.sd_file_read_errors(), 0.0);

    // Unbind the exporter: its file is removed and no target is left.
    reconcile(&store, &[BoundApp::Stopped(notify), BoundApp::Stopped(stopped)]);
    prometheus.wait_for_targets("no targets", |t| t.is_empty());
    assert_eq!(prometheus.sd_file_read_errors(), 0.0);

    // The error counter does move for a bad file, so the zeros above mean something.
    std::fs::write(
        store.folder_path(Folder::Active).join(format!("{GUID_C}.json")),
        "[{\"targets\": [",
    )
    .unwrap();
    wait_until("prometheus to count the truncated file", || {
        prometheus.sd_file_read_errors() > 0.0
    });
}
