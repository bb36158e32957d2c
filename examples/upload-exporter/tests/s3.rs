//! The exporter watching S3 buckets on a real S3 server (`s3s-fs` on loopback, SigV4):
//! listings with many pages, shared by every scrape, a failed listing reported as a
//! failure, deadlines, and the `s3_exporter`-compatible probe.
//!
//! Runs with `--features system-tests` (`make test-exporter-s3`, which installs the server).
#![cfg(feature = "system-tests")]

#[path = "../../../core/tests/support/s3_server.rs"]
mod s3_server;
mod support;

use s3_server::S3Server;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::Exporter;

const BUCKET: &str = "uploads";

fn start(server: &S3Server, args: &[&str]) -> Exporter {
    Exporter::start(
        Exporter::command()
            .args(args)
            .env("PORT", "0")
            .env("BIND_ADDRESS", "127.0.0.1")
            .envs(server.env()),
    )
}

/// Sends `GET path` with `headers` (each ending in CRLF); the whole answer as text.
fn send(addr: &str, path: &str, headers: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    String::from_utf8_lossy(&raw).into_owned()
}

fn get(addr: &str, path: &str) -> (u16, String) {
    let text = send(addr, path, "");
    let status = text[9..12].parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, dechunk(&body))
}

/// axum answers with chunked bodies; the metrics text has no `\r\n` of its own.
fn dechunk(body: &str) -> String {
    if !body.contains("\r\n") {
        return body.to_owned();
    }
    body.split("\r\n").skip(1).step_by(2).collect()
}

fn plant(server: &S3Server, key: &str, len: usize, mtime: u64) {
    server.plant(BUCKET, key, &vec![b'x'; len]);
    let file = File::options()
        .write(true)
        .open(server.object_path(BUCKET, key))
        .unwrap();
    file.set_modified(UNIX_EPOCH + Duration::from_secs(mtime))
        .unwrap();
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn has_line(text: &str, line: &str) -> bool {
    text.lines().any(|l| l == line)
}

fn wait_for_line(exporter: &Exporter, line: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, text) = get(&exporter.addr, "/metrics");
        if has_line(&text, line) {
            return text;
        }
        assert!(Instant::now() < deadline, "missing `{line}` in\n{text}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn s3_prefixes_are_listed_across_pages_beside_a_local_directory() {
    let server = S3Server::start(&[BUCKET]);
    // More than one page of 1000 keys.
    for n in 0..1100 {
        plant(
            &server,
            &format!("incoming/daily-reports/{n:04}.csv"),
            3,
            1_700_000_000 + n,
        );
    }
    plant(&server, "incoming/invoices/big.pdf", 40, 1_600_000_000);
    plant(&server, "incoming/invoices/.partial.pdf", 99, 1_800_000_000);
    plant(&server, "elsewhere/x.csv", 1, 1_600_000_000);
    let local = tempfile::tempdir().unwrap();
    std::fs::create_dir(local.path().join("local-prefix")).unwrap();

    let local_source = local.path().to_str().unwrap();
    let exporter = start(
        &server,
        &["--source", "s3://uploads/incoming", "--source", local_source],
    );
    let (status, text) = get(&exporter.addr, "/metrics");
    assert_eq!(status, 200);
    let s3 = "source=\"s3://uploads/incoming\"";
    for line in [
        format!("upload_files{{{s3},prefix=\"daily-reports\"}} 1100.0"),
        format!("upload_bytes{{{s3},prefix=\"daily-reports\"}} 3300.0"),
        format!("upload_newest_file_timestamp_seconds{{{s3},prefix=\"daily-reports\"}} 1700001099.0"),
        format!("upload_files{{{s3},prefix=\"invoices\"}} 1.0"),
        format!("upload_listing_success{{{s3}}} 1.0"),
        format!("upload_files{{source=\"{local_source}\",prefix=\"local-prefix\"}} 0.0"),
        format!("upload_listing_success{{source=\"{local_source}\"}} 1.0"),
    ] {
        assert!(has_line(&text, &line), "missing `{line}` in\n{text}");
    }
    assert!(!text.contains("elsewhere"), "{text}");
    assert!(
        text.contains(&format!("upload_listing_age_seconds{{{s3}}} ")),
        "{text}"
    );
}

#[test]
fn a_failed_listing_is_a_failure_not_stale_values() {
    let server = S3Server::start(&[BUCKET]);
    plant(&server, "incoming/daily-reports/a.csv", 3, 1_700_000_000);
    let exporter = start(
        &server,
        &[
            "--source",
            "s3://no-such-bucket/incoming",
            "--source",
            "s3://uploads/incoming",
        ],
    );
    let (_, text) = get(&exporter.addr, "/metrics");
    assert!(
        has_line(
            &text,
            "upload_listing_success{source=\"s3://no-such-bucket/incoming\"} 0.0"
        ),
        "{text}"
    );
    assert!(
        has_line(
            &text,
            "upload_listing_success{source=\"s3://uploads/incoming\"} 1.0"
        ),
        "{text}"
    );
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("upload_files{source=\"s3://no-such-bucket")),
        "{text}"
    );
    assert!(
        !text.contains("upload_listing_age_seconds{source=\"s3://no-such-bucket"),
        "{text}"
    );
}

