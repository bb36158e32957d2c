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

use axum::extract::{Query, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use gds_metrics::axum::MetricsLayer;
use gds_metrics::Endpoint;
use serde::Deserialize;
use std::sync::Arc;

/// The exporter's HTTP app: the `s3_exporter`-compatible probe and a health check behind
/// the core's [`MetricsLayer`], which answers the metrics endpoint (auth, negotiation and
/// gzip) and records every other request under its route template, or `No endpoint` when
/// no route matched.
pub fn app(endpoint: Arc<Endpoint>, prober: Arc<Prober>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/probe", get(probe).with_state(prober))
        .layer(MetricsLayer::new(endpoint))
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
