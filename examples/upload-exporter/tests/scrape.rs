//! Runs the exporter binary on loopback against a temporary upload tree and scrapes it
//! over HTTP, with and without the app GUID as bearer token.

mod support;

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::Exporter;

const GUID: &str = "6b0b3c4e-5c1d-4d3b-9d2a-0c8e1f2a3b4c";

fn start(dir: &Path, env: &[(&str, &str)]) -> Exporter {
    Exporter::start(
        Exporter::command()
            .arg("--dir")
            .arg(dir)
            .args(["--refresh-interval", "1"])
            .env("PORT", "0")
            .env("BIND_ADDRESS", "127.0.0.1")
            .envs(env.iter().copied()),
    )
}

struct HttpResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl HttpResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
}

/// One HTTP/1.1 request with `Connection: close`, read to the end.
fn get(addr: &str, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> HttpResponse {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header block");
    let head = std::str::from_utf8(&raw[..split]).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|l| l.split_once(": ").unwrap())
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v == "chunked")
    {
        body = dechunk(&body);
    }
    HttpResponse {
        status,
        headers,
        body,
    }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&raw[..line_end]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&raw[line_end + 2..line_end + 2 + size]);
        raw = &raw[line_end + 2 + size + 2..];
    }
}

/// A fresh upload tree: `reports/` with two files (one nested), `invoices/` empty but for a
/// hidden partial upload, and one loose file at the root.
fn upload_tree(name: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("upload-exporter-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&root);
    fs::create_dir_all(root.join("reports/2026/11")).unwrap();
    fs::create_dir_all(root.join("invoices")).unwrap();
    write_file(&root.join("reports/a.csv"), 10, 1_700_000_000);
    write_file(&root.join("reports/2026/11/b.csv"), 32, 1_700_003_600);
    write_file(&root.join("invoices/.partial.pdf"), 99, 1_700_009_999);
    write_file(&root.join("README"), 5, 1_600_000_000);
    root
}

fn write_file(path: &Path, len: usize, mtime: u64) {
    fs::write(path, vec![b'x'; len]).unwrap();
    let file = File::options().write(true).open(path).unwrap();
    file.set_modified(UNIX_EPOCH + Duration::from_secs(mtime))
        .unwrap();
}

fn expected_upload_metrics(root: &Path) -> String {
    let source = root.display();
    format!(
        "\
# HELP upload_newest_file_timestamp_seconds Modification time of the newest file under the prefix, in Unix seconds.
# TYPE upload_newest_file_timestamp_seconds gauge
upload_newest_file_timestamp_seconds{{source=\"{source}\",prefix=\"/\"}} 1600000000.0
upload_newest_file_timestamp_seconds{{source=\"{source}\",prefix=\"reports\"}} 1700003600.0
# HELP upload_files Number of files under the prefix.
# TYPE upload_files gauge
upload_files{{source=\"{source}\",prefix=\"/\"}} 1.0
upload_files{{source=\"{source}\",prefix=\"invoices\"}} 0.0
upload_files{{source=\"{source}\",prefix=\"reports\"}} 2.0
# HELP upload_bytes Total size of the files under the prefix.
# TYPE upload_bytes gauge
upload_bytes{{source=\"{source}\",prefix=\"/\"}} 5.0
upload_bytes{{source=\"{source}\",prefix=\"invoices\"}} 0.0
upload_bytes{{source=\"{source}\",prefix=\"reports\"}} 42.0
# HELP upload_scan_errors Entries that could not be read during the last listing (permissions, races).
# TYPE upload_scan_errors gauge
upload_scan_errors{{source=\"{source}\"}} 0.0
# HELP upload_listing_success 1 if the last listing of the source succeeded; 0 if it failed, and then no file statistics are exported.
# TYPE upload_listing_success gauge
upload_listing_success{{source=\"{source}\"}} 1.0
"
    )
}

#[test]
fn scrape_with_the_token_gets_the_upload_metrics() {
    let root = upload_tree("token");
    let vcap = format!(r#"{{"application_id":"{GUID}"}}"#);
    let exporter = start(&root, &[("VCAP_APPLICATION", &vcap)]);
    let bearer = format!("Bearer {GUID}");
    let response = get(&exporter.addr, "/metrics", &[("Authorization", &bearer)]);
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert!(
        response.text().starts_with(&expected_upload_metrics(&root)),
        "{}",
        response.text()
    );
    fs::remove_dir_all(root).unwrap();
}

#[test]
fn scrape_without_the_token_is_refused() {
    let root = upload_tree("no-token");
    let vcap = format!(r#"{{"application_id":"{GUID}"}}"#);
    let exporter = start(&root, &[("VCAP_APPLICATION", &vcap)]);
    let missing = get(&exporter.addr, "/metrics", &[]);
    assert_eq!(missing.status, 401);
    assert_eq!(
        missing.header("www-authenticate"),
        Some("Bearer realm=\"metrics\"")
    );
    let wrong = get(
        &exporter.addr,
        "/metrics",
        &[("Authorization", "Bearer not-the-guid")],
    );
    assert_eq!(wrong.status, 403);
    for response in [&missing, &wrong] {
        assert!(!response.text().contains(GUID));
        assert!(!response.text().contains("upload_files"));
    }
    fs::remove_dir_all(root).unwrap();
}

#[test]
fn without_vcap_application_anyone_may_scrape_and_requests_are_counted() {
    let root = upload_tree("open");
    let exporter = start(&root, &[]);
    assert_eq!(get(&exporter.addr, "/healthz", &[]).text(), "ok\n");
    assert_eq!(get(&exporter.addr, "/nowhere", &[]).status, 404);
    let accept = "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
    let response = get(&exporter.addr, "/metrics", &[("Accept", accept)]);
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    let text = response.text();
    let host = format!("host=\"{}\"", exporter.addr);
    for line in [
        format!("http_server_requests_total{{method=\"GET\",{host},path=\"/healthz\",code=\"200\"}} 1.0"),
        format!("http_server_requests_total{{method=\"GET\",{host},path=\"No endpoint\",code=\"404\"}} 1.0"),
    ] {
        assert!(text.lines().any(|l| l == line), "missing `{line}` in\n{text}");
    }
    assert!(text.ends_with("# EOF\n"));
    fs::remove_dir_all(root).unwrap();
}

#[test]
fn newest_file_time_follows_a_new_upload_at_the_next_listing() {
    let root = upload_tree("new-upload");
    let exporter = start(&root, &[]);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    write_file(&root.join("invoices/c.pdf"), 7, now);
    let source = root.display();
    let newest =
        format!("upload_newest_file_timestamp_seconds{{source=\"{source}\",prefix=\"invoices\"}} {now}.0");
    let text = wait_for_line(&exporter, &newest);
    let bytes = format!("upload_bytes{{source=\"{source}\",prefix=\"invoices\"}} 7.0");
    assert!(text.lines().any(|l| l == bytes), "{text}");
    fs::remove_dir_all(root).unwrap();
}

/// Scrapes until a line appears (listings refresh every second here), for at most 20s.
fn wait_for_line(exporter: &Exporter, line: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let text = get(&exporter.addr, "/metrics", &[]).text();
        if text.lines().any(|l| l == line) {
            return text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "missing `{line}` in\n{text}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
