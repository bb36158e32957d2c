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
pub mod state;
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
    let routes = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/probe", get(probe).with_state(prober));
    with_layers(routes, endpoint)
}

/// `routes` behind the panic guard and the core's [`MetricsLayer`] (outermost, so a
/// request whose handler panicked is recorded with its `500`).
pub fn with_layers(routes: Router, endpoint: Arc<Endpoint>) -> Router {
    routes
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

#[cfg(test)]
mod tests {
    use super::*;
    use gds_metrics::serve::{serve, ServerLimits};
    use gds_metrics::{Config, Format, Registry};
    use std::io::{Read, Write};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_handler_is_a_500_and_is_counted() {
        let registry = Arc::new(Registry::new());
        let config = Config::builder().auth_enabled(false).build().unwrap();
        let endpoint = Arc::new(Endpoint::new(config, registry.clone()).unwrap());
        let routes = Router::new().route(
            "/boom",
            get(|| async {
                panic!("a handler bug");
                #[allow(unreachable_code)]
                ""
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = with_layers(routes, endpoint);
        tokio::spawn(serve(
            listener,
            app,
            ServerLimits::default(),
            std::future::pending(),
        ));
        let response = tokio::task::spawn_blocking(move || {
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            stream
                .set_read_timeout(Some(std::time::Duration::from_secs(10)))
                .unwrap();
            write!(
                stream,
                "GET /boom HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            .unwrap();
            let mut text = String::new();
            stream.read_to_string(&mut text).unwrap();
            text
        })
        .await
        .unwrap();
        assert!(response.starts_with("HTTP/1.1 500 "), "{response}");
        let text = registry.render(Format::Text);
        assert!(
            text.contains(
                "http_server_requests_total{method=\"GET\",host=\"x\",path=\"/boom\",code=\"500\"} 1.0"
            ),
            "{text}"
        );
    }
}
