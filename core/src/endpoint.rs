//! The metrics endpoint: a plain function from request parts to a response
//! (CONTRACT section 2), which every binding and the axum integration call.
//!
//! Decisions, in order: the path must be exactly the configured one, as the client sent
//! it, before any server or framework decoded or normalised it (`//metrics`,
//! `/%6detrics` and `/metrics/` are the app's; a query string is ignored); the method must be `GET` or `HEAD` (`405` otherwise, before auth, since it
//! reveals nothing); the bearer token must match when auth is on (`401`/`403`); then the
//! format is negotiated from `Accept`, the registry rendered, and the body gzip-compressed
//! when `Accept-Encoding` allows. Every scrape, rejected ones included, is recorded in the
//! request metrics under the metrics path, so a binding must not record it again.

use crate::auth::{authorize, AuthDecision};
use crate::config::Config;
use crate::error::Result;
use crate::negotiate::{accepts_gzip, negotiate, Negotiated};
use crate::registry::Registry;
use crate::request_metrics::{FinishedRequest, HostRule, RequestMetrics, Route};
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

/// The parts of an HTTP request the endpoint looks at, borrowed from the framework's own
/// request type.
///
/// ```
/// use gds_metrics::Request;
/// let request = Request::new("GET", "/metrics").header("Authorization", b"Bearer 6b0b3c4e");
/// ```
#[derive(Debug, Clone)]
pub struct Request<'a> {
    method: &'a str,
    path: &'a str,
    mount: &'a str,
    headers: Vec<(&'a str, &'a [u8])>,
}

impl<'a> Request<'a> {
    /// A request for `target` with `method`, both exactly as the client sent them: the
    /// request target before any decoding (`RAW_URI`, `REQUEST_URI`, `getRequestURI()`),
    /// a query string included or not.
    pub fn new(method: &'a str, target: &'a str) -> Self {
        Self {
            method,
            path: target,
            mount: "",
            headers: Vec::new(),
        }
    }

    /// The prefix the app is mounted at (WSGI's `SCRIPT_NAME`, a servlet context path):
    /// the endpoint's path is matched below it.
    pub fn mounted_at(mut self, prefix: &'a str) -> Self {
        self.mount = prefix;
        self
    }

    /// Adds a header. Names are compared case-insensitively; give a repeated header once
    /// per occurrence, as the client sent it (two `Authorization` headers are refused).
    pub fn header(mut self, name: &'a str, value: &'a [u8]) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The method as sent.
    pub fn method(&self) -> &str {
        self.method
    }

    /// The path as given, without any query string.
    pub fn path(&self) -> &str {
        strip_query(self.path)
    }

    /// Every value of the header `name`, in order.
    pub fn header_values(&self, name: &str) -> Vec<&'a [u8]> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
            .collect()
    }
}

/// The path of a request target as sent: without a query, and without the scheme and
/// authority of an absolute-form target (`http://host/metrics`, RFC 9112 section 3.2.2).
fn strip_query(target: &str) -> &str {
    let path = target.split_once('?').map_or(target, |(path, _)| path);
    match path.split_once("://") {
        Some((scheme, rest)) if !scheme.contains('/') => rest.find('/').map_or("/", |at| &rest[at..]),
        _ => path,
    }
}

/// The endpoint's answer: status, headers (lower-case names, as Rack 3 and HTTP/2 want)
/// and body bytes (already compressed when `content-encoding` says so).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// Header names and values, in the order they are to be sent.
    pub headers: Vec<(&'static str, String)>,
    /// The body, compressed when a `content-encoding` header says so.
    pub body: Vec<u8>,
}

