//! The Open Service Broker API 2.17 over HTTP: routes, request checks and replies.
//!
//! Every request passes, in this order: HTTP Basic auth compared in constant time (401);
//! `X-Broker-API-Version` 2.x (412); then the route. Bodies are read here, not by an
//! extractor, so that every mistake (wrong content type 415, a body over [`MAX_BODY`]
//! 413, malformed JSON or a missing field 400, an unknown service or plan 400, no app
//! 422 `RequiresApp`) gets the spec's error JSON and never reaches the store.
//! `X-Broker-API-Request-Identity` is echoed; `X-Broker-API-Originating-Identity` is
//! decoded for the log line. Operations are synchronous: `accepts_incomplete` is accepted
//! (the spec lets a broker answer synchronously either way) and must be a boolean.

use crate::broker::{catalog, BindRequest, Broker, ProvisionRequest, PLAN_ID, SERVICE_ID};
use crate::config::BrokerCredentials;
use axum::body::Body;
use axum::extract::{MatchedPath, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine;
use gds_metrics::targets::records::{BindingRecord, InstanceRecord, RecordId};
use gds_metrics::targets::AppGuid;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Instant;
use subtle::ConstantTimeEq;

/// The largest request body read; Open Service Broker bodies are a few hundred bytes.
pub const MAX_BODY: usize = 64 * 1024;

/// A reply: a status and a JSON body.
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status code.
    pub status: u16,
    /// The JSON body, sent with `content-type: application/json`.
    pub body: Value,
}

impl Reply {
    /// A reply with `status` and `body`.
    pub fn new(status: u16, body: Value) -> Reply {
        Reply { status, body }
    }

    /// 410 Gone, with the spec's empty object.
    pub fn gone() -> Reply {
        Reply::new(410, json!({}))
    }
}

/// An error answer's description, kept with the response for the request's log line.
#[derive(Clone)]
struct ErrorDescription(String);

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let description = self.body["description"].as_str().map(str::to_owned);
        let mut response = (status, self.body.to_string()).into_response();
        response
            .headers_mut()
            .insert("content-type", HeaderValue::from_static("application/json"));
        if let Some(description) =
            description.filter(|_| status.is_client_error() || status.is_server_error())
        {
            response.extensions_mut().insert(ErrorDescription(description));
        }
        response
    }
}

/// An error answer: the spec's `{"error", "description"}` JSON.
#[derive(Debug)]
pub struct OsbError {
    /// The HTTP status code the platform is answered with.
    pub status: u16,
    /// The spec's error code (`RequiresApp`, ...) or a CamelCase word naming the problem.
    pub error: &'static str,
    /// What went wrong and what to do, for the person who ran `cf bind-service`.
    pub description: String,
}

impl OsbError {
    fn new(status: u16, error: &'static str, description: impl Into<String>) -> OsbError {
        OsbError {
            status,
            error,
            description: description.into(),
        }
    }

    /// 400: the platform's request is malformed or names another service or plan.
    pub fn bad_request(description: impl Into<String>) -> OsbError {
        OsbError::new(400, "BadRequest", description)
    }

    /// 404: the instance or binding asked for does not exist.
    pub fn not_found(description: impl Into<String>) -> OsbError {
        OsbError::new(404, "NotFound", description)
    }

    /// 409: the id exists with other attributes than the request's.
    pub fn conflict(description: impl Into<String>) -> OsbError {
        OsbError::new(409, "Conflict", description)
    }

    /// 422: the app cannot be bound (unknown to the Cloud Controller, or no public route).
    pub fn unprocessable(description: impl Into<String>) -> OsbError {
        OsbError::new(422, "UnprocessableEntity", description)
    }

    /// 502: the Cloud Controller or UAA failed, so the bind may be retried.
    pub fn bad_gateway(description: impl Into<String>) -> OsbError {
        OsbError::new(502, "CloudControllerUnavailable", description)
    }

    /// 503: the target store failed (or the operation did not finish); retry later.
    pub fn unavailable(description: impl Into<String>) -> OsbError {
        OsbError::new(503, "StoreUnavailable", description)
    }
}

