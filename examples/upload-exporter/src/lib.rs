//! A Prometheus exporter for uploaded files, written with `gds-metrics` the way any
//! exporter author would.
//!
//! The case: a team receives files from partners under one folder (or S3 prefix) per
//! partner and must be alerted when an expected file has NOT arrived by a given time. The
//! exporter lists local directories and S3 prefixes on an interval (one listing shared by
//! every scrape), exposes per prefix the newest file's modification time, the number of
//! files and their size, and computes each configured deadline itself, so the alert rule
//! is `upload_overdue == 1` and Alertmanager's time intervals decide when it is heard.
//! `/probe` answers like `s3_exporter`.

mod collector;
pub mod config;
pub mod deadline;
pub mod probe;
pub mod source;
pub mod watch;

pub use collector::UploadCollector;
pub use probe::Prober;

use axum::extract::{MatchedPath, Query, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use gds_metrics::Endpoint;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Instant;

/// The exporter's HTTP app: the metrics endpoint (auth, negotiation and gzip come from the
/// core), the `s3_exporter`-compatible probe and a health check, with every other request
/// counted in the request metrics.
pub fn app(endpoint: Arc<Endpoint>, prober: Arc<Prober>) -> Router {
    let metrics_path = endpoint.config().metrics_path().to_owned();
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/probe", get(probe).with_state(prober))
        .layer(middleware::from_fn_with_state(endpoint.clone(), record_request))
        .route(&metrics_path, any(endpoint.axum_handler()))
}

#[derive(Deserialize)]
struct ProbeParams {
    bucket: Option<String>,
    #[serde(default)]
    prefix: String,
}

/// `/probe?bucket=…&prefix=…`; a missing bucket is the caller's mistake (400).
async fn probe(
    State(prober): State<Arc<Prober>>,
    Query(params): Query<ProbeParams>,
    request: Request,
) -> Response {
    let Some(bucket) = params.bucket.filter(|bucket| !bucket.is_empty()) else {
        let message = "give the bucket to list: /probe?bucket=<bucket>&prefix=<key prefix>\n";
        return (axum::http::StatusCode::BAD_REQUEST, message).into_response();
    };
    let headers: Vec<(&str, &[u8])> = request
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
        .collect();
    prober
        .answer(&bucket, &params.prefix, request.method().as_str(), &headers)
        .await
        .into_response()
}

/// Records a request under its route template, or `No endpoint` when no route matched.
/// The metrics route is mounted outside this layer: the endpoint records its own scrapes.
async fn record_request(State(endpoint): State<Arc<Endpoint>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let host = header_text(&request, "host");
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let response = next.run(request).await;
    endpoint.request_metrics().record(
        &method,
        &host,
        route.as_deref(),
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

fn header_text(request: &Request, name: &str) -> String {
    request
        .headers()
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default()
}
