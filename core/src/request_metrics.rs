//! The default request metrics every binding reports (CONTRACT section 4).
//!
//! The families, their labels and buckets are defined here and nowhere else, and so is
//! every rule that turns what happened into labels. A binding reports facts only, as a
//! [`FinishedRequest`]: the method, `Host` and path as sent, how the framework routed the
//! request, the status, the duration and the exception if one was raised. The rules:
//!
//! - `method`: upper case; a method outside RFC 9110 and `PATCH` is `OTHER`.
//! - `host`: on the PaaS, the `Host` header lower-cased without its port when it is one of
//!   the app's own routes (`VCAP_APPLICATION.application_uris`), else `other`; off the PaaS,
//!   as sent. Either way the family's series limit bounds it.
//! - `path`: the route template; `No endpoint` when the router matched nothing; for a
//!   framework without a router, `No endpoint` for a `404`, else the raw path (without its
//!   query) with numeric ids and UUIDs collapsed.
//! - `code`: the status, or `500` when an exception escaped the app.
//! - `error`: the exception's class name, or its nearest named ancestor's for an anonymous
//!   class; counted when the exception escaped or the response is a 5xx.
//!
//! A request whose W3C `traceparent` is valid and sampled
//! ([`TraceIds::from_sampled`](crate::traceparent::TraceIds::from_sampled)) also gets its
//! `trace_id` and `span_id` as the exemplar of its count and of its duration's bucket,
//! which protobuf also gives as an exemplar of the duration's native histogram.
//!
//! The duration keeps native buckets (the [`NativeBuckets`] defaults) beside its classic
//! ones unless the configuration switches them off
//! ([`Config::request_native_histogram`](crate::Config::request_native_histogram)): text
//! and OpenMetrics scrapes show the classic buckets either way, and a Prometheus scraping
//! protobuf with native histograms on stores a native histogram.

use crate::config::METRICS_REQUEST_NATIVE_HISTOGRAM;
use crate::error::{Error, Result};
use crate::metrics::unix_nanos_coarse;
use crate::metrics::{Counter, Family, Histogram};
use crate::model::Exemplar;
use crate::model::NativeBuckets;
use crate::model::Opts;
use crate::registry::{Registry, SharedFamilies};
use crate::traceparent::TraceIds;
use std::borrow::Cow;

/// The `path` label of a request no route matched.
pub const NO_ENDPOINT: &str = "No endpoint";

/// The `host` label of a request for a host that is not one of the app's routes.
pub const OTHER_HOST: &str = "other";

/// The `error` label of an exception whose class and ancestors are all unnamed.
pub const UNNAMED_EXCEPTION: &str = "Exception";

/// Bucket bounds of `http_server_request_duration_seconds`, in seconds: the library's
/// [`DEFAULT_BUCKETS`](crate::DEFAULT_BUCKETS).
pub const REQUEST_DURATION_BUCKETS: &[f64] = crate::metrics::DEFAULT_BUCKETS;

const REQUEST_LABELS: [&str; 4] = ["method", "host", "path", "code"];
const FAMILY_NAMES: [&str; 3] = [
    "http_server_requests",
    "http_server_request_duration_seconds",
    "http_server_exceptions",
];

/// How the framework routed a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    /// The template of the route that matched (`/users/<int:id>`, `/users/:id`).
    Template(&'a str),
    /// The framework has a router and no route matched.
    NoMatch,
    /// The framework has no router (plain WSGI, Rack or servlets).
    NoRouter,
}

impl<'a> Route<'a> {
    /// The route from the two facts a binding knows: whether its framework routes at all,
    /// and the template that matched, if any (a template wins, so an app without a router
    /// may still name its routes).
    pub fn from_parts(has_router: bool, template: Option<&'a str>) -> Route<'a> {
        match (template, has_router) {
            (Some(template), _) => Route::Template(template),
            (None, true) => Route::NoMatch,
            (None, false) => Route::NoRouter,
        }
    }
}

/// An exception raised while handling a request, as the binding's language names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RaisedException<'a> {
    /// The class name as the language writes it (`ZeroDivisionError`,
    /// `ActiveRecord::RecordNotFound`, `IllegalStateException`); `None` or empty for an
    /// anonymous class.
    pub class_name: Option<&'a str>,
    /// The name of the nearest named ancestor class, for an anonymous class.
    pub named_ancestor: Option<&'a str>,
    /// Whether it escaped the app: no response was made, so the request ends as a `500`.
    /// `false` when the framework turned it into a response itself.
    pub escaped: bool,
}

