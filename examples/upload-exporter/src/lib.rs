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
pub use probe::{ProbeTarget, Prober};

use axum::extract::{Query, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use gds_metrics::axum::MetricsLayer;
use gds_metrics::Endpoint;
use serde::Deserialize;
use std::sync::Arc;
use tower_http::catch_panic::CatchPanicLayer;

/// The exporter's HTTP app: the `s3_exporter`-compatible probe and a health check behind
/// the core's [`MetricsLayer`], which answers the metrics endpoint (auth, negotiation and
/// gzip) and records every other request under its route template, or `No endpoint` when
/// no route matched.
///
/// A panic in a handler is answered `500` and logged (and counted by the layer), never a
/// dropped connection.
pub fn app(endpoint: Arc<Endpoint>, prober: Arc<Prober>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/probe", get(probe).with_state(prober))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(MetricsLayer::new(endpoint))
}

/// The answer to a request whose handler panicked: logged with the panic's message, and a
/// short `500` for the client.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned());
    eprintln!("upload-exporter: a request handler panicked: {message}");
    let body = "Internal error: the request failed; the exporter logged why.\n";
    (axum::http::StatusCode::INTERNAL_SERVER_ERROR, body).into_response()
}

#[derive(Deserialize)]
struct ProbeParams {
    bucket: Option<String>,
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    delimiter: String,
}

/// `/probe?bucket=…&prefix=…&delimiter=…`: refused (401/403/405) before the parameters are
/// read; parameters that are not S3 names are the caller's mistake (400); only then is
/// the bucket listed.
async fn probe(State(prober): State<Arc<Prober>>, request: Request) -> Response {
    let headers: Vec<(&str, &[u8])> = request
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
        .collect();
    let method = request.method().as_str();
    if let Some(refused) = prober.refusal(method, &headers) {
        return refused.into_response();
    }
    let params = match Query::<ProbeParams>::try_from_uri(request.uri()) {
        Ok(Query(params)) => params,
        Err(error) => return bad_request(format!("cannot read the probe's parameters: {error}")),
    };
    match ProbeTarget::new(params.bucket.as_deref(), &params.prefix, &params.delimiter) {
        Ok(target) => prober.answer(&target, method, &headers).await.into_response(),
        Err(message) => bad_request(message),
    }
}

fn bad_request(message: String) -> Response {
    (axum::http::StatusCode::BAD_REQUEST, format!("{message}\n")).into_response()
}
