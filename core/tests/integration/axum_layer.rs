//! The axum-core integration: the endpoint's response converts to an axum response
//! unchanged, and the handler reads method, path and every header from request parts.
#![cfg(feature = "axum")]

use axum_core::response::IntoResponse;
use gds_metrics::{Config, Endpoint, Registry};
use std::sync::Arc;

fn endpoint() -> Arc<Endpoint> {
    let config = Config::builder()
        .application_id("guid-1")
        .build_with_env(|_| None)
        .unwrap();
    Arc::new(Endpoint::new(config, Arc::new(Registry::new())).unwrap())
}

fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> http::request::Parts {
    let mut builder = http::Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(()).unwrap().into_parts().0
}

#[test]
fn response_converts_with_status_headers_and_body() {
    let response = endpoint().handle_parts(&parts("GET", "/metrics", &[]));
    let body_len = response.body.len();
    let converted = response.into_response();
    assert_eq!(converted.status(), http::StatusCode::UNAUTHORIZED);
    assert_eq!(
        converted.headers()["www-authenticate"],
        "Bearer realm=\"metrics\""
    );
    assert_eq!(converted.headers()["cache-control"], "no-store");
    assert_eq!(
        body_len,
        "Unauthorized: send the app GUID as `Authorization: Bearer <GUID>`.\n".len()
    );
}

#[test]
fn handler_reads_headers_and_ignores_the_query() {
    let endpoint = endpoint();
    let handler = endpoint.clone().axum_handler();
    let request = parts(
        "GET",
        "/metrics?cf_app_guid=x",
        &[
            ("authorization", "Bearer guid-1"),
            ("accept", "application/openmetrics-text"),
            ("accept-encoding", "gzip"),
        ],
    );
    let response = futures_ready(handler(request));
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    assert_eq!(response.header("content-encoding"), Some("gzip"));
}

#[test]
fn handler_answers_other_methods_with_405() {
    let response = endpoint().handle_parts(&parts("POST", "/metrics", &[("authorization", "Bearer guid-1")]));
    let converted = response.into_response();
    assert_eq!(converted.status(), http::StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(converted.headers()["allow"], "GET, HEAD");
}

/// The handler's future is `std::future::Ready`: one poll with a no-op waker completes it.
fn futures_ready<T>(future: std::future::Ready<T>) -> T {
    use std::future::Future;
    use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
    fn raw() -> RawWaker {
        RawWaker::new(std::ptr::null(), &VTABLE)
    }
    static VTABLE: RawWakerVTable = RawWakerVTable::new(|_| raw(), |_| {}, |_| {}, |_| {});
    // SAFETY: the vtable's functions do nothing and never touch the null data pointer.
    let waker = unsafe { Waker::from_raw(raw()) };
    let mut future = std::pin::pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(&waker)) {
        Poll::Ready(value) => value,
        Poll::Pending => unreachable!("Ready is always ready"),
    }
}
