//! Target stores in S3 against a real S3 server (`s3s-fs` on loopback, with SigV4
//! credentials): conditional writes between concurrent writers, unchanged bytes left
//! alone, and `gds-metrics-targets apply` / `sync` as an operator runs them.
//!
//! Runs with `--features cli,s3,system-tests` (`make test-core` or `make test-targets-s3`, which install
//! `s3s-fs`) and fails (never skips) without the server.
#![cfg(all(feature = "system-tests", feature = "s3", feature = "cli"))]

use crate::s3_server;

use gds_metrics::targets::{
    plan, reconcile, reconcile_since, render_target_file, AppFacts, AppGuid, BoundApp, Folder, Outcome,
    S3Location, S3Store, Store, TargetsError,
};
use s3_server::S3Server;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BUCKET: &str = "targets";
const GUID_A: &str = "6f1e3c2a-9b4d-4e8f-a1b2-c3d4e5f6a7b8";
const GUID_B: &str = "0b7c9d2e-1f3a-4b5c-8d6e-7f8a9b0c1d2e";
const GUID_C: &str = "c0ffee00-1234-4abc-9def-0123456789ab";

fn guid(text: &str) -> AppGuid {
    AppGuid::parse(text).unwrap()
}

fn facts(guid_text: &str, instances: u32) -> AppFacts {
    AppFacts {
        guid: guid(guid_text),
        name: format!("app-{}", &guid_text[..4]),
        instances,
        route_host: "app.cloudapps.digital".into(),
        route_path: String::new(),
        org: "org".into(),
        space: "production".into(),
        exporter: false,
    }
}

fn started(guid_text: &str, instances: u32) -> BoundApp {
    BoundApp::Started(facts(guid_text, instances))
}

fn store(server: &S3Server) -> S3Store {
    S3Store::with_settings(&S3Location::parse("s3://targets/prod").unwrap(), &server.env()).unwrap()
}

fn guids(texts: &[&str]) -> BTreeSet<AppGuid> {
    texts.iter().map(|text| guid(text)).collect()
}

fn object_key(folder: Folder, guid_text: &str) -> String {
    format!("prod/{folder}/{guid_text}.json")
}

#[test]
fn reconciling_an_s3_store_writes_moves_and_removes_like_a_local_one() {
    let server = S3Server::start(&[BUCKET]);
    let store = store(&server);

    reconcile(&store, &[started(GUID_A, 1), started(GUID_B, 2)]).unwrap();
    let listing = store.list().unwrap();
    assert_eq!(listing.active, guids(&[GUID_A, GUID_B]));
    let written = std::fs::read(server.object_path(BUCKET, &object_key(Folder::Active, GUID_B))).unwrap();
    assert_eq!(written, render_target_file(&facts(GUID_B, 2)).unwrap().as_bytes());

    let done = reconcile(&store, &[started(GUID_A, 1), BoundApp::Stopped(facts(GUID_B, 2))]).unwrap();
    let outcomes: Vec<String> = done
        .iter()
        .map(|(op, outcome)| format!("{op}: {outcome}"))
        .collect();
    assert!(
        outcomes.contains(&format!("write active/{GUID_A}.json: unchanged")),
        "{outcomes:?}"
    );
    assert!(
        outcomes.contains(&format!("write inactive/{GUID_B}.json: written")),
        "{outcomes:?}"
    );
    assert!(
        outcomes.contains(&format!("remove active/{GUID_B}.json: removed")),
        "{outcomes:?}"
    );

    reconcile(&store, &[]).unwrap();
    assert_eq!(store.list().unwrap(), Default::default());
}

#[test]
fn unchanged_bytes_are_not_rewritten() {
    let server = S3Server::start(&[BUCKET]);
    let store = store(&server);
    reconcile(&store, &[started(GUID_A, 1)]).unwrap();
    let path = server.object_path(BUCKET, &object_key(Folder::Active, GUID_A));
    let modified = std::fs::metadata(&path).unwrap().modified().unwrap();

    let done = reconcile(&store, &[started(GUID_A, 1)]).unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].1, Outcome::Unchanged);
    assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), modified);
}

