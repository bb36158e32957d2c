//! `/probe?bucket=…&prefix=…&delimiter=…`, compatible with `s3_exporter` 0.4 and later:
//! lists every object of the bucket whose key starts with `prefix` (all pages, within the
//! listing bounds) and answers with that exporter's metric names and labels, so its users
//! keep their scrape configs and rules. With a `delimiter` it counts the common prefixes
//! instead (`s3_common_prefixes`). A failed listing answers `s3_list_success 0` only.
//!
//! The token is checked before anything else, and the bucket and prefix are checked as S3
//! names, so a request that would be refused or is malformed never reaches S3. Auth,
//! format negotiation and gzip are the core endpoint's, as for `/metrics`.

use crate::source::{for_each_object, list_error};
use gds_metrics::targets::{s3_client, S3Location};
use gds_metrics::{Config, Endpoint, Opts, Registry, Request, Response};
use object_store::aws::AmazonS3;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// S3 clients kept for the most recently probed buckets; older ones are dropped, so probes
/// of ever new bucket names cannot grow the process.
const CACHED_CLIENTS: usize = 8;

/// Answers probes: one S3 client per recently probed bucket, at most `concurrency`
/// listings at a time, each within `timeout`.
#[derive(Debug)]
pub struct Prober {
    config: Config,
    /// Decides refusals (method, token) before any listing.
    gate: Endpoint,
    aws_settings: Vec<(String, String)>,
    /// Most recently used last.
    clients: Mutex<Vec<(String, Arc<AmazonS3>)>>,
    timeout: Duration,
    permits: Semaphore,
}

/// A probe's parameters, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeTarget {
    /// The bucket to list; required.
    pub bucket: String,
    /// Only keys under this prefix are counted; empty for the whole bucket.
    pub prefix: String,
    /// With a delimiter (usually `/`), the keys' common prefixes up to it are counted
    /// instead of the objects (`s3_common_prefixes`), as in `s3_exporter`; empty for none.
    pub delimiter: String,
}

impl ProbeTarget {
    /// Checks the query parameters as S3 names; the error is the `400` body.
    pub fn new(bucket: Option<&str>, prefix: &str, delimiter: &str) -> Result<ProbeTarget, String> {
        let bucket = bucket
            .filter(|b| !b.is_empty())
            .ok_or("give the bucket to list: /probe?bucket=<bucket>&prefix=<key prefix>[&delimiter=/]")?;
        check_bucket(bucket)?;
        check_key_part("prefix", prefix, 1024)?;
        check_key_part("delimiter", delimiter, 64)?;
        Ok(ProbeTarget {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
            delimiter: delimiter.to_owned(),
        })
    }
}

/// S3's bucket naming rules: 3 to 63 characters of lowercase letters, digits, `.` and `-`,
/// starting and ending with a letter or digit, no `..`, not shaped like an IP address.
fn check_bucket(bucket: &str) -> Result<(), String> {
    let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-';
    let edge = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let bytes = bucket.as_bytes();
    let valid = (3..=63).contains(&bytes.len())
        && bytes.iter().all(|b| allowed(*b))
        && edge(bytes.first())
        && edge(bytes.last())
        && !bucket.contains("..")
        && bucket.parse::<std::net::Ipv4Addr>().is_err();
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`bucket` is not an S3 bucket name (3 to 63 characters: a-z, 0-9, `.` and `-`, \
             starting and ending with a letter or digit), got {bucket:?}"
        ))
    }
}

/// A key prefix or delimiter: at most `max` bytes of UTF-8 without control characters.
fn check_key_part(what: &str, text: &str, max: usize) -> Result<(), String> {
    if text.len() > max || text.chars().any(char::is_control) {
        return Err(format!(
            "`{what}` must be at most {max} bytes without control characters, got {} bytes",
            text.len()
        ));
    }
    Ok(())
}

/// What a probe found.
#[derive(Debug, Default, Clone, PartialEq)]
struct ProbeResult {
    objects: u64,
    bytes: u64,
    biggest: u64,
    last_modified: f64,
    last_modified_size: u64,
    common_prefixes: BTreeSet<String>,
    seconds: f64,
}

impl ProbeResult {
    /// Counts one object, or its common prefix when `delimiter` follows `prefix` in its key.
    fn add(&mut self, target: &ProbeTarget, key: &str, size: u64, modified: f64) {
        let Some(rest) = key.strip_prefix(&target.prefix) else {
            return;
        };
        if let Some(at) = (!target.delimiter.is_empty())
            .then(|| rest.find(&target.delimiter))
            .flatten()
        {
            let end = target.prefix.len() + at + target.delimiter.len();
            self.common_prefixes.insert(key[..end].to_owned());
            return;
        }
        self.objects += 1;
        self.bytes += size;
        self.biggest = self.biggest.max(size);
        if modified > self.last_modified {
            self.last_modified = modified;
            self.last_modified_size = size;
        }
    }
}

