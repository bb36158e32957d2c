//! axum integration (feature `axum`): the endpoint's [`Response`] is an axum response,
//! [`Endpoint::axum_handler`] mounts the endpoint in a router, and [`MetricsLayer`] serves
//! the endpoint and records every request of an axum app.
//!
//! ```text
//! let endpoint = Arc::new(Endpoint::new(Config::from_env()?, registry)?);
//! let app = Router::new()
//!     .route(endpoint.config().metrics_path(), any(endpoint.clone().axum_handler()));
//! ```
//! Mount it with `any`, not `get`, so that other methods get the endpoint's own `405`
//! with `Allow: GET, HEAD` and are counted in the request metrics.

use crate::endpoint::{Endpoint, Request, Response};
use crate::request_metrics::{FinishedRequest, Route};
use axum::extract::MatchedPath;
use axum_core::body::Body;
use axum_core::response::IntoResponse;
use http::request::Parts;
use http::{HeaderName, HeaderValue, StatusCode};
use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

impl IntoResponse for Response {
    fn into_response(self) -> axum_core::response::Response {
        let mut response = axum_core::response::Response::new(Body::from(self.body));
        *response.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        for (name, value) in self.headers {
            // The endpoint writes only valid header values; anything else is dropped rather
            // than failing the response.
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.append(HeaderName::from_static(name), value);
            }
        }
        response
    }
}

impl Endpoint {
    /// Answers an axum request from its parts (the endpoint never reads a body).
    pub fn handle_parts(&self, parts: &Parts) -> Response {
        let target = parts
            .uri
            .path_and_query()
            .map_or(parts.uri.path(), |t| t.as_str());
        let mut request = Request::new(parts.method.as_str(), target);
        for (name, value) in &parts.headers {
            request = request.header(name.as_str(), value.as_bytes());
        }
        self.handle(&request)
    }

    /// An axum handler for the endpoint, to mount with `any(..)` at
    /// `config().metrics_path()`.
    pub fn axum_handler(
        self: Arc<Self>,
    ) -> impl Fn(Parts) -> Ready<Response> + Clone + Send + Sync + 'static {
        move |parts: Parts| ready(self.handle_parts(&parts))
    }
}

/// A tower layer for an axum app: answers the metrics endpoint itself and records every
/// other request in the default request metrics, from facts only (CONTRACT section 4).
///
/// ```text
/// let app = Router::new()
///     .route("/uploads/{id}", get(upload))
///     .layer(MetricsLayer::new(endpoint));
/// ```
/// Add it with [`Router::layer`](axum::Router::layer), after the routes, so that it also
/// wraps the fallback: the `path` label is then the matched route template
/// ([`MatchedPath`]) or `No endpoint`, and requests for the metrics path never reach the
/// router. A request is recorded when its response body has been sent (or dropped), so the
/// duration covers a streamed body too.
#[derive(Debug, Clone)]
pub struct MetricsLayer {
    endpoint: Arc<Endpoint>,
}

impl MetricsLayer {
    /// A layer serving and recording for `endpoint`.
    pub fn new(endpoint: Arc<Endpoint>) -> Self {
        Self { endpoint }
    }
}

impl<S> tower_layer::Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MetricsService {
            inner,
            endpoint: self.endpoint.clone(),
        }
    }
}

/// The service [`MetricsLayer`] wraps around each route of an axum router.
#[derive(Debug, Clone)]
pub struct MetricsService<S> {
    inner: S,
    endpoint: Arc<Endpoint>,
}

/// The facts of a request known before it is handled, owned so they outlive it.
struct Pending {
    endpoint: Arc<Endpoint>,
    method: http::Method,
    host: Vec<u8>,
    target: String,
    route: Option<String>,
    /// The `traceparent` header sent once, else empty (a repeated one is invalid).
    traceparent: Vec<u8>,
    started: Instant,
}

impl Pending {
    fn record(&self, status: u16) {
        self.endpoint.record(&FinishedRequest {
            method: self.method.as_str(),
            host: &self.host,
            raw_path: &self.target,
            route: Route::from_parts(true, self.route.as_deref()),
            status,
            seconds: self.started.elapsed().as_secs_f64(),
            exception: None,
            traceparent: &self.traceparent,
        });
    }
}

fn single_traceparent(headers: &http::HeaderMap) -> Vec<u8> {
    let mut values = headers.get_all("traceparent").iter();
    match (values.next(), values.next()) {
        (Some(value), None) => value.as_bytes().to_vec(),
        _ => Vec::new(),
    }
}

fn request_target<B>(request: &http::Request<B>) -> &str {
    request
        .uri()
        .path_and_query()
        .map_or(request.uri().path(), |target| target.as_str())
}

impl<S, B> tower_service::Service<http::Request<B>> for MetricsService<S>
where
    S: tower_service::Service<http::Request<B>, Response = axum_core::response::Response>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = axum_core::response::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if self.endpoint.matches(request_target(&request)) {
            let (parts, _body) = request.into_parts();
            let response = self.endpoint.handle_parts(&parts).into_response();
            return Box::pin(ready(Ok(response)));
        }
        let pending = Pending {
            endpoint: self.endpoint.clone(),
            method: request.method().clone(),
            host: request
                .headers()
                .get(http::header::HOST)
                .map_or_else(Vec::new, |host| host.as_bytes().to_vec()),
            target: request_target(&request).to_owned(),
            route: request
                .extensions()
                .get::<MatchedPath>()
                .map(|matched| matched.as_str().to_owned()),
            traceparent: single_traceparent(request.headers()),
            started: Instant::now(),
        };
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await?;
            let status = response.status().as_u16();
            Ok(response.map(|body| Body::new(RecordedBody::new(body, pending, status))))
        })
    }
}

/// A response body that records its request once it has been sent or dropped.
struct RecordedBody {
    body: Body,
    done: Option<(Pending, u16)>,
}

impl RecordedBody {
    fn new(body: Body, pending: Pending, status: u16) -> Self {
        Self {
            body,
            done: Some((pending, status)),
        }
    }

    fn finish(&mut self) {
        if let Some((pending, status)) = self.done.take() {
            pending.record(status);
        }
    }
}

impl http_body::Body for RecordedBody {
    type Data = <Body as http_body::Body>::Data;
    type Error = <Body as http_body::Body>::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) {
            self.finish();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

impl Drop for RecordedBody {
    fn drop(&mut self) {
        self.finish();
    }
}
