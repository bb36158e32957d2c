//! The default request metrics every binding reports (CONTRACT section 4).
//!
//! The families, their labels and buckets are defined here and nowhere else: a binding
//! only reports what happened (method, host, route template, status, duration) and the
//! class name of unhandled exceptions.

use crate::descriptor::Opts;
use crate::error::Result;
use crate::metrics::{Counter, Family, Histogram};
use crate::registry::Registry;
use std::borrow::Cow;

/// The `path` label of a request no route matched.
pub const NO_ENDPOINT: &str = "No endpoint";

/// Bucket bounds of `http_server_request_duration_seconds`, in seconds.
pub const REQUEST_DURATION_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

const REQUEST_LABELS: [&str; 4] = ["method", "host", "path", "code"];

/// The three default families, registered in one registry.
#[derive(Debug, Clone)]
pub struct RequestMetrics {
    requests: Family<Counter>,
    durations: Family<Histogram>,
    exceptions: Family<Counter>,
}

impl RequestMetrics {
    /// Registers `http_server_requests_total`, `http_server_request_duration_seconds` and
    /// `http_server_exceptions_total` in `registry`. Fails with
    /// [`Error::Duplicate`](crate::Error::Duplicate) if any is already there.
    pub fn register(registry: &Registry) -> Result<RequestMetrics> {
        let requests = registry.counter(
            Opts::new(
                "http_server_requests_total",
                "Requests handled, by route and status.",
            )
            .labels(REQUEST_LABELS),
        )?;
        let durations = registry.histogram(
            Opts::new(
                "http_server_request_duration_seconds",
                "Time taken to handle a request, by route and status.",
            )
            .labels(REQUEST_LABELS)
            .unit("seconds"),
            Some(&REQUEST_DURATION_BUCKETS),
        );
        let durations = durations.inspect_err(|_| {
            registry.unregister("http_server_requests");
        })?;
        let exceptions = registry
            .counter(
                Opts::new("http_server_exceptions_total", "Unhandled exceptions, by class.")
                    .labels(["error"]),
            )
            .inspect_err(|_| {
                registry.unregister("http_server_requests");
                registry.unregister("http_server_request_duration_seconds");
            })?;
        Ok(RequestMetrics {
            requests,
            durations,
            exceptions,
        })
    }

    /// Counts one finished request and observes its duration. `route` is the framework's
    /// route template, `None` when no route matched (recorded as `No endpoint`). The method
    /// is upper-cased, and any method outside RFC 9110 and `PATCH` is recorded as `OTHER`,
    /// so a client inventing methods cannot create series without bound; `host` is the
    /// `Host` header as sent.
    pub fn record(&self, method: &str, host: &str, route: Option<&str>, status: u16, seconds: f64) {
        let method = method_label(method);
        let mut code_buf = [0u8; 5];
        let code = status_text(status, &mut code_buf);
        let values = [method, host, route.unwrap_or(NO_ENDPOINT), code];
        // The label count is fixed above, so these cannot fail.
        let _ = self.requests.with(&values, Counter::inc);
        let _ = self.durations.with(&values, |h| h.observe(seconds.max(0.0)));
    }

    /// Counts an unhandled exception by its class name (`ZeroDivisionError`). The request
    /// itself is recorded separately, with status 500.
    pub fn exception(&self, class_name: &str) {
        let _ = self.exceptions.with(&[class_name], Counter::inc);
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

/// Writes `status` in decimal into `buf` without allocating.
fn status_text(status: u16, buf: &mut [u8; 5]) -> &str {
    let mut n = status;
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[start..]).expect("ASCII digits")
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
    fn status_text_writes_every_width() {
        let mut buf = [0u8; 5];
        assert_eq!(status_text(0, &mut buf), "0");
        assert_eq!(status_text(200, &mut buf), "200");
        assert_eq!(status_text(65535, &mut buf), "65535");
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