impl From<OsbError> for Reply {
    fn from(error: OsbError) -> Reply {
        Reply::new(
            error.status,
            json!({"error": error.error, "description": error.description}),
        )
    }
}

struct AppState {
    broker: Arc<Broker>,
    credentials: BrokerCredentials,
}

type Shared = Arc<AppState>;

/// The broker's routes, behind auth and the version check.
pub fn router(broker: Arc<Broker>, credentials: BrokerCredentials) -> Router {
    let state = Arc::new(AppState { broker, credentials });
    Router::new()
        .route("/v2/catalog", get(get_catalog))
        .route(
            "/v2/service_instances/{instance_id}",
            get(get_instance).put(provision).delete(deprovision),
        )
        .route(
            "/v2/service_instances/{instance_id}/service_bindings/{binding_id}",
            get(get_binding).put(bind).delete(unbind),
        )
        .fallback(|| async { Reply::from(OsbError::not_found("no such Open Service Broker endpoint")) })
        .method_not_allowed_fallback(|| async {
            Reply::from(OsbError::new(
                405,
                "MethodNotAllowed",
                "this endpoint does not take that method",
            ))
        })
        .layer(middleware::from_fn_with_state(state.clone(), checks))
        .with_state(state)
}

/// Auth, version, request identity, the log line and the request count.
async fn checks(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let operation = operation(request.method(), request.extensions().get::<MatchedPath>());
    let request_identity = request.headers().get("x-broker-api-request-identity").cloned();
    let who = originating_identity(request.headers());
    let path = request.uri().path().to_owned();
    let mut response = if !authorized(request.headers(), &state.credentials) {
        let mut response = Reply::from(OsbError::new(
            401,
            "Unauthorized",
            "give the broker's username and password",
        ))
        .into_response();
        response.headers_mut().insert(
            "www-authenticate",
            HeaderValue::from_static("Basic realm=\"gds-prometheus-broker\""),
        );
        response
    } else if let Some(problem) = version_problem(request.headers()) {
        Reply::from(OsbError::new(412, "PreconditionFailed", problem)).into_response()
    } else {
        next.run(request).await
    };
    if let Some(identity) = request_identity {
        response
            .headers_mut()
            .insert("x-broker-api-request-identity", identity);
    }
    let code = response.status().as_u16();
    state.broker.metrics.request(operation, code);
    println!(
        "gds-prometheus-broker: {operation} {path} {code} {}ms identity={who}{}",
        started.elapsed().as_millis(),
        logged_error(&response)
    );
    response
}

/// ` error="<description>"` for an error answer, so an operator sees why a bind failed
/// without asking the tenant; GUIDs in it are redacted (an app's GUID is its bearer token).
fn logged_error(response: &Response) -> String {
    response
        .extensions()
        .get::<ErrorDescription>()
        .map(|d| format!(" error={:?}", crate::redact_guids(&d.0)))
        .unwrap_or_default()
}

fn operation(method: &Method, matched: Option<&MatchedPath>) -> &'static str {
    match (method.as_str(), matched.map(MatchedPath::as_str)) {
        ("GET", Some("/v2/catalog")) => "catalog",
        ("PUT", Some("/v2/service_instances/{instance_id}")) => "provision",
        ("DELETE", Some("/v2/service_instances/{instance_id}")) => "deprovision",
        ("GET", Some("/v2/service_instances/{instance_id}")) => "get_instance",
        ("PUT", Some(p)) if p.ends_with("{binding_id}") => "bind",
        ("DELETE", Some(p)) if p.ends_with("{binding_id}") => "unbind",
        ("GET", Some(p)) if p.ends_with("{binding_id}") => "get_binding",
        _ => "other",
    }
}