/// The facts of one finished request, as the binding saw them. The core turns them into
/// labels ([`RequestMetrics::labels`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FinishedRequest<'a> {
    /// The method as sent.
    pub method: &'a str,
    /// The `Host` header as sent (empty when there was none).
    pub host: &'a [u8],
    /// The request target as sent, a query string included or not.
    pub raw_path: &'a str,
    /// How the framework routed it.
    pub route: Route<'a>,
    /// The status of the response (ignored when the exception escaped).
    pub status: u16,
    /// Seconds from the request reaching the binding to the response being complete.
    pub seconds: f64,
    /// The exception raised while handling it, if any.
    pub exception: Option<RaisedException<'a>>,
    /// The W3C `traceparent` header as sent (empty when there was none; several headers
    /// joined by commas, as WSGI and Rack join them, are invalid and give no exemplar).
    pub traceparent: &'a [u8],
}

/// The labels the core decided for a request, and the exception class to count, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLabels<'a> {
    /// The `method` label: a known HTTP method, or one word for all others.
    pub method: &'static str,
    /// The `host` label.
    pub host: Cow<'a, str>,
    /// The `path` label: the route template where the framework knows it.
    pub path: Cow<'a, str>,
    /// The `code` label, as a number.
    pub code: u16,
    /// The `error` label, when the exception is counted.
    pub error: Option<&'a str>,
}

/// The rule for the `host` label: the app's own routes, known from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRule {
    /// Lower-case host names of the app's routes; `None` off the PaaS.
    hosts: Option<Vec<String>>,
}

impl HostRule {
    /// The rule for an app with these routes (`host` or `host/path`), or `None` off the PaaS.
    pub fn new(routes: Option<&[String]>) -> HostRule {
        let hosts = routes.map(|routes| {
            routes
                .iter()
                .map(|route| {
                    host_without_port(route.split('/').next().unwrap_or_default()).to_ascii_lowercase()
                })
                .collect()
        });
        HostRule { hosts }
    }

    /// The `host` label for a `Host` header as sent.
    /// Borrows the matching route's name rather than lower-casing the header: recording a
    /// request allocates nothing for its `host` label.
    pub fn label<'a>(&'a self, host: &'a [u8]) -> Cow<'a, str> {
        let sent = String::from_utf8_lossy(host);
        let Some(hosts) = &self.hosts else {
            return sent;
        };
        let name = host_without_port(sent.trim());
        match hosts.iter().find(|h| h.eq_ignore_ascii_case(name)) {
            Some(own) => Cow::Borrowed(own),
            None => Cow::Borrowed(OTHER_HOST),
        }
    }
}