#[test]
fn a_write_from_an_old_listing_is_refused_instead_of_resurrecting_an_unbound_target() {
    let server = S3Server::start(&[BUCKET]);
    let updater = store(&server);
    let broker = store(&server);
    reconcile(&broker, &[started(GUID_A, 1), started(GUID_B, 1)]).unwrap();

    // The updater lists, then the broker unbinds A before the updater writes.
    let old_listing = updater.list().unwrap();
    reconcile(&broker, &[started(GUID_B, 1)]).unwrap();

    let operations = plan(&[started(GUID_A, 3), started(GUID_B, 1)], &old_listing).unwrap();
    let error = gds_metrics::targets::apply(&updater, &operations).unwrap_err();
    assert!(matches!(error, TargetsError::Conflict { .. }), "{error}");
    assert_eq!(
        error.to_string(),
        format!(
            "`s3://{BUCKET}/prod/active/{GUID_A}.json` changed since the store was listed (another writer got \
             there first); list the store again and re-plan"
        )
    );
    assert_eq!(broker.list().unwrap().active, guids(&[GUID_B]));

    // Retried from a fresh read, the updater carries over its own change only.
    reconcile_since(&updater, &[started(GUID_A, 3), started(GUID_B, 2)], &old_listing).unwrap();
    let listing = broker.list().unwrap();
    assert_eq!(listing.active, guids(&[GUID_B]), "A stays unbound");
    let b = std::fs::read(server.object_path(BUCKET, &object_key(Folder::Active, GUID_B))).unwrap();
    assert_eq!(b, render_target_file(&facts(GUID_B, 2)).unwrap().as_bytes());
}

#[test]
fn a_create_that_loses_the_race_is_a_conflict_and_the_retry_finds_the_file() {
    let server = S3Server::start(&[BUCKET]);
    let first = store(&server);
    let second = store(&server);
    let empty = first.list().unwrap();
    reconcile(&second, &[started(GUID_C, 1)]).unwrap();

    let operations = plan(&[started(GUID_C, 2)], &empty).unwrap();
    let error = gds_metrics::targets::apply(&first, &operations).unwrap_err();
    assert!(matches!(error, TargetsError::Conflict { .. }), "{error}");

    let done = reconcile_since(&first, &[started(GUID_C, 2)], &empty).unwrap();
    assert_eq!(done.last().unwrap().1, Outcome::Written);
    let c = std::fs::read(server.object_path(BUCKET, &object_key(Folder::Active, GUID_C))).unwrap();
    assert_eq!(c, render_target_file(&facts(GUID_C, 2)).unwrap().as_bytes());
}

#[test]
fn concurrent_writers_never_bring_back_an_app_the_broker_unbound() {
    let server = S3Server::start(&[BUCKET]);
    let broker = store(&server);
    reconcile(&broker, &[started(GUID_A, 1), started(GUID_B, 1)]).unwrap();
    let updaters: Vec<_> = (0..2).map(|_| store(&server)).collect();
    let old_listings: Vec<_> = updaters.iter().map(|updater| updater.list().unwrap()).collect();

    reconcile(&broker, &[started(GUID_B, 1)]).unwrap();
    std::thread::scope(|scope| {
        for (n, (updater, old_listing)) in updaters.iter().zip(&old_listings).enumerate() {
            let instances = 2 + n as u32;
            scope.spawn(move || {
                let bound = [started(GUID_A, instances), started(GUID_B, instances)];
                reconcile_since(updater, &bound, old_listing).unwrap();
            });
        }
    });
    assert_eq!(broker.list().unwrap().active, guids(&[GUID_B]));
}

