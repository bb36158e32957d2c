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

use axum::routing::get;
use axum::Router;
use gds_metrics::axum::MetricsLayer;
use gds_metrics::Endpoint;
use std::sync::Arc;

/// The exporter's HTTP app: a health check behind the core's [`MetricsLayer`], which
/// answers the metrics endpoint (auth, negotiation and gzip) and records every other
/// request under its route template, or `No endpoint` when no route matched.
pub fn app(endpoint: Arc<Endpoint>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .layer(MetricsLayer::new(endpoint))
}
