//! A Prometheus exporter for a tree of uploaded files, written with `gds-metrics` the way
//! any exporter author would.
//!
//! The case: a team receives files from partners under one folder per prefix
//! (`<root>/<prefix>/...`) and must be alerted when an expected file has not arrived by a
//! given time. Each scrape walks the tree and exposes, per prefix, the newest file's
//! modification time, the number of files and their total size; `alerts.yml` turns the
//! first into "no new file under prefix X since T".

mod collector;

pub use collector::UploadCollector;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{any, get};
use axum::Router;
use gds_metrics::Endpoint;
use std::sync::Arc;
use std::time::Instant;

/// The exporter's HTTP app: the metrics endpoint (auth, negotiation and gzip come from the
/// core) and a health check, with every other request counted in the request metrics.
pub fn app(endpoint: Arc<Endpoint>) -> Router {
    let metrics_path = endpoint.config().metrics_path().to_owned();
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .layer(middleware::from_fn_with_state(endpoint.clone(), record_request))
        .route(&metrics_path, any(endpoint.axum_handler()))
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
