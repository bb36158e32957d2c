//! Real processes on loopback for the broker's tests: the Cloud Controller stand-in
//! (`demo/cf_api.py`), the S3 server (`s3s-fs`), the broker and its updater, and a small
//! HTTP/1.1 client that can also send what no well-behaved client would.
#![allow(dead_code)]

#[path = "../../../../core/tests/support/s3_server.rs"]
pub(crate) mod s3_server;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub(crate) const USERNAME: &str = "platform";
pub(crate) const PASSWORD: &str = "broker-password";
pub(crate) const CLIENT_ID: &str = "prometheus-broker";
pub(crate) const CLIENT_SECRET: &str = "prometheus-broker-secret";
pub(crate) const SERVICE_ID: &str = gds_prometheus_broker::broker::SERVICE_ID;
pub(crate) const PLAN_ID: &str = gds_prometheus_broker::broker::PLAN_ID;

pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Everything a child printed on stdout and stderr so far, for tests that check what
/// reaches a log.
#[derive(Clone, Default)]
pub(crate) struct Output(Arc<Mutex<String>>);

impl Output {
    pub(crate) fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }

    fn push(&self, line: &str) {
        self.0.lock().unwrap().push_str(line);
    }

    /// Copies `stream` into this output, line by line, until it closes.
    fn collect(&self, stream: impl Read + Send + 'static) {
        let output = self.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                output.push(&line);
                line.clear();
            }
        });
    }
}

/// Reads a child's stdout up to the line that says where it listens, then keeps
/// collecting stdout and stderr into the returned output (so the child never blocks on a
/// full pipe).
fn first_line(child: &mut Child, what: &str) -> (String, Output) {
    let output = Output::default();
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    while !line.contains("listening on") {
        line.clear();
        let read = reader
            .read_line(&mut line)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(read > 0, "{what} exited before it listened");
        output.push(&line);
    }
    output.collect(reader);
    if let Some(stderr) = child.stderr.take() {
        output.collect(stderr);
    }
    (line.trim().to_owned(), output)
}

fn port_of(line: &str) -> u16 {
    line.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in `{line}`"))
}

/// The Cloud Controller and UAA stand-in, stopped when dropped.
pub(crate) struct CfApi {
    child: Child,
    pub url: String,
    _apps: tempfile::NamedTempFile,
}

impl CfApi {
    pub(crate) fn start(apps: &Value) -> CfApi {
        CfApi::start_with(apps, &[])
    }