impl Response {
    /// The value of the header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Headers every response of the endpoint carries: caches must neither store a scrape nor
/// serve one variant of it for another.
const VARY: (&str, &str) = ("vary", "Accept, Accept-Encoding");
const NO_STORE: (&str, &str) = ("cache-control", "no-store");
const PLAIN_TEXT: &str = "text/plain; charset=utf-8";

/// One app's metrics endpoint. `Send + Sync`: share it (in an `Arc`) between all threads.
///
/// ```
/// use gds_metrics::{Config, Endpoint, Registry, Request};
/// use std::sync::Arc;
///
/// let config = Config::builder().application_id("6b0b3c4e").build_with_env(|_| None)?;
/// let endpoint = Endpoint::new(config, Arc::new(Registry::new()))?;
/// assert!(endpoint.matches("/metrics"));
///
/// let anonymous = endpoint.handle(&Request::new("GET", "/metrics"));
/// assert_eq!(anonymous.status, 401);
///
/// let scrape = Request::new("GET", "/metrics").header("Authorization", b"Bearer 6b0b3c4e");
/// let response = endpoint.handle(&scrape);
/// assert_eq!(response.status, 200);
/// assert_eq!(response.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Endpoint {
    config: Config,
    registry: Arc<Registry>,
    request_metrics: RequestMetrics,
    hosts: HostRule,
    /// The size of the last rendered body, to allocate the next one in one go.
    last_body_len: AtomicUsize,
}

impl Endpoint {
    /// An endpoint serving `registry` as `config` says. The default request metrics are
    /// registered in `registry` once, and shared by every endpoint serving it (each with
    /// its own settings, but for the request duration's native buckets, which the first
    /// endpoint decides); this fails with [`Error::Duplicate`](crate::Error::Duplicate)
    /// if the app registered a family of the same name itself, and with
    /// [`Error::SharedSettingMismatch`](crate::Error::SharedSettingMismatch) if an earlier
    /// endpoint of `registry` had the native buckets the other way.
    pub fn new(config: Config, registry: Arc<Registry>) -> Result<Endpoint> {
        let request_metrics = RequestMetrics::shared(&registry, config.request_native_histogram())?;
        let hosts = HostRule::new(config.routes());
        Ok(Endpoint {
            config,
            registry,
            request_metrics,
            hosts,
            last_body_len: AtomicUsize::new(4096),
        })
    }

    /// The configuration the endpoint was built with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The registry the endpoint renders.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// The default request metrics, for the binding to record the app's own requests.
    pub fn request_metrics(&self) -> &RequestMetrics {
        &self.request_metrics
    }

    /// Records one finished request of the app from its facts; the core decides every
    /// label (see [`request_metrics`](crate::request_metrics)), and, unless the
    /// configuration switched trace exemplars off, the exemplar from its `traceparent`.
    pub fn record(&self, request: &FinishedRequest<'_>) {
        if self.config.trace_exemplars() || request.traceparent.is_empty() {
            self.request_metrics.record(request, &self.hosts);
        } else {
            let untraced = FinishedRequest {
                traceparent: b"",
                ..*request
            };
            self.request_metrics.record(&untraced, &self.hosts);
        }
    }

    /// The rule this endpoint's configuration gives the `host` label.
    pub fn host_rule(&self) -> &HostRule {
        &self.hosts
    }

    /// Whether the request target `target`, as sent, is the endpoint's: exactly the
    /// configured path (no trailing-slash, doubled-slash, dot-segment or percent-encoded
    /// variant); a query string is ignored. Other paths belong to the app.
    pub fn matches(&self, target: &str) -> bool {
        self.matches_below("", target)
    }

    /// [`matches`](Self::matches) for an app mounted at `mount` (`SCRIPT_NAME`, a servlet
    /// context path): `target` must be `mount` followed by the configured path.
    pub fn matches_below(&self, mount: &str, target: &str) -> bool {
        strip_query(target)
            .strip_prefix(mount)
            .is_some_and(|path| path == self.config.metrics_path())
    }

    /// Answers a request for the endpoint's path and records it in the request metrics.
    /// A request for another path gets `404` and is not recorded: check
    /// [`matches`](Self::matches) first and pass other requests to the app.
    pub fn handle(&self, request: &Request<'_>) -> Response {
        let started = Instant::now();
        if !self.matches_below(request.mount, request.path) {
            return short_response(404, "Not found: this is not the metrics path.\n", &[]);
        }
        let response = self.answer(request);
        self.record(&FinishedRequest {
            method: request.method,
            host: request.header_values("host").first().copied().unwrap_or_default(),
            raw_path: request.path,
            route: Route::Template(self.config.metrics_path()),
            status: response.status,
            seconds: started.elapsed().as_secs_f64(),
            exception: None,
            traceparent: single(&request.header_values("traceparent")),
        });
        response
    }