/// `example.org:8080` and `[::1]:8080` without their port.
fn host_without_port(host: &str) -> &str {
    if let Some(end) = host.strip_prefix('[').and_then(|rest| rest.find(']')) {
        return &host[..end + 2];
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// The three default families, registered once per registry
/// ([`Registry::request_metrics`](crate::Registry::request_metrics)).
#[derive(Debug, Clone)]
pub struct RequestMetrics {
    requests: Family<Counter>,
    durations: Family<Histogram>,
    exceptions: Family<Counter>,
    /// The duration's native buckets, if it keeps them.
    native: Option<NativeBuckets>,
}

impl SharedFamilies for RequestMetrics {
    /// The duration's native buckets, or `None` for classic buckets only.
    type Settings = Option<NativeBuckets>;

    fn register(registry: &Registry, native: &Option<NativeBuckets>) -> Result<Self> {
        RequestMetrics::register(registry, *native)
    }

    fn family_names() -> &'static [&'static str] {
        &FAMILY_NAMES
    }
}

impl RequestMetrics {
    /// Registers `http_server_requests_total`, `http_server_request_duration_seconds`
    /// (with `native` buckets beside the classic ones, if given) and
    /// `http_server_exceptions_total` in `registry`. Fails with
    /// [`Error::Duplicate`](crate::Error::Duplicate) if any is already there; use
    /// [`Registry::shared_families`] to share them.
    fn register(registry: &Registry, native: Option<NativeBuckets>) -> Result<RequestMetrics> {
        let requests = registry.counter(
            Opts::new(FAMILY_NAMES[0], "Requests handled, by route and status.")
                .labels(REQUEST_LABELS)
                .exemplars_across_processes(true),
        )?;
        let duration_opts = Opts::new(
            FAMILY_NAMES[1],
            "Time taken to handle a request, by route and status.",
        )
        .labels(REQUEST_LABELS)
        .unit("seconds")
        .exemplars_across_processes(true);
        let durations = match native {
            Some(native) => registry.native_histogram(duration_opts, native, Some(REQUEST_DURATION_BUCKETS)),
            None => registry.histogram(duration_opts, Some(REQUEST_DURATION_BUCKETS)),
        }
        .inspect_err(|_| {
            registry.unregister(FAMILY_NAMES[0]);
        })?;
        let exceptions = registry
            .counter(Opts::new(FAMILY_NAMES[2], "Unhandled exceptions, by class.").labels(["error"]))
            .inspect_err(|_| {
                registry.unregister(FAMILY_NAMES[0]);
                registry.unregister(FAMILY_NAMES[1]);
            })?;
        Ok(RequestMetrics {
            requests,
            durations,
            exceptions,
            native,
        })
    }

    /// The default request metrics of `registry`, registered on first use and shared by
    /// every endpoint serving it; `native_histogram` says whether the duration keeps
    /// native buckets beside its classic ones. The first endpoint decides: one asking for
    /// the other setting later gets [`Error::SharedSettingMismatch`].
    pub fn shared(registry: &Registry, native_histogram: bool) -> Result<RequestMetrics> {
        let native = native_histogram.then(NativeBuckets::default);
        let metrics: RequestMetrics = registry.shared_families(&native)?;
        if metrics.native != native {
            let state = |native: Option<NativeBuckets>| if native.is_some() { "on" } else { "off" };
            return Err(Error::SharedSettingMismatch {
                setting: "request_native_histogram",
                variable: METRICS_REQUEST_NATIVE_HISTOGRAM,
                registered: state(metrics.native),
                asked: state(native),
            });
        }
        Ok(metrics)
    }

    /// Whether the duration keeps native buckets beside its classic ones.
    pub fn native_histogram(&self) -> bool {
        self.native.is_some()
    }

    /// The labels the facts of `request` get under `hosts`.
    pub fn labels<'a>(request: &FinishedRequest<'a>, hosts: &'a HostRule) -> RequestLabels<'a> {
        let escaped = request.exception.is_some_and(|e| e.escaped);
        let status = if escaped { 500 } else { request.status };
        let error = request
            .exception
            .filter(|e| e.escaped || status >= 500)
            .map(|e| error_label(&e));
        RequestLabels {
            method: method_label(request.method),
            host: hosts.label(request.host),
            path: path_label(request.route, request.raw_path, status),
            code: status,
            error,
        }
    }

    /// Records a finished request: counts it, observes its duration and counts its
    /// exception when one is to be counted. A sampled `traceparent` is the exemplar of the
    /// count and of the duration.
    pub fn record(&self, request: &FinishedRequest<'_>, hosts: &HostRule) {
        let labels = Self::labels(request, hosts);
        let mut code = itoa::Buffer::new();
        let values = [
            labels.method,
            &labels.host,
            &labels.path,
            code.format(labels.code),
        ];
        let seconds = if request.seconds.is_finite() {
            request.seconds.max(0.0)
        } else {
            0.0
        };
        // The label count is fixed above, so these cannot fail.
        let trace = if request.traceparent.is_empty() {
            let _ = self.requests.with(&values, Counter::inc);
            None
        } else {
            self.requests
                .with(&values, |c| count_traced(c, request.traceparent, seconds))
                .ok()
                .flatten()
        };
        // `seconds` is finite, so the observation cannot be refused.
        let _ = self.durations.with(&values, |h| match trace {
            None => h.observe(seconds),
            Some((ids, now)) => {
                h.observe_with(seconds, Exemplar::trace(ids, seconds, now));
                Ok(())
            }
        });
        if let Some(error) = labels.error {
            let _ = self.exceptions.with(&[error], Counter::inc);
        }
    }

    /// The `http_server_requests_total` family.
    pub fn requests(&self) -> &Family<Counter> {
        &self.requests
    }

    /// The `http_server_request_duration_seconds` family.
    pub fn durations(&self) -> &Family<Histogram> {
        &self.durations
    }

    /// The `http_server_exceptions_total` family.
    pub fn exceptions(&self) -> &Family<Counter> {
        &self.exceptions
    }
}

/// Counts a request that sent a `traceparent` in its series `counter`, with the trace as
/// exemplar when it is sampled and is the series' first traced request of this clock tick
/// (a few milliseconds) whose duration of `seconds` falls in its bucket: later ones of the
/// same bucket in the same tick are counted without, so a series under load pays for one
/// exemplar per bucket per tick and for no parsing the rest of the time, as `client_java`
/// samples its exemplars, while a slow request still marks its bucket when a fast one
/// came first. Returns the ids and the timestamp given, for the duration's exemplar.
fn count_traced(counter: &Counter, traceparent: &[u8], seconds: f64) -> Option<(TraceIds, f64)> {
    let tick = unix_nanos_coarse();
    let bucket = REQUEST_DURATION_BUCKETS.partition_point(|bound| *bound < seconds);
    if !counter.claim_trace_tick(tick, bucket) {
        counter.inc();
        return None;
    }
    let Some(ids) = TraceIds::from_sampled(traceparent) else {
        counter.release_trace_tick(tick, bucket);
        counter.inc();
        return None;
    };
    let now = tick as f64 * 1e-9;
    counter.inc_with(Exemplar::trace(ids, 1.0, now));
    Some((ids, now))
}

fn path_label<'a>(route: Route<'a>, raw_path: &'a str, status: u16) -> Cow<'a, str> {
    match route {
        Route::Template(template) => Cow::Borrowed(template),
        Route::NoMatch => Cow::Borrowed(NO_ENDPOINT),
        Route::NoRouter if status == 404 => Cow::Borrowed(NO_ENDPOINT),
        Route::NoRouter => collapse_ids(path_without_query(raw_path)),
    }
}

fn path_without_query(raw_path: &str) -> &str {
    let end = raw_path.find(['?', '#']).unwrap_or(raw_path.len());
    match &raw_path[..end] {
        "" => "/",
        path => path,
    }
}

fn error_label<'a>(exception: &RaisedException<'a>) -> &'a str {
    [exception.class_name, exception.named_ancestor]
        .into_iter()
        .flatten()
        .find(|name| !name.is_empty())
        .unwrap_or(UNNAMED_EXCEPTION)
}