impl Prober {
    /// A prober that refuses requests the core's `config` refuses (auth, methods), lists
    /// with `aws_settings`, gives each listing `timeout` and answers at most
    /// `concurrency` probes at once.
    pub fn new(
        config: Config,
        aws_settings: Vec<(String, String)>,
        timeout: Duration,
        concurrency: usize,
    ) -> gds_metrics::Result<Prober> {
        Ok(Prober {
            gate: Endpoint::new(config.clone(), Arc::new(Registry::new()))?,
            config,
            aws_settings,
            clients: Mutex::new(Vec::new()),
            timeout,
            permits: Semaphore::new(concurrency),
        })
    }

    /// The refusal of a probe request (wrong method, missing or wrong token), decided by
    /// the core endpoint before any parameter is read or any S3 call made.
    pub fn refusal(&self, method: &str, headers: &[(&str, &[u8])]) -> Option<Response> {
        self.gate
            .refusal(&request(method, self.gate.config().metrics_path(), headers))
    }

    fn client(&self, bucket: &str) -> Result<Arc<AmazonS3>, String> {
        let mut clients = self
            .clients
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(at) = clients.iter().position(|(name, _)| name == bucket) {
            let entry = clients.remove(at);
            let client = entry.1.clone();
            clients.push(entry);
            return Ok(client);
        }
        let client = Arc::new(s3_client(bucket, &self.aws_settings).map_err(|e| e.to_string())?);
        if clients.len() >= CACHED_CLIENTS {
            clients.remove(0);
        }
        clients.push((bucket.to_owned(), client.clone()));
        Ok(client)
    }

    /// How many buckets have a cached client (for tests of the bound).
    pub fn cached_clients(&self) -> usize {
        self.clients
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }

    /// Lists the objects of the bucket whose key starts with the prefix (a raw key prefix,
    /// as S3's own `prefix` parameter: `2026-1` matches `2026-11/a.csv`).
    async fn list(&self, target: &ProbeTarget) -> Result<ProbeResult, String> {
        let _permit = self.permits.acquire().await.map_err(|e| e.to_string())?;
        let client = self.client(&target.bucket)?;
        let started = Instant::now();
        // object_store lists whole folders: list the prefix's folder, keep matching keys.
        let folder = target.prefix.rsplit_once('/').map(|(folder, _)| folder);
        let mut result = ProbeResult::default();
        let listing = for_each_object(&client, folder, |key, size, modified| {
            result.add(target, key, size, modified);
        });
        let location = S3Location {
            bucket: target.bucket.clone(),
            prefix: target.prefix.clone(),
        };
        let outcome = tokio::time::timeout(self.timeout, listing).await;
        result.seconds = started.elapsed().as_secs_f64();
        match outcome {
            Ok(Ok(())) => Ok(result),
            Ok(Err(failure)) => Err(list_error(&location, failure)),
            Err(_) => Err(format!("listing took longer than {}s", self.timeout.as_secs())),
        }
    }

    /// The probe's answer: the core endpoint's response for a request with `method` and
    /// `headers` (auth, negotiation, gzip), over the probe's metrics.
    pub async fn answer(&self, target: &ProbeTarget, method: &str, headers: &[(&str, &[u8])]) -> Response {
        if let Some(refused) = self.refusal(method, headers) {
            return refused;
        }
        let result = self.list(target).await;
        if let Err(error) = &result {
            eprintln!(
                "upload-exporter: probe of s3://{}/{} failed: {error}",
                target.bucket, target.prefix
            );
        }
        match render(self.config.clone(), target, result.ok()) {
            Ok(endpoint) => endpoint.handle(&request(method, endpoint.config().metrics_path(), headers)),
            Err(error) => Response {
                status: 500,
                headers: vec![("content-type", "text/plain; charset=utf-8".to_owned())],
                body: format!("cannot build the probe's metrics: {error}\n").into_bytes(),
            },
        }
    }
}

fn request<'a>(method: &'a str, path: &'a str, headers: &[(&'a str, &'a [u8])]) -> Request<'a> {
    headers
        .iter()
        .fold(Request::new(method, path), |request, (name, value)| {
            request.header(name, value)
        })
}