#[test]
fn scrapes_share_the_listing_until_the_next_refresh() {
    let server = S3Server::start(&[BUCKET]);
    plant(&server, "incoming/daily-reports/a.csv", 3, 1_700_000_000);
    let exporter = start(
        &server,
        &["--source", "s3://uploads/incoming", "--refresh-interval", "3600"],
    );
    let line = "upload_files{source=\"s3://uploads/incoming\",prefix=\"daily-reports\"} 1.0";
    plant(&server, "incoming/daily-reports/b.csv", 3, 1_700_000_001);
    for _ in 0..3 {
        let (_, text) = get(&exporter.addr, "/metrics");
        assert!(
            has_line(&text, line),
            "a scrape listed the bucket itself:\n{text}"
        );
    }
}

fn config_with_deadlines(dir: &Path) -> String {
    let path = dir.join("exporter.toml");
    std::fs::write(
        &path,
        r#"
sources = ["s3://uploads/incoming"]
list_timeout_seconds = 10

[[deadlines]]
prefix = "daily-reports"
time = "00:00"
time_zone = "Europe/London"
days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

[[deadlines]]
prefix = "invoices"
time = "00:00"
time_zone = "Europe/London"
days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
"#,
    )
    .unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn deadlines_are_exported_and_a_file_processed_after_it_arrived_still_counts_after_a_restart() {
    let server = S3Server::start(&[BUCKET]);
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("arrivals.json");
    let (exporter, args, text) = start_on_daily_reports(&server, dir.path(), state.to_str().unwrap());

    let s3 = "source=\"s3://uploads/incoming\"";
    assert!(
        has_line(&text, &format!("upload_overdue{{{s3},prefix=\"invoices\"}} 1.0")),
        "{text}"
    );
    let deadline_line = text
        .lines()
        .find(|l| {
            l.starts_with(&format!(
                "upload_deadline_timestamp_seconds{{{s3},prefix=\"daily-reports\"}}"
            ))
        })
        .unwrap_or_else(|| panic!("no deadline in\n{text}"));
    let deadline: f64 = deadline_line.rsplit(' ').next().unwrap().parse().unwrap();
    let age = now() as f64 - deadline;
    assert!(
        (0.0..=25.0 * 3600.0).contains(&age),
        "the last midnight in London: {deadline_line}"
    );
    assert!(text.contains(&format!(
        "upload_next_deadline_timestamp_seconds{{{s3},prefix=\"daily-reports\"}}"
    )));

    processed_file_counts_after_a_restart(&server, exporter, &args);
}

/// Plants today's daily report and last week's invoice, starts the exporter on them with
/// its deadlines and `--state-file state`, and waits until the report clears its deadline;
/// the exporter, its arguments and that scrape.
fn start_on_daily_reports(server: &S3Server, dir: &Path, state: &str) -> (Exporter, Vec<String>, String) {
    plant(server, "incoming/daily-reports/today.csv", 3, now());
    plant(server, "incoming/invoices/last-week.pdf", 3, now() - 7 * 86_400);
    let config = config_with_deadlines(dir);
    let args: Vec<String> = [
        "--config",
        &config,
        "--refresh-interval",
        "1",
        "--state-file",
        state,
    ]
    .map(str::to_owned)
    .to_vec();
    let exporter = start(server, &strs(&args));
    let text = wait_for_line(
        &exporter,
        "upload_overdue{source=\"s3://uploads/incoming\",prefix=\"daily-reports\"} 0.0",
    );
    (exporter, args, text)
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// Deletes today's daily report (processed), waits until a listing no longer sees it, and
/// checks that its arrival still counts, then again in a new exporter started with `args`.
fn processed_file_counts_after_a_restart(server: &S3Server, exporter: Exporter, args: &[String]) {
    let s3 = "source=\"s3://uploads/incoming\"";
    std::fs::remove_file(server.object_path(BUCKET, "incoming/daily-reports/today.csv")).unwrap();
    // The next listing no longer sees the file; its arrival still counts this period.
    let files = format!("upload_files{{{s3},prefix=\"daily-reports\"}} 1.0");
    let deadline = Instant::now() + Duration::from_secs(20);
    let text = loop {
        let (_, text) = get(&exporter.addr, "/metrics");
        if !has_line(&text, &files) {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "the deleted file is still listed:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let on_time = format!("upload_overdue{{{s3},prefix=\"daily-reports\"}} 0.0");
    assert!(has_line(&text, &on_time), "{text}");

    drop(exporter);
    let restarted = start(server, &strs(args));
    let (_, text) = get(&restarted.addr, "/metrics");
    assert!(has_line(&text, &on_time), "after a restart:\n{text}");
    assert!(
        has_line(&text, &format!("upload_overdue{{{s3},prefix=\"invoices\"}} 1.0")),
        "{text}"
    );
}

/// Inside the watched source, under a folder listings skip.
const STATE_OBJECT: &str = "incoming/.upload-exporter/arrivals.json";

#[test]
fn arrivals_kept_in_the_bucket_survive_a_restart_on_a_fresh_disk() {
    let server = S3Server::start(&[BUCKET]);
    let dir = tempfile::tempdir().unwrap();
    let state = format!("s3://{BUCKET}/{STATE_OBJECT}");
    let (exporter, args, text) = start_on_daily_reports(&server, dir.path(), &state);
    assert!(
        !text.contains(".upload-exporter"),
        "the state is no upload:\n{text}"
    );
    let saved = std::fs::read_to_string(server.object_path(BUCKET, STATE_OBJECT)).unwrap();
    assert!(saved.contains("\"daily-reports\""), "{saved}");
    // Nothing on the exporter's disk: a restart on a fresh one reads the bucket.
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "only the config file"
    );
    processed_file_counts_after_a_restart(&server, exporter, &args);
}

#[test]
fn instances_sharing_the_state_object_merge_their_arrivals() {
    let server = S3Server::start(&[BUCKET]);
    plant(&server, "incoming/daily-reports/today.csv", 3, 1_700_000_000);
    plant(&server, "partner-b/weekly/report.csv", 3, 1_700_000_100);
    let state = format!("s3://{BUCKET}/.upload-exporter/arrivals.json");
    let start_on = |source: &str| {
        start(
            &server,
            &[
                "--source",
                source,
                "--refresh-interval",
                "1",
                "--state-file",
                &state,
            ],
        )
    };
    // Each instance saves as soon as it has listed; the second one keeps what the first
    // saved (read at its start) beside its own arrivals.
    let first = start_on("s3://uploads/incoming");
    let second = start_on("s3://uploads/partner-b");
    let saved =
        || std::fs::read_to_string(server.object_path(BUCKET, ".upload-exporter/arrivals.json")).unwrap();
    let both = "{\"s3://uploads/incoming\":{\"daily-reports\":1700000000.0},\"s3://uploads/partner-b\":{\"weekly\":1700000100.0}}";
    assert_eq!(saved(), both);

    // The first instance's view of the object is now stale: its next write is refused,
    // and it merges what the second saved before writing again.
    plant(&server, "incoming/daily-reports/tomorrow.csv", 3, 1_700_086_400);
    let all = "{\"s3://uploads/incoming\":{\"daily-reports\":1700086400.0},\"s3://uploads/partner-b\":{\"weekly\":1700000100.0}}";
    let deadline = Instant::now() + Duration::from_secs(20);
    while saved() == both {
        assert!(
            Instant::now() < deadline,
            "the first instance never saved its new arrival"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(saved(), all);
    drop((first, second));
}

#[test]
fn the_probe_answers_like_s3_exporter() {
    let server = S3Server::start(&[BUCKET]);
    plant(&server, "incoming/2026-11/a.csv", 10, 1_700_000_000);
    plant(&server, "incoming/2026-11/b.csv", 32, 1_700_003_600);
    plant(&server, "incoming/2026-12/c.csv", 5, 1_700_009_999);
    let exporter = start(&server, &["--source", "s3://uploads/incoming"]);

    let (status, text) = get(&exporter.addr, "/probe?bucket=uploads&prefix=incoming/2026-1");
    assert_eq!(status, 200, "{text}");
    let labels = "bucket=\"uploads\",prefix=\"incoming/2026-1\"";
    let with_delimiter = format!("{labels},delimiter=\"\"");
    assert!(
        text.lines()
            .any(|l| l.starts_with(&format!("s3_list_duration_seconds{{{with_delimiter}}} "))),
        "{text}"
    );
    for line in [
        format!("s3_list_success{{{with_delimiter}}} 1.0"),
        format!("s3_objects{{{labels}}} 3.0"),
        format!("s3_last_modified_object_size_bytes{{{labels}}} 5.0"),
        format!("s3_objects_size_sum_bytes{{{labels}}} 47.0"),
        format!("s3_biggest_object_size_bytes{{{labels}}} 32.0"),
        format!("s3_last_modified_object_date{{{labels}}} 1700009999.0"),
    ] {
        assert!(has_line(&text, &line), "missing `{line}` in\n{text}");
    }
    assert!(!text.contains("http_server_requests"), "{text}");

    let (_, text) = get(&exporter.addr, "/probe?bucket=uploads&prefix=incoming/2026-11/");
    assert!(
        has_line(
            &text,
            "s3_objects{bucket=\"uploads\",prefix=\"incoming/2026-11/\"} 2.0"
        ),
        "{text}"
    );

    let (status, text) = get(&exporter.addr, "/probe?bucket=no-such-bucket&prefix=x");
    assert_eq!(status, 200);
    assert!(
        has_line(
            &text,
            "s3_list_success{bucket=\"no-such-bucket\",prefix=\"x\",delimiter=\"\"} 0.0"
        ),
        "{text}"
    );
    assert!(!text.contains("s3_objects{"), "{text}");

    let (status, text) = get(&exporter.addr, "/probe?prefix=x");
    assert_eq!(status, 400);
    assert!(text.contains("bucket="), "{text}");

    let (status, text) = get(
        &exporter.addr,
        "/probe?bucket=uploads&prefix=incoming/&delimiter=/",
    );
    assert_eq!(status, 200, "{text}");
    let line = "s3_common_prefixes{bucket=\"uploads\",prefix=\"incoming/\",delimiter=\"/\"} 2.0";
    assert!(has_line(&text, line), "{text}");
    assert!(!text.contains("s3_objects{"), "{text}");
}

#[test]
fn probe_parameters_that_are_not_s3_names_are_a_bad_request() {
    let server = S3Server::start(&[BUCKET]);
    let exporter = start(&server, &["--source", "s3://uploads/incoming"]);
    for query in [
        "bucket=up%00loads",
        "bucket=Uploads",
        "bucket=uploads&prefix=a%0Ab",
        "bucket=a..b",
    ] {
        let (status, text) = get(&exporter.addr, &format!("/probe?{query}"));
        assert_eq!(status, 400, "{query}: {text}");
        assert!(
            text.contains("S3") || text.contains("control characters"),
            "{query}: {text}"
        );
    }
    let (status, _) = get(&exporter.addr, "/healthz");
    assert_eq!(status, 200);
}

/// A TCP server standing in for a hung S3: accepts connections, counts them, never answers.
fn hung_s3() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(stream);
        }
    });
    (addr, accepted)
}

/// Starts the exporter with `args` against the S3 server at `s3_addr` (test credentials),
/// with `env` added.
fn start_against(s3_addr: &str, args: &[&str], env: &[(&str, String)]) -> Exporter {
    Exporter::start(
        Exporter::command()
            .args(args)
            .args(["--port", "0", "--bind-address", "127.0.0.1"])
            .env_remove("PORT")
            .env("AWS_ENDPOINT_URL", format!("http://{s3_addr}"))
            .env("AWS_ALLOW_HTTP", "true")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .envs(env.iter().map(|(k, v)| (*k, v))),
    )
}

#[test]
fn the_probe_checks_the_token_before_any_s3_call() {
    let (s3_addr, s3_connections) = hung_s3();
    let watched = tempfile::tempdir().unwrap();
    let guid = "6f1e3c2a-9b4d-4e8f-a1b2-c3d4e5f6a7b8";
    let vcap = format!("{{\"application_id\":\"{guid}\"}}");
    let exporter = start_against(
        &s3_addr,
        &["--source", watched.path().to_str().unwrap()],
        &[("VCAP_APPLICATION", vcap)],
    );
    for _ in 0..20 {
        let (status, _) = get(&exporter.addr, "/probe?bucket=uploads&prefix=x");
        assert_eq!(status, 401);
    }
    let (status, _) = get_with(&exporter.addr, "/probe?bucket=uploads&prefix=x", "Bearer wrong");
    assert_eq!(status, 403);
    assert_eq!(s3_connections.load(std::sync::atomic::Ordering::SeqCst), 0);
}

fn get_with(addr: &str, path: &str, authorization: &str) -> (u16, String) {
    let text = send(addr, path, &format!("Authorization: {authorization}\r\n"));
    (text[9..12].parse().unwrap(), text)
}

#[test]
fn help_lists_every_option_and_environment_variable() {
    let output = Command::new(env!("CARGO_BIN_EXE_upload-exporter"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for word in [
        "--config",
        "UPLOAD_EXPORTER_CONFIG",
        "--source",
        "--upload-dir",
        "UPLOAD_DIR",
        "--refresh-interval",
        "--port",
        "PORT",
        "--bind-address",
        "BIND_ADDRESS",
        "--state-file",
        "UPLOAD_EXPORTER_STATE_FILE",
        "AWS_ENDPOINT_URL",
        "VCAP_APPLICATION",
        "METRICS_BASIC_AUTH",
        "PROMETHEUS_METRICS_PATH",
    ] {
        assert!(help.contains(word), "`{word}` missing from --help:\n{help}");
    }
}

/// A server standing in for an S3 whose listing never ends: every ListObjectsV2 page is
/// empty and says more follow.
fn endless_s3() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || answer_pages_forever(stream));
        }
    });
    addr
}