/// Whether the request carries the broker's Basic credentials; both parts are compared
/// in constant time, and both always, so timing tells nothing about which was wrong.
fn authorized(headers: &HeaderMap, expected: &BrokerCredentials) -> bool {
    let Some(encoded) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let Some(colon) = decoded.iter().position(|b| *b == b':') else {
        return false;
    };
    let (user, password) = (&decoded[..colon], &decoded[colon + 1..]);
    let user_ok = user.ct_eq(expected.username.as_bytes());
    let password_ok = password.ct_eq(expected.password.as_bytes());
    (user_ok & password_ok).into()
}

/// Why `X-Broker-API-Version` is not one this broker speaks, if it is not.
fn version_problem(headers: &HeaderMap) -> Option<String> {
    let version = headers.get("x-broker-api-version").and_then(|v| v.to_str().ok());
    match version {
        Some(v)
            if v.split('.').next() == Some("2")
                && v.split('.').nth(1).is_some_and(|m| m.parse::<u32>().is_ok()) =>
        {
            None
        }
        Some(v) => Some(format!(
            "X-Broker-API-Version `{v}` is not supported; this broker speaks 2.x (2.17)"
        )),
        None => Some("the X-Broker-API-Version header is missing; this broker speaks 2.x (2.17)".to_owned()),
    }
}

/// `platform user_id=...` from `X-Broker-API-Originating-Identity: <platform> <base64 JSON>`,
/// for the log line; `-` when absent, `<platform> (undecodable)` when malformed.
fn originating_identity(headers: &HeaderMap) -> String {
    let Some(value) = headers
        .get("x-broker-api-originating-identity")
        .and_then(|v| v.to_str().ok())
    else {
        return "-".to_owned();
    };
    let (platform, encoded) = value.split_once(' ').unwrap_or((value, ""));
    let platform: String = platform
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(32)
        .collect();
    let user = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .and_then(|identity| identity["user_id"].as_str().map(str::to_owned));
    match user {
        Some(user) => format!("{platform}:{}", user.escape_debug()),
        None => format!("{platform}:(undecodable)"),
    }
}

/// The user the platform acted for, to record who created an instance or binding.
fn created_by(headers: &HeaderMap) -> Option<String> {
    Some(originating_identity(headers)).filter(|who| who != "-" && !who.ends_with("(undecodable)"))
}

async fn get_catalog() -> Reply {
    Reply::new(200, catalog())
}