/// A one-off endpoint whose registry holds only the probe's gauges, named and labelled as
/// `s3_exporter` names them.
fn render(
    config: Config,
    target: &ProbeTarget,
    result: Option<ProbeResult>,
) -> gds_metrics::Result<Endpoint> {
    let registry = Arc::new(Registry::new());
    let (bucket, prefix, delimiter) = (&*target.bucket, &*target.prefix, &*target.delimiter);
    let set = |name: &str, help: &str, labels: &[&str], value: f64| -> gds_metrics::Result<()> {
        let names: &[&str] = if labels.len() == 3 {
            &["bucket", "prefix", "delimiter"]
        } else {
            &["bucket", "prefix"]
        };
        registry
            .gauge(Opts::new(name, help).labels(names.iter().copied()))?
            .labels(labels)?
            .set(value);
        Ok(())
    };
    let success = if result.is_some() { 1.0 } else { 0.0 };
    set(
        "s3_list_success",
        "If the ListObjects operation was a success",
        &[bucket, prefix, delimiter],
        success,
    )?;
    if let Some(found) = result {
        set(
            "s3_list_duration_seconds",
            "The total duration of the list operation",
            &[bucket, prefix, delimiter],
            found.seconds,
        )?;
        if delimiter.is_empty() {
            object_gauges(&set, &[bucket, prefix], &found)?;
        } else {
            set(
                "s3_common_prefixes",
                "A count of all the keys between the prefix and the next occurrence of the string specified by the delimiter",
                &[bucket, prefix, delimiter],
                found.common_prefixes.len() as f64,
            )?;
        }
    }
    let endpoint = Endpoint::new(config, registry.clone())?;
    // The probe answers with the bucket's metrics only; the exporter's own request
    // metrics are on `/metrics`.
    for name in [
        "http_server_requests",
        "http_server_request_duration_seconds",
        "http_server_exceptions",
    ] {
        registry.unregister(name);
    }
    Ok(endpoint)
}

type SetGauge<'a> = dyn Fn(&str, &str, &[&str], f64) -> gds_metrics::Result<()> + 'a;

/// The per-object gauges of a probe without a delimiter.
fn object_gauges(set: &SetGauge<'_>, labels: &[&str], found: &ProbeResult) -> gds_metrics::Result<()> {
    set(
        "s3_last_modified_object_date",
        "The last modified date of the object that was modified most recently",
        labels,
        found.last_modified.floor(),
    )?;
    set(
        "s3_last_modified_object_size_bytes",
        "The size of the object that was modified most recently",
        labels,
        found.last_modified_size as f64,
    )?;
    set(
        "s3_objects",
        "The total number of objects for the bucket/prefix combination",
        labels,
        found.objects as f64,
    )?;
    set(
        "s3_objects_size_sum_bytes",
        "The total size of all objects summed",
        labels,
        found.bytes as f64,
    )?;
    set(
        "s3_biggest_object_size_bytes",
        "The size of the biggest object",
        labels,
        found.biggest as f64,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_the_s3_rules() {
        for ok in ["uploads", "a.b-c", "abc", &"a".repeat(63)] {
            assert!(ProbeTarget::new(Some(ok), "", "").is_ok(), "{ok}");
        }
        for bad in [
            "up\0loads",
            "Uploads",
            "ab",
            "a..b",
            "-ab",
            "ab-",
            "192.168.1.1",
            &"a".repeat(64),
        ] {
            assert!(ProbeTarget::new(Some(bad), "", "").is_err(), "{bad:?}");
        }
        assert!(ProbeTarget::new(None, "", "").is_err());
    }

    #[test]
    fn prefixes_and_delimiters_are_bounded_and_free_of_control_characters() {
        assert!(ProbeTarget::new(Some("uploads"), "incoming/é", "/").is_ok());
        assert!(ProbeTarget::new(Some("uploads"), "a\nb", "").is_err());
        assert!(ProbeTarget::new(Some("uploads"), &"k".repeat(1025), "").is_err());
        assert!(ProbeTarget::new(Some("uploads"), "", "\0").is_err());
    }

    #[test]
    fn clients_are_kept_for_the_most_recent_buckets_only() {
        let config = Config::builder().auth_enabled(false).build().unwrap();
        let settings = [
            ("AWS_ACCESS_KEY_ID", "k"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_REGION", "us-east-1"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .to_vec();
        let prober = Prober::new(config, settings, Duration::from_secs(1), 1).unwrap();
        for i in 0..3 * CACHED_CLIENTS {
            prober.client(&format!("bucket-{i}")).unwrap();
        }
        assert_eq!(prober.cached_clients(), CACHED_CLIENTS);
        let newest = format!("bucket-{}", 3 * CACHED_CLIENTS - 1);
        let kept = prober
            .clients
            .lock()
            .unwrap()
            .iter()
            .any(|(name, _)| *name == newest);
        assert!(kept);
    }

    #[test]
    fn a_delimiter_counts_common_prefixes_and_only_direct_objects() {
        let target = ProbeTarget::new(Some("uploads"), "in/", "/").unwrap();
        let mut result = ProbeResult::default();
        for key in ["in/a/1.csv", "in/a/2.csv", "in/b/1.csv", "in/top.csv", "other/x"] {
            result.add(&target, key, 1, 1.0);
        }
        let prefixes: Vec<&str> = result.common_prefixes.iter().map(String::as_str).collect();
        assert_eq!(prefixes, ["in/a/", "in/b/"]);
        assert_eq!(result.objects, 1);
    }
}