    /// The stand-in with more options, such as `--token-lifetime 2` or `--max-per-page 2`.
    pub(crate) fn start_with(apps: &Value, options: &[&str]) -> CfApi {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(apps.to_string().as_bytes()).unwrap();
        let mut child = Command::new("python3")
            .arg(repo_root().join("demo/cf_api.py"))
            .args(["--port", "0", "--apps"])
            .arg(file.path())
            .args(["--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET])
            .args(options)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs demo/cf_api.py");
        let (line, _) = first_line(&mut child, "cf_api.py");
        let url = format!("http://127.0.0.1:{}", port_of(&line));
        CfApi {
            child,
            url,
            _apps: file,
        }
    }

    pub(crate) fn admin(&self, path: &str, body: Value) {
        let response = http(
            &self.url,
            "POST",
            path,
            &[("content-type", "application/json")],
            body.to_string().as_bytes(),
        );
        assert!(
            response.status < 300,
            "admin {path}: {} {}",
            response.status,
            response.text
        );
    }

    pub(crate) fn change(&self, guid: &str, change: Value) {
        self.admin(&format!("/admin/apps/{guid}"), change);
    }

    /// How many requests each path has had.
    pub(crate) fn requests(&self) -> Value {
        http(&self.url, "GET", "/admin/requests", &[], b"").json()
    }

    /// How many requests `path` has had.
    pub(crate) fn requests_to(&self, path: &str) -> u64 {
        self.requests()[path].as_u64().unwrap_or(0)
    }

    /// How many /v3 answers had `status`.
    pub(crate) fn answers_with(&self, status: u16) -> u64 {
        let statuses = http(&self.url, "GET", "/admin/statuses", &[], b"").json();
        statuses[status.to_string()].as_u64().unwrap_or(0)
    }

    /// Every UAA token issued so far.
    pub(crate) fn tokens(&self) -> Vec<String> {
        let tokens = http(&self.url, "GET", "/admin/tokens", &[], b"").json();
        serde_json::from_value(tokens).unwrap()
    }
}

impl Drop for CfApi {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the targets are kept in a test.
pub(crate) enum Location {
    Directory(tempfile::TempDir),
    S3(s3_server::S3Server),
}

impl Location {
    pub(crate) fn directory() -> Location {
        Location::Directory(tempfile::tempdir().unwrap())
    }

    pub(crate) fn s3() -> Location {
        Location::S3(s3_server::S3Server::start(&["targets"]))
    }

    pub(crate) fn env(&self) -> Vec<(String, String)> {
        match self {
            Location::Directory(dir) => vec![("TARGETS_LOCATION".into(), dir.path().display().to_string())],
            Location::S3(server) => {
                let mut env = server.env();
                env.push(("TARGETS_LOCATION".into(), "s3://targets/prod".into()));
                env
            }
        }
    }

    /// The root of the store on disk (s3s-fs keeps objects as files).
    pub(crate) fn root(&self) -> PathBuf {
        match self {
            Location::Directory(dir) => dir.path().to_owned(),
            Location::S3(server) => server.object_path("targets", "prod"),
        }
    }

    /// Every file below the root, relative, sorted, with its contents: what "the store is
    /// untouched" compares. s3s-fs's own metadata files are left out.
    pub(crate) fn snapshot(&self) -> Vec<(String, Vec<u8>)> {
        let mut files = Vec::new();
        walk(&self.root(), &self.root(), &mut files);
        files.retain(|(name, _)| !name.contains(".s3s") && !name.ends_with(".lock"));
        files.sort();
        files
    }

    /// The app GUIDs with a file in `folder`.
    pub(crate) fn guids(&self, folder: &str) -> Vec<String> {
        let mut guids: Vec<String> = std::fs::read_dir(self.root().join(folder))
            .map(|entries| {
                entries
                    .flatten()
                    .filter_map(|e| e.file_name().into_string().ok())
                    .filter_map(|n| n.strip_suffix(".json").map(str::to_owned))
                    .filter(|n| !n.starts_with('.'))
                    .collect()
            })
            .unwrap_or_default();
        guids.sort();
        guids
    }

    pub(crate) fn target(&self, folder: &str, guid: &str) -> Value {
        let bytes = std::fs::read(self.root().join(folder).join(format!("{guid}.json")))
            .unwrap_or_else(|e| panic!("{folder}/{guid}.json: {e}"));
        serde_json::from_slice(&bytes).unwrap()
    }

    /// Leftovers of killed writers: temporary files anywhere in the store.
    pub(crate) fn temporaries(&self) -> Vec<String> {
        let mut files = Vec::new();
        walk(&self.root(), &self.root(), &mut files);
        files
            .into_iter()
            .map(|(n, _)| n)
            .filter(|n| n.ends_with(".tmp"))
            .collect()
    }
}

fn walk(root: &Path, dir: &Path, files: &mut Vec<(String, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(root, &path, files);
        } else {
            let relative = path.strip_prefix(root).unwrap().display().to_string();
            files.push((relative, std::fs::read(&path).unwrap_or_default()));
        }
    }
}

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_gds-prometheus-broker")
}

pub(crate) fn common_env(cf: &CfApi, location: &Location) -> Vec<(String, String)> {
    let mut env = location.env();
    env.extend([
        ("CF_API_URL".into(), cf.url.clone()),
        ("CF_CLIENT_ID".into(), CLIENT_ID.into()),
        ("CF_CLIENT_SECRET".into(), CLIENT_SECRET.into()),
        ("BIND_ADDRESS".into(), "127.0.0.1".into()),
        ("PORT".into(), "0".into()),
    ]);
    env
}

/// A running broker (or updater in `--every` mode), killed when dropped.
pub(crate) struct Process {
    pub child: Child,
    pub url: String,
    /// What it printed on stdout and stderr.
    pub output: Output,
}

impl Process {
    pub(crate) fn broker(cf: &CfApi, location: &Location) -> Process {
        let mut command = Command::new(binary());
        command
            .envs(common_env(cf, location))
            .env("BROKER_USERNAME", USERNAME)
            .env("BROKER_PASSWORD", PASSWORD);
        Process::spawn(command, "the broker")
    }