fn cli(server: &S3Server, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gds-metrics-targets"))
        .args(args)
        .envs(server.env())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn desired_state(apps: &[(&str, u32)]) -> String {
    let entries: Vec<String> = apps
        .iter()
        .map(|(guid_text, instances)| {
            format!(
                r#"{{"state": "started", "guid": "{guid_text}", "name": "app", "instances": {instances},
                     "route_host": "app.cloudapps.digital", "org": "org", "space": "production"}}"#
            )
        })
        .collect();
    format!("[{}]", entries.join(","))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_cli_applies_to_s3_and_sync_copies_valid_objects_only() {
    let server = S3Server::start(&[BUCKET]);
    let output = cli(
        &server,
        &["apply", "--dir", "s3://targets/prod"],
        &desired_state(&[(GUID_A, 1), (GUID_B, 1)]),
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains(&format!("write active/{GUID_A}.json: written")));

    let dir = tempfile::tempdir().unwrap();
    let prometheus_dir = dir.path().join("file_sd");
    let sync = |server: &S3Server| {
        cli(
            server,
            &[
                "sync",
                "--once",
                "s3://targets/prod/active",
                prometheus_dir.to_str().unwrap(),
            ],
            "",
        )
    };
    let output = sync(&server);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(json_files(&prometheus_dir), guids(&[GUID_A, GUID_B]));
    let good_b = std::fs::read(prometheus_dir.join(format!("{GUID_B}.json"))).unwrap();

    // A broken upload of B is reported and not applied; B's last good file stays.
    server.plant(
        BUCKET,
        &object_key(Folder::Active, GUID_B),
        br#"[{"targets": ["x"], "labels": {"bad-name": "1"}}]"#,
    );
    let output = sync(&server);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "s3://{BUCKET}/prod/active/{GUID_B}.json: group 0: invalid label name `bad-name`"
        )),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(prometheus_dir.join(format!("{GUID_B}.json"))).unwrap(),
        good_b
    );

    // Unbinding A removes its object, and the next sync its file.
    let output = cli(
        &server,
        &["apply", "--dir", "s3://targets/prod"],
        &desired_state(&[(GUID_B, 1)]),
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let output = sync(&server);
    assert!(
        text(&output.stdout).contains("1 removed"),
        "{}",
        text(&output.stdout)
    );
    assert_eq!(json_files(&prometheus_dir), guids(&[GUID_B]));
}