    /// The endpoint's answer when it refuses `request` before any work: a method other
    /// than `GET` or `HEAD` (`405`), a missing or wrong token (`401`/`403`). `None` when
    /// it would be answered. An exporter whose answers cost work per request (a probe that
    /// lists a bucket) asks this first, so unauthenticated requests cost nothing.
    pub fn refusal(&self, request: &Request<'_>) -> Option<Response> {
        if !matches!(request.method, "GET" | "HEAD") {
            return Some(short_response(
                405,
                "Method not allowed: use GET or HEAD.\n",
                &[("allow", "GET, HEAD")],
            ));
        }
        refusal(authorize(
            self.config.token(),
            &request.header_values("authorization"),
        ))
    }

    fn answer(&self, request: &Request<'_>) -> Response {
        if let Some(refused) = self.refusal(request) {
            return refused;
        }
        let head = request.method == "HEAD";
        let offer = negotiate(&request.header_values("accept"));
        let gzip = accepts_gzip(&request.header_values("accept-encoding"));
        self.render(offer, gzip, head)
    }

    /// The `200` response: the exposition as negotiated, compressed if `gzip`, and with
    /// an empty body for `HEAD` (which skips rendering).
    fn render(&self, offer: Negotiated, gzip: bool, head: bool) -> Response {
        let mut headers = vec![
            ("content-type", offer.content_type()),
            (VARY.0, VARY.1.to_owned()),
            (NO_STORE.0, NO_STORE.1.to_owned()),
        ];
        if gzip {
            headers.push(("content-encoding", "gzip".to_owned()));
        }
        if head {
            return Response {
                status: 200,
                headers,
                body: Vec::new(),
            };
        }
        let mut body = Vec::with_capacity(self.last_body_len.load(Relaxed));
        self.registry.encode_with(offer.format, offer.escaping, &mut body);
        self.last_body_len.store(body.len(), Relaxed);
        let body = if gzip { gzip_bytes(&body) } else { body };
        Response {
            status: 200,
            headers,
            body,
        }
    }
}

/// The value of a header sent once; empty when it was absent or repeated (a repeated
/// `traceparent` is invalid).
fn single<'a>(values: &[&'a [u8]]) -> &'a [u8] {
    match values {
        [value] => value,
        _ => b"",
    }
}

/// The response to a scrape that auth refused, or `None` when it may proceed.
fn refusal(decision: AuthDecision) -> Option<Response> {
    let status = decision.status();
    match decision {
        AuthDecision::Allow => None,
        AuthDecision::MissingCredentials => Some(short_response(
            status,
            "Unauthorized: send the app GUID as `Authorization: Bearer <GUID>`.\n",
            &[("www-authenticate", "Bearer realm=\"metrics\"")],
        )),
        AuthDecision::Forbidden => Some(short_response(
            status,
            "Forbidden: the bearer token is not this app's GUID.\n",
            &[],
        )),
    }
}

/// A refusal: one short line of plain text, never naming the token.
fn short_response(status: u16, line: &str, extra: &[(&'static str, &str)]) -> Response {
    let mut headers = vec![
        ("content-type", PLAIN_TEXT.to_owned()),
        (VARY.0, VARY.1.to_owned()),
        (NO_STORE.0, NO_STORE.1.to_owned()),
    ];
    headers.extend(extra.iter().map(|(name, value)| (*name, (*value).to_owned())));
    Response {
        status,
        headers,
        body: line.as_bytes().to_vec(),
    }
}

/// Compresses with the fastest gzip level: scrapes are frequent and metrics text
/// compresses well even so.
fn gzip_bytes(plain: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(plain.len() / 4 + 64), Compression::fast());
    encoder.write_all(plain).expect("writing to a Vec cannot fail");
    encoder.finish().expect("writing to a Vec cannot fail")
}