/// The methods recorded by name; every other method is `OTHER`.
const KNOWN_METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// The `method` label: a known method in upper case, else `OTHER`. Never allocates.
fn method_label(method: &str) -> &'static str {
    KNOWN_METHODS
        .iter()
        .find(|known| known.eq_ignore_ascii_case(method))
        .copied()
        .unwrap_or("OTHER")
}

/// Collapses path segments that are ids into placeholders, for frameworks without a
/// router: all-digit segments become `:id` and UUIDs become `:uuid`, so
/// `/users/42/files/6b0b3c4e-5c1d-4d3b-9d2a-0c8e1f2a3b4c` is recorded as
/// `/users/:id/files/:uuid` rather than one series per user. Borrows when nothing changes.
pub fn collapse_ids(path: &str) -> Cow<'_, str> {
    if !path.split('/').any(|s| id_placeholder(s).is_some()) {
        return Cow::Borrowed(path);
    }
    let collapsed: Vec<&str> = path.split('/').map(|s| id_placeholder(s).unwrap_or(s)).collect();
    Cow::Owned(collapsed.join("/"))
}

fn id_placeholder(segment: &str) -> Option<&'static str> {
    if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
        Some(":id")
    } else if is_uuid(segment) {
        Some(":uuid")
    } else {
        None
    }
}

/// The 8-4-4-4-12 hexadecimal form, any case.
fn is_uuid(segment: &str) -> bool {
    let bytes = segment.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_upper_cased_and_unknown_ones_are_other() {
        assert_eq!(method_label("get"), "GET");
        assert_eq!(method_label("Patch"), "PATCH");
        assert_eq!(method_label("BREW"), "OTHER");
        assert_eq!(method_label(""), "OTHER");
    }

    #[test]
    fn collapse_ids_replaces_numbers_and_uuids_only() {
        assert_eq!(collapse_ids("/users/42"), "/users/:id");
        assert_eq!(
            collapse_ids("/a/6B0B3C4E-5c1d-4d3b-9d2a-0c8e1f2a3b4c/b"),
            "/a/:uuid/b"
        );
        assert_eq!(collapse_ids("/v2/users/abc"), "/v2/users/abc");
        assert!(matches!(collapse_ids("/plain/path"), Cow::Borrowed(_)));
    }
}
