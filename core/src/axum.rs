//! axum-core integration (feature `axum`): the endpoint's [`Response`] is an axum
//! response, and [`Endpoint::axum_handler`] mounts the endpoint in a router.
//!
//! ```text
//! let endpoint = Arc::new(Endpoint::new(Config::from_env()?, registry)?);
//! let app = Router::new()
//!     .route(endpoint.config().metrics_path(), any(endpoint.clone().axum_handler()));
//! ```
//! Mount it with `any`, not `get`, so that other methods get the endpoint's own `405`
//! with `Allow: GET, HEAD` and are counted in the request metrics.

use crate::endpoint::{Endpoint, Request, Response};
use axum_core::body::Body;
use axum_core::response::IntoResponse;
use http::request::Parts;
use http::{HeaderName, HeaderValue, StatusCode};
use std::future::{ready, Ready};
use std::sync::Arc;

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
        let path = parts.uri.path();
        let mut request = Request::new(parts.method.as_str(), path);
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