fn answer_pages_forever(stream: TcpStream) {
    let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
        <ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>uploads</Name>\
        <Prefix>incoming/</Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys>\
        <IsTruncated>true</IsTruncated><NextContinuationToken>more</NextContinuationToken>\
        </ListBucketResult>";
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut line = String::new();
        // One request head per page; an empty line ends it.
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
        }
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/xml\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        if writer
            .write_all(head.as_bytes())
            .and_then(|()| writer.write_all(body.as_bytes()))
            .is_err()
        {
            return;
        }
    }
}

#[test]
fn a_listing_that_pages_forever_is_cut_and_counted_as_a_failure() {
    let s3 = endless_s3();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("exporter.toml");
    std::fs::write(
        &config,
        "sources = [\"s3://uploads/incoming\"]\nlist_timeout_seconds = 1\n",
    )
    .unwrap();
    let args = ["--config", config.to_str().unwrap(), "--refresh-interval", "1"];
    let exporter = start_against(&s3, &args, &[]);
    let source = "source=\"s3://uploads/incoming\"";
    let text = wait_for_line(
        &exporter,
        &format!("upload_listing_failures_total{{{source}}} 2.0"),
    );
    assert!(
        has_line(&text, &format!("upload_listing_success{{{source}}} 0.0")),
        "{text}"
    );
}
