//! `/probe?bucket=…&prefix=…`, compatible with `s3_exporter`: lists every object of the
//! bucket whose key starts with `prefix` (all pages) when asked, and answers with that
//! exporter's metric names and labels (`bucket`, `prefix`), so its users keep their scrape
//! configs and rules. A failed listing answers `s3_list_success 0` and nothing else.
//!
//! Auth, format negotiation and gzip are the core endpoint's, as for `/metrics`.

use crate::source::{for_each_object, list_error};
use gds_metrics::targets::{s3_client, S3Location};
use gds_metrics::{Config, Endpoint, Opts, Registry, Request};
use object_store::aws::AmazonS3;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Answers probes, one S3 client per bucket, at most `concurrency` listings at a time.
#[derive(Debug)]
pub struct Prober {
    config: Config,
    aws_settings: Vec<(String, String)>,
    clients: Mutex<HashMap<String, Arc<AmazonS3>>>,
    timeout: Duration,
    permits: Semaphore,
}

/// What a probe found.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct ProbeResult {
    objects: u64,
    bytes: u64,
    biggest: u64,
    last_modified: f64,
}

impl Prober {
    pub fn new(
        config: Config,
        aws_settings: Vec<(String, String)>,
        timeout: Duration,
        concurrency: usize,
    ) -> Prober {
        Prober {
            config,
            aws_settings,
            clients: Mutex::new(HashMap::new()),
            timeout,
            permits: Semaphore::new(concurrency),
        }
    }

    fn client(&self, bucket: &str) -> Result<Arc<AmazonS3>, String> {
        let mut clients = self
            .clients
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(client) = clients.get(bucket) {
            return Ok(client.clone());
        }
        let client = Arc::new(s3_client(bucket, &self.aws_settings).map_err(|e| e.to_string())?);
        clients.insert(bucket.to_owned(), client.clone());
        Ok(client)
    }

    /// Lists the objects of `bucket` whose key starts with `prefix` (a raw key prefix, as
    /// S3's own `prefix` parameter: `2026-1` matches `2026-11/a.csv`).
    async fn list(&self, bucket: &str, prefix: &str) -> Result<ProbeResult, String> {
        let _permit = self.permits.acquire().await.map_err(|e| e.to_string())?;
        let client = self.client(bucket)?;
        // object_store lists whole folders: list the prefix's folder, keep matching keys.
        let folder = prefix.rsplit_once('/').map(|(folder, _)| folder);
        let mut result = ProbeResult::default();
        let listing = for_each_object(&client, folder, |key, size, modified| {
            if key.starts_with(prefix) {
                result.objects += 1;
                result.bytes += size;
                result.biggest = result.biggest.max(size);
                result.last_modified = result.last_modified.max(modified);
            }
        });
        let location = S3Location {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
        };
        match tokio::time::timeout(self.timeout, listing).await {
            Ok(Ok(())) => Ok(result),
            Ok(Err(error)) => Err(list_error(&location, error)),
            Err(_) => Err(format!("listing took longer than {}s", self.timeout.as_secs())),
        }
    }

    /// The probe's answer: the core endpoint's response for a request with `method` and
    /// `headers` (auth, negotiation, gzip), over the probe's metrics.
    pub async fn answer(
        &self,
        bucket: &str,
        prefix: &str,
        method: &str,
        headers: &[(&str, &[u8])],
    ) -> gds_metrics::Response {
        let result = self.list(bucket, prefix).await;
        if let Err(error) = &result {
            eprintln!("upload-exporter: probe of s3://{bucket}/{prefix} failed: {error}");
        }
        match render(self.config.clone(), bucket, prefix, result.ok()) {
            Ok(endpoint) => {
                let request = headers.iter().fold(
                    Request::new(method, endpoint.config().metrics_path()),
                    |request, (name, value)| request.header(name, value),
                );
                endpoint.handle(&request)
            }
            Err(error) => gds_metrics::Response {
                status: 500,
                headers: vec![("content-type", "text/plain; charset=utf-8".to_owned())],
                body: format!("cannot build the probe's metrics: {error}\n").into_bytes(),
            },
        }
    }
}

/// A one-off endpoint whose registry holds only the probe's gauges.
fn render(
    config: Config,
    bucket: &str,
    prefix: &str,
    result: Option<ProbeResult>,
) -> gds_metrics::Result<Endpoint> {
    let registry = Arc::new(Registry::new());
    let set = |name: &str, help: &str, value: f64| -> gds_metrics::Result<()> {
        registry
            .gauge(Opts::new(name, help).labels(["bucket", "prefix"]))?
            .labels(&[bucket, prefix])?
            .set(value);
        Ok(())
    };
    set(
        "s3_list_success",
        "If the ListObjects operation was a success",
        if result.is_some() { 1.0 } else { 0.0 },
    )?;
    if let Some(found) = result {
        set(
            "s3_last_modified_object_date",
            "The last modified date of the object that was modified most recently",
            found.last_modified.floor(),
        )?;
        set(
            "s3_objects_total",
            "The total number of objects for the bucket/prefix combination",
            found.objects as f64,
        )?;
        set(
            "s3_objects_size_sum_bytes",
            "The total size of all objects summed",
            found.bytes as f64,
        )?;
        set(
            "s3_biggest_object_size_bytes",
            "The size of the biggest object",
            found.biggest as f64,
        )?;
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