async fn provision(
    State(state): State<Shared>,
    Path(instance_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Reply {
    answer(async {
        let id = parse_id(&instance_id, "instance_id")?;
        accepts_incomplete(query.as_deref())?;
        let body = json_body(&headers, body).await?;
        let (service_id, plan_id) = service_and_plan(&body)?;
        let record = InstanceRecord {
            service_id,
            plan_id,
            organization_guid: required_string(&body, "organization_guid")?,
            space_guid: required_string(&body, "space_guid")?,
            parameters: parameters(&body)?,
            created_by: created_by(&headers),
        };
        blocking(&state, move |broker| {
            broker.provision(&id, ProvisionRequest { record })
        })
        .await
    })
    .await
}

async fn deprovision(
    State(state): State<Shared>,
    Path(instance_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Reply {
    answer(async {
        let id = parse_id(&instance_id, "instance_id")?;
        check_query(query.as_deref())?;
        blocking(&state, move |broker| broker.deprovision(&id)).await
    })
    .await
}

async fn get_instance(State(state): State<Shared>, Path(instance_id): Path<String>) -> Reply {
    answer(async {
        let id = parse_id(&instance_id, "instance_id")?;
        blocking(&state, move |broker| broker.get_instance(&id)).await
    })
    .await
}

async fn bind(
    State(state): State<Shared>,
    Path((instance_id, binding_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Reply {
    answer(async {
        let instance_id = parse_id(&instance_id, "instance_id")?;
        let binding_id = parse_id(&binding_id, "binding_id")?;
        accepts_incomplete(query.as_deref())?;
        let body = json_body(&headers, body).await?;
        let (service_id, plan_id) = service_and_plan(&body)?;
        let record = BindingRecord {
            instance_id: instance_id.clone(),
            app_guid: app_guid(&body)?,
            service_id,
            plan_id,
            parameters: parameters(&body)?,
            created_by: created_by(&headers),
        };
        blocking(&state, move |broker| {
            broker.bind(&instance_id, &binding_id, BindRequest { record })
        })
        .await
    })
    .await
}

async fn unbind(
    State(state): State<Shared>,
    Path((instance_id, binding_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Reply {
    answer(async {
        let instance_id = parse_id(&instance_id, "instance_id")?;
        let binding_id = parse_id(&binding_id, "binding_id")?;
        check_query(query.as_deref())?;
        blocking(&state, move |broker| broker.unbind(&instance_id, &binding_id)).await
    })
    .await
}

async fn get_binding(
    State(state): State<Shared>,
    Path((instance_id, binding_id)): Path<(String, String)>,
) -> Reply {
    answer(async {
        let instance_id = parse_id(&instance_id, "instance_id")?;
        let binding_id = parse_id(&binding_id, "binding_id")?;
        blocking(&state, move |broker| {
            broker.get_binding(&instance_id, &binding_id)
        })
        .await
    })
    .await
}

async fn answer(work: impl std::future::Future<Output = Result<Reply, OsbError>>) -> Reply {
    work.await.unwrap_or_else(Reply::from)
}

/// Runs a store operation off the async threads (S3 calls block).
async fn blocking(
    state: &Shared,
    work: impl FnOnce(&Broker) -> Result<Reply, OsbError> + Send + 'static,
) -> Result<Reply, OsbError> {
    let broker = state.broker.clone();
    tokio::task::spawn_blocking(move || work(&broker))
        .await
        .unwrap_or_else(|e| {
            Err(OsbError::unavailable(format!(
                "the operation did not finish: {e}"
            )))
        })
}

fn parse_id(value: &str, what: &str) -> Result<RecordId, OsbError> {
    RecordId::parse(value).map_err(|e| OsbError::bad_request(format!("{what}: {e}")))
}

/// The query of a DELETE: `service_id` and `plan_id` are required (and must be this
/// broker's), `accepts_incomplete` optional.
fn check_query(query: Option<&str>) -> Result<(), OsbError> {
    accepts_incomplete(query)?;
    let pairs: Map<String, Value> = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    service_and_plan(&Value::Object(pairs)).map(|_| ())
}

fn accepts_incomplete(query: Option<&str>) -> Result<(), OsbError> {
    for (name, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        if name == "accepts_incomplete" && value != "true" && value != "false" {
            return Err(OsbError::bad_request(format!(
                "accepts_incomplete must be true or false, got `{value}`"
            )));
        }
    }
    Ok(())
}

/// The body as a JSON object, checked for content type and size.
async fn json_body(headers: &HeaderMap, body: Body) -> Result<Value, OsbError> {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(OsbError::new(
            415,
            "UnsupportedMediaType",
            format!("the body must be JSON with Content-Type: application/json, got `{content_type}`"),
        ));
    }
    let too_large = || {
        OsbError::new(
            413,
            "PayloadTooLarge",
            format!("the body is larger than {MAX_BODY} bytes"),
        )
    };
    let declared = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > MAX_BODY) {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| too_large())?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => Err(OsbError::bad_request("the body must be a JSON object")),
        Err(e) => Err(OsbError::bad_request(format!("the body is not valid JSON: {e}"))),
    }
}

fn required_string(body: &Value, field: &str) -> Result<String, OsbError> {
    match &body[field] {
        Value::String(value) if !value.is_empty() => Ok(value.clone()),
        Value::Null => Err(OsbError::bad_request(format!("`{field}` is missing"))),
        _ => Err(OsbError::bad_request(format!(
            "`{field}` must be a non-empty string"
        ))),
    }
}

/// `service_id` and `plan_id`, which must be this broker's (400 otherwise, as the spec says).
fn service_and_plan(body: &Value) -> Result<(String, String), OsbError> {
    let service_id = required_string(body, "service_id")?;
    let plan_id = required_string(body, "plan_id")?;
    if service_id != SERVICE_ID {
        return Err(OsbError::bad_request(format!(
            "unknown service_id `{service_id}`; see GET /v2/catalog"
        )));
    }
    if plan_id != PLAN_ID {
        return Err(OsbError::bad_request(format!(
            "unknown plan_id `{plan_id}`; see GET /v2/catalog"
        )));
    }
    Ok((service_id, plan_id))
}

/// The request's `parameters`. The only one this service takes is `exporter` (a boolean,
/// for binds: the app labels `space` itself); anything else is refused, so a typo is
/// an error rather than silently ignored.
fn parameters(body: &Value) -> Result<Map<String, Value>, OsbError> {
    let map = match &body["parameters"] {
        Value::Null => return Ok(Map::new()),
        Value::Object(map) => map.clone(),
        _ => return Err(OsbError::bad_request("`parameters` must be a JSON object")),
    };
    for (name, value) in &map {
        match (name.as_str(), value) {
            ("exporter", Value::Bool(_)) => {}
            ("exporter", _) => {
                return Err(OsbError::bad_request(
                    "parameter `exporter` must be true or false",
                ))
            }
            (other, _) => {
                return Err(OsbError::bad_request(format!(
                    "unknown parameter `{other}`; the only parameter is `exporter` (true or false)"
                )))
            }
        }
    }
    Ok(map)
}

/// The app to bind: `bind_resource.app_guid`, else the deprecated top-level `app_guid`;
/// none is 422 `RequiresApp` (this service binds apps only).
fn app_guid(body: &Value) -> Result<AppGuid, OsbError> {
    let value = body["bind_resource"]["app_guid"]
        .as_str()
        .or_else(|| body["app_guid"].as_str());
    let Some(value) = value else {
        return Err(OsbError::new(
            422,
            "RequiresApp",
            "this service can only be bound to an app: give bind_resource.app_guid",
        ));
    };
    AppGuid::parse(value).map_err(|e| OsbError::bad_request(format!("bind_resource.app_guid: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn credentials() -> BrokerCredentials {
        BrokerCredentials {
            username: "broker".into(),
            password: "secret".into(),
        }
    }

    #[test]
    fn only_the_exact_credentials_pass() {
        let basic = |text: &str| format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(text));
        assert!(authorized(
            &headers(&[("authorization", &basic("broker:secret"))]),
            &credentials()
        ));
        for wrong in [
            "broker:secret2",
            "broker:",
            "Broker:secret",
            "brokersecret",
            ":secret",
        ] {
            assert!(
                !authorized(&headers(&[("authorization", &basic(wrong))]), &credentials()),
                "{wrong}"
            );
        }
        assert!(!authorized(
            &headers(&[("authorization", "Bearer x")]),
            &credentials()
        ));
        assert!(!authorized(&headers(&[]), &credentials()));
    }

    #[test]
    fn any_2_x_version_is_spoken() {
        for ok in ["2.17", "2.13", "2.99"] {
            assert_eq!(
                version_problem(&headers(&[("x-broker-api-version", ok)])),
                None,
                "{ok}"
            );
        }
        for bad in ["3.0", "2", "two", "1.9"] {
            assert!(
                version_problem(&headers(&[("x-broker-api-version", bad)])).is_some(),
                "{bad}"
            );
        }
        assert!(version_problem(&headers(&[])).unwrap().contains("missing"));
    }

    #[test]
    fn the_originating_identity_is_decoded_for_the_log() {
        let encoded = base64::engine::general_purpose::STANDARD.encode(r#"{"user_id":"683ea748"}"#);
        let value = format!("cloudfoundry {encoded}");
        assert_eq!(
            originating_identity(&headers(&[("x-broker-api-originating-identity", &value)])),
            "cloudfoundry:683ea748"
        );
        assert_eq!(
            originating_identity(&headers(&[(
                "x-broker-api-originating-identity",
                "kubernetes !!"
            )])),
            "kubernetes:(undecodable)"
        );
        assert_eq!(originating_identity(&headers(&[])), "-");
    }
}