    pub(crate) fn updater(cf: &CfApi, location: &Location, every: &str) -> Process {
        let mut command = Command::new(binary());
        command
            .args(["update", "--every", every])
            .envs(common_env(cf, location));
        Process::spawn(command, "the updater")
    }

    fn spawn(mut command: Command, what: &str) -> Process {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (line, output) = first_line(&mut child, what);
        let addr: SocketAddr = line.rsplit(' ').next().unwrap().parse().unwrap();
        let mut process = Process {
            child,
            url: format!("http://{addr}"),
            output,
        };
        process.wait_until_listening();
        process
    }

    fn wait_until_listening(&mut self) {
        let addr = self.url.trim_start_matches("http://").to_owned();
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(&addr).is_err() {
            assert!(Instant::now() < deadline, "nothing listens on {addr}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: no chance to finish anything.
    pub(crate) fn kill_hard(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `gds-prometheus-broker update --once`: its exit status and output.
pub(crate) fn update_once(cf: &CfApi, location: &Location) -> (bool, String) {
    run_binary(&["update", "--once"], &common_env(cf, location))
}

/// The binary run to its end with exactly `env`: whether it succeeded, and its stdout and
/// stderr.
pub(crate) fn run_binary(args: &[&str], env: &[(String, String)]) -> (bool, String) {
    let output = Command::new(binary())
        .args(args)
        .env_clear()
        .envs(env.iter().cloned())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// A response: status, headers (lower-case names) and body.
#[derive(Debug)]
pub(crate) struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub text: String,
}

impl HttpResponse {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request on its own connection (`Connection: close`).
pub(crate) fn http(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    let addr = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(request.as_bytes()).unwrap();
    // A server may answer and close before a large body is sent: that is its answer.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> HttpResponse {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no response: {text:?}"));
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked { dechunk(body) } else { body.to_owned() };
    HttpResponse {
        status,
        headers,
        text: body,
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    out
}

/// A platform calling the broker: the credentials and version header on every call.
pub(crate) struct Platform<'a> {
    pub broker: &'a str,
}

impl Platform<'_> {
    pub(crate) fn call(&self, method: &str, path: &str, body: Option<&Value>) -> HttpResponse {
        let auth = format!(
            "Basic {}",
            base64_encode(format!("{USERNAME}:{PASSWORD}").as_bytes())
        );
        let mut headers = vec![("authorization", auth.as_str()), ("x-broker-api-version", "2.17")];
        let bytes = body.map(|b| b.to_string()).unwrap_or_default();
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        http(self.broker, method, path, &headers, bytes.as_bytes())
    }

    pub(crate) fn provision(&self, instance: &str) -> HttpResponse {
        self.call(
            "PUT",
            &format!("/v2/service_instances/{instance}"),
            Some(&provision_body()),
        )
    }

    pub(crate) fn bind(&self, instance: &str, binding: &str, app: &str) -> HttpResponse {
        self.call(
            "PUT",
            &format!("/v2/service_instances/{instance}/service_bindings/{binding}"),
            Some(&bind_body(app)),
        )
    }

    pub(crate) fn unbind(&self, instance: &str, binding: &str) -> HttpResponse {
        self.call(
            "DELETE",
            &format!(
                "/v2/service_instances/{instance}/service_bindings/{binding}?service_id={SERVICE_ID}&plan_id={PLAN_ID}"
            ),
            None,
        )
    }
}

pub(crate) fn provision_body() -> Value {
    json!({"service_id": SERVICE_ID, "plan_id": PLAN_ID, "organization_guid": "org-guid", "space_guid": "space-guid"})
}

pub(crate) fn bind_body(app: &str) -> Value {
    json!({"service_id": SERVICE_ID, "plan_id": PLAN_ID, "bind_resource": {"app_guid": app}})
}

pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// An app for the stand-in's apps file.
pub(crate) fn app(guid: &str, name: &str, instances: u32) -> Value {
    json!({"guid": guid, "name": name, "state": "STARTED", "instances": instances,
           "routes": [format!("{name}.apps.internal"), format!("{name}.cloudapps.test")],
           "space": "production", "org": "gds"})
}

/// A GUID whose last digits are `n`.
pub(crate) fn guid(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// Waits (bounded) until `check` holds.
pub(crate) fn eventually(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check() {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