#[test]
fn a_sync_that_cannot_list_changes_nothing() {
    let server = S3Server::start(&[BUCKET]);
    let output = cli(
        &server,
        &["apply", "--dir", "s3://targets/prod"],
        &desired_state(&[(GUID_A, 1)]),
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let dir = tempfile::tempdir().unwrap();
    let target_dir = dir.path().to_str().unwrap();
    assert!(cli(
        &server,
        &["sync", "--once", "s3://targets/prod/active", target_dir],
        ""
    )
    .status
    .success());

    let output = cli(
        &server,
        &["sync", "--once", "s3://no-such-bucket/prod/active", target_dir],
        "",
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("sync failed, nothing changed"),
        "{}",
        text(&output.stderr)
    );
    assert_eq!(json_files(dir.path()), guids(&[GUID_A]));
}

#[test]
fn sync_serves_its_own_metrics() {
    let server = S3Server::start(&[BUCKET]);
    let output = cli(
        &server,
        &["apply", "--dir", "s3://targets/prod"],
        &desired_state(&[(GUID_A, 1), (GUID_B, 1)]),
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let dir = tempfile::tempdir().unwrap();
    let (sync, mut stdout, url) = spawn_sync(&server, dir.path());
    let mut sync_line = String::new();
    stdout.read_line(&mut sync_line).unwrap();
    assert!(sync_line.contains("2 written"), "{sync_line}");

    let body = http_get(&url);
    drop(sync);
    assert!(body.contains("targets_sync_files 2.0\n"), "{body}");
    assert!(body.contains("targets_sync_files_applied_total 2.0\n"), "{body}");
    assert!(body.contains("targets_sync_objects_rejected 0.0\n"), "{body}");
    assert!(body.contains("targets_sync_errors_total 0.0\n"), "{body}");
    assert!(
        body.contains("targets_sync_last_success_timestamp_seconds 1"),
        "{body}"
    );
}

/// Starts `gds-metrics-targets sync` with its metrics listener; returns it and the
/// metrics URL.
fn sync_with_metrics(server: &S3Server, dir: &Path) -> (ChildGuard, String) {
    let (sync, mut stdout, url) = spawn_sync(server, dir);
    // Keep reading its reports: a closed pipe would end the sync at its next line.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    (sync, url)
}

/// Starts the sync with its metrics listener; returns it, its stdout after the first line,
/// and the metrics URL that line names.
fn spawn_sync(server: &S3Server, dir: &Path) -> (ChildGuard, BufReader<std::process::ChildStdout>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gds-metrics-targets"))
        .args([
            "sync",
            "--interval",
            "1",
            "--metrics-port",
            "0",
            "s3://targets/prod/active",
        ])
        .arg(dir)
        .envs(server.env())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first_line = String::new();
    stdout.read_line(&mut first_line).unwrap();
    let url = first_line.trim().rsplit(' ').next().unwrap().to_owned();
    (ChildGuard(child), stdout, url)
}

/// Kills the process when the test ends, passed or failed.
struct ChildGuard(std::process::Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn host_of(url: &str) -> String {
    url.strip_prefix("http://")
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned()
}

/// The resident memory of a process, from `/proc`.
fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn a_client_sending_its_request_head_slowly_keeps_no_one_else_from_the_metrics() {
    let server = S3Server::start(&[BUCKET]);
    let dir = tempfile::tempdir().unwrap();
    let (_sync, url) = sync_with_metrics(&server, dir.path());
    let mut slow = TcpStream::connect(host_of(&url)).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let dribbler = std::thread::spawn({
        let stop = stop.clone();
        move || {
            for byte in b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ".iter().cycle() {
                if stop.load(std::sync::atomic::Ordering::Relaxed) || slow.write_all(&[*byte]).is_err() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    let response = http_get(&url);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    dribbler.join().unwrap();
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.contains("targets_sync_errors_total"), "{response}");
}

#[test]
fn many_idle_connections_do_not_starve_the_metrics() {
    let server = S3Server::start(&[BUCKET]);
    let dir = tempfile::tempdir().unwrap();
    let (_sync, url) = sync_with_metrics(&server, dir.path());
    let idle: Vec<TcpStream> = (0..300)
        .map(|_| TcpStream::connect(host_of(&url)).unwrap())
        .collect();
    let response = http_get(&url);
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    drop(idle);
}

#[test]
fn a_huge_request_line_is_refused_without_growing_the_process() {
    let server = S3Server::start(&[BUCKET]);
    let dir = tempfile::tempdir().unwrap();
    let (sync, url) = sync_with_metrics(&server, dir.path());
    let before = resident_kib(sync.0.id());
    let mut stream = TcpStream::connect(host_of(&url)).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let chunk = vec![b'a'; 1 << 20];
    let _ = stream.write_all(b"GET /");
    // The server stops reading (and closes) long before 64 MiB; a refused write ends it.
    let sent = (0..64).take_while(|_| stream.write_all(&chunk).is_ok()).count();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let after = resident_kib(sync.0.id());
    assert!(sent < 64, "the server read a 64 MiB request line");
    let answer = String::from_utf8_lossy(&response);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer}"
    );
    assert!(
        after < before + 8 * 1024,
        "resident memory grew from {before} KiB to {after} KiB"
    );
    assert!(http_get(&url).starts_with("HTTP/1.1 200 OK\r\n"));
}

fn json_files(dir: &Path) -> BTreeSet<AppGuid> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|entry| AppGuid::from_file_name(entry.unwrap().file_name().to_str()?))
        .collect()
}

fn http_get(url: &str) -> String {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut stream = TcpStream::connect(host).unwrap();
    // A listener that never answers fails the test rather than hanging it.
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    write!(
        stream,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// Two target updaters race each other (conditional writes on the same objects) with a
/// desired state made before the broker unbound A. The broker's unbind itself is not raced:
/// `s3s-fs` 0.14 checks `If-Match` before it writes, not atomically with the write, so a
/// delete landing inside a conditional PUT would be undone by the server (AWS S3 checks
/// atomically); the old-listing races are covered above with the library's own calls.
#[test]
fn updaters_racing_each_other_never_bring_back_an_app_the_broker_unbound() {
    let server = S3Server::start(&[BUCKET]);
    let stale = [
        desired_state(&[(GUID_A, 2), (GUID_B, 2)]),
        desired_state(&[(GUID_A, 3), (GUID_B, 3)]),
    ];
    for round in 0..10 {
        let output = cli(
            &server,
            &["apply", "--dir", "s3://targets/prod"],
            &desired_state(&[(GUID_A, 1), (GUID_B, 1)]),
        );
        assert!(output.status.success(), "{}", text(&output.stderr));
        let output = cli(
            &server,
            &["apply", "--dir", "s3://targets/prod"],
            &desired_state(&[(GUID_B, 1)]),
        );
        assert!(output.status.success(), "{}", text(&output.stderr));
        let outputs: Vec<Output> = std::thread::scope(|scope| {
            let updaters: Vec<_> = stale
                .iter()
                .map(|state| {
                    scope.spawn(|| {
                        cli(
                            &server,
                            &["apply", "--only-listed", "--dir", "s3://targets/prod"],
                            state,
                        )
                    })
                })
                .collect();
            updaters
                .into_iter()
                .map(|updater| updater.join().unwrap())
                .collect()
        });
        for output in &outputs {
            assert!(output.status.success(), "{}", text(&output.stderr));
        }
        assert_eq!(
            store(&server).list().unwrap().active,
            guids(&[GUID_B]),
            "round {round}: A came back"
        );
        let b = std::fs::read(server.object_path(BUCKET, &object_key(Folder::Active, GUID_B))).unwrap();
        let candidates: Vec<Vec<u8>> = [2, 3]
            .map(|n| {
                render_target_file(&facts_named("app", GUID_B, n))
                    .unwrap()
                    .into_bytes()
            })
            .to_vec();
        assert!(candidates.contains(&b), "round {round}: B is one updater's file");
    }
}

fn facts_named(name: &str, guid_text: &str, instances: u32) -> AppFacts {
    AppFacts {
        name: name.into(),
        ..facts(guid_text, instances)
    }
}

#[test]
fn broker_records_on_s3_are_created_once_listed_without_reading_and_removed() {
    use gds_metrics::targets::records::{
        create_binding, list_bindings, read_binding, remove_binding, BindingRecord, Created, RecordId,
    };
    let server = S3Server::start(&[BUCKET]);
    let (first, second) = (store(&server), store(&server));
    let id = RecordId::parse("binding-1").unwrap();
    let record = |app: &str| BindingRecord {
        instance_id: RecordId::parse("instance-1").unwrap(),
        app_guid: guid(app),
        service_id: "service".into(),
        plan_id: "plan".into(),
        parameters: Default::default(),
        created_by: None,
    };
    assert_eq!(
        create_binding(&first, &id, &record(GUID_A)).unwrap(),
        Created::New
    );
    assert_eq!(
        create_binding(&second, &id, &record(GUID_B)).unwrap(),
        Created::Existing(record(GUID_A)),
        "a second broker reads what the first recorded"
    );
    let key = format!("prod/bindings/binding-1/{GUID_A}.json");
    assert!(server.object_path(BUCKET, &key).is_file());
    assert_eq!(
        store(&server).list().unwrap(),
        Default::default(),
        "records are not targets"
    );
    let listed = list_bindings(&second).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed.iter().next().unwrap().app_guid, guid(GUID_A));
    assert_eq!(read_binding(&second, &id).unwrap(), Some(record(GUID_A)));
    assert_eq!(
        remove_binding(&second, &id, &guid(GUID_A)).unwrap(),
        Outcome::Removed
    );
    assert_eq!(read_binding(&first, &id).unwrap(), None);
}
