//! The Cloud Controller v3 API, read with a UAA client-credentials token.
//!
//! Everything the broker and the updater need about a set of apps comes from three
//! listings, each paged with `per_page=5000` and filtered by up to [`GUIDS_PER_REQUEST`]
//! app GUIDs: `/v3/apps?guids=..&include=space.organization` (name, state, space, org),
//! `/v3/processes?app_guids=..&types=web` (instances) and
//! `/v3/routes?app_guids=..&include=domain` (routes and whether their domain is internal).
//! A page that fails fails the whole listing: callers never act on part of the truth.
//!
//! The token is cached and renewed a minute before it expires (half its lifetime before,
//! for tokens shorter than two minutes), or when the Cloud Controller answers 401. `next` links are followed only when they point at the
//! configured API, so the token is never sent elsewhere.

use crate::config::CloudControllerSettings;
use gds_metrics::targets::{AppFacts, AppGuid, BoundApp, TargetsError};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// GUIDs per listing request, which keeps URLs well under common limits (8 KiB).
pub const GUIDS_PER_REQUEST: usize = 100;
/// At most this many pages per listing, so a misbehaving server cannot loop us forever.
const MAX_PAGES: usize = 1000;
/// Each request fails after this long rather than hold up a bind.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// A token is renewed when it has less than this left.
const RENEW_BEFORE: Duration = Duration::from_secs(60);

/// A failure to learn about apps from the Cloud Controller or UAA.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CcError(pub String);

/// What the Cloud Controller says about one app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppState {
    /// The app's GUID, which also names its target file (and is never logged).
    pub guid: AppGuid,
    /// The app's name, used in targets' labels and in every message about the app.
    pub name: String,
    /// Whether the app's desired state is `STARTED`; a stopped app's targets are withdrawn.
    pub started: bool,
    /// How many instances its `web` process runs: one target per instance.
    pub instances: u32,
    /// The first public HTTP route (`host.domain`, path), in the order the Cloud
    /// Controller lists routes (oldest first); `None` when the app has none.
    pub route: Option<(String, String)>,
    /// The name of the app's organization, a label on its series.
    pub org: String,
    /// The name of the app's space, a label on its series (left off an exporter's).
    pub space: String,
}

impl AppState {
    /// The app as the target store wants it, or why it cannot be scraped. An exporter
    /// (bound with `{"exporter": true}`) labels its series with the spaces of the apps it
    /// describes, so its targets carry no `space`.
    pub fn bound_app(&self, exporter: bool) -> Result<BoundApp, String> {
        // Messages name the app, never its GUID: the GUID is its bearer token.
        let Some((host, path)) = &self.route else {
            return Err(format!(
                "app `{}` has no public HTTP route, so Prometheus cannot reach it; map one with `cf map-route` and \
                 bind again",
                self.name
            ));
        };
        let facts = AppFacts {
            guid: self.guid.clone(),
            name: self.name.clone(),
            instances: self.instances,
            route_host: host.clone(),
            route_path: path.clone(),
            org: self.org.clone(),
            space: self.space.clone(),
            exporter,
        };
        facts.validate().map_err(|e| match e {
            TargetsError::InvalidFacts { field, reason, .. } => {
                format!("app `{}` cannot be a target: field `{field}` {reason}", self.name)
            }
            _ => format!("app `{}` cannot be a target", self.name),
        })?;
        Ok(if self.started {
            BoundApp::Started(facts)
        } else {
            BoundApp::Stopped(facts)
        })
    }
}

struct Token {
    value: String,
    renew_at: Instant,
}

/// A client of one Cloud Controller.
pub struct CloudController {
    settings: CloudControllerSettings,
    http: reqwest::Client,
    token: Mutex<Option<Token>>,
}

impl CloudController {
    /// A client for the Cloud Controller and UAA in `settings`. Nothing is requested yet:
    /// the UAA token is fetched by the first listing.
    pub fn new(settings: CloudControllerSettings) -> Result<CloudController, String> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(CloudController {
            settings,
            http,
            token: Mutex::new(None),
        })
    }

    /// Every app of `guids` the Cloud Controller knows; an app it does not list is gone.
    pub async fn apps(&self, guids: &BTreeSet<AppGuid>) -> Result<BTreeMap<AppGuid, AppState>, CcError> {
        let mut found = BTreeMap::new();
        let all: Vec<&str> = guids.iter().map(AppGuid::as_str).collect();
        for chunk in all.chunks(GUIDS_PER_REQUEST) {
            found.extend(self.apps_chunk(&chunk.join(",")).await?);
        }
        Ok(found)
    }

    async fn apps_chunk(&self, guids: &str) -> Result<BTreeMap<AppGuid, AppState>, CcError> {
        let apps = self
            .list(&format!(
                "/v3/apps?guids={guids}&include=space.organization&per_page=5000"
            ))
            .await?;
        let processes = self
            .list(&format!(
                "/v3/processes?app_guids={guids}&types=web&per_page=5000"
            ))
            .await?;
        let routes = self
            .list(&format!(
                "/v3/routes?app_guids={guids}&include=domain&order_by=created_at&per_page=5000"
            ))
            .await?;
        let instances = web_instances(&processes.resources);
        let internal = internal_domains(&routes.included);
        let spaces = by_guid(&apps.included, "spaces");
        let orgs = by_guid(&apps.included, "organizations");
        let mut found = BTreeMap::new();
        for app in &apps.resources {
            let state = app_state(app, &instances, &routes.resources, &internal, &spaces, &orgs)?;
            found.insert(state.guid.clone(), state);
        }
        Ok(found)
    }

    /// Every resource of a paged listing, and everything `include` brought along.
    async fn list(&self, path: &str) -> Result<Listing, CcError> {
        let mut url = format!("{}{path}", self.settings.api_url);
        let mut listing = Listing::default();
        for _ in 0..MAX_PAGES {
            let page: Page = serde_json::from_value(self.get(&url).await?)
                .map_err(|e| CcError(format!("{}: not a v3 list: {e}", redacted(&url))))?;
            listing.resources.extend(page.resources);
            for (kind, values) in page.included {
                listing.included.entry(kind).or_default().extend(values);
            }
            match page.pagination.next {
                Some(Link { href }) => url = self.same_api(href)?,
                None => return Ok(listing),
            }
        }
        Err(CcError(format!(
            "{path}: more than {MAX_PAGES} pages; the listing was abandoned"
        )))
    }

    /// `href` if it is on the configured API, so the token never leaves for another host.
    fn same_api(&self, href: String) -> Result<String, CcError> {
        if href.starts_with(&format!("{}/", self.settings.api_url)) {
            Ok(href)
        } else {
            Err(CcError(format!(
                "the Cloud Controller's next page `{}` is not under CF_API_URL `{}`",
                redacted(&href),
                self.settings.api_url
            )))
        }
    }

    /// Whether the Cloud Controller confirms that the app is gone: `GET /v3/apps/:guid`
    /// answered 404 with the v3 API's `CF-ResourceNotFound` error. A listing that leaves
    /// an app out is not enough to delete its targets (a listing can be incomplete); any
    /// other answer (200, another error, a 404 from something that is not the Cloud
    /// Controller) is not a confirmation.
    pub async fn confirmed_gone(&self, guid: &AppGuid) -> Result<bool, CcError> {
        let url = format!("{}/v3/apps/{guid}", self.settings.api_url);
        let response = self.get_response(&url).await?;
        let status = response.status();
        if status.is_success() {
            return Ok(false);
        }
        if status != reqwest::StatusCode::NOT_FOUND {
            return json_body(&url, response).await.map(|_| false);
        }
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let resource_not_found = body["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|e| e["title"] == "CF-ResourceNotFound" && e["code"] == 10010);
        if resource_not_found {
            Ok(true)
        } else {
            Err(CcError(format!(
                "{} answered 404 without the Cloud Controller's CF-ResourceNotFound error",
                redacted(&url)
            )))
        }
    }

    async fn get(&self, url: &str) -> Result<Value, CcError> {
        json_body(url, self.get_response(url).await?).await
    }

    /// The answer to `GET url` with a valid token: a 401 (a token revoked or expired
    /// early) gets one fresh token and one retry.
    async fn get_response(&self, url: &str) -> Result<reqwest::Response, CcError> {
        let response = self.get_once(url, &self.token().await?).await?;
        if response.status() != reqwest::StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        *self.token.lock().await = None;
        self.get_once(url, &self.token().await?).await
    }

    async fn get_once(&self, url: &str, token: &str) -> Result<reqwest::Response, CcError> {
        self.http
            .get(url)
            .bearer_auth(token)
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| CcError(format!("GET {}: {}", redacted(url), request_error(e))))
    }

    /// A valid token, fetched or renewed when needed.
    async fn token(&self) -> Result<String, CcError> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| Instant::now() < t.renew_at) {
            return Ok(token.value.clone());
        }
        let fresh = self.fetch_token().await?;
        let value = fresh.value.clone();
        *cached = Some(fresh);
        Ok(value)
    }

    async fn fetch_token(&self) -> Result<Token, CcError> {
        let uaa = self.uaa_url().await?;
        let url = format!("{}/oauth/token", uaa.trim_end_matches('/'));
        let response = self
            .http
            .post(&url)
            .basic_auth(&self.settings.client_id, Some(&self.settings.client_secret))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json")
            .body("grant_type=client_credentials")
            .send()
            .await
            .map_err(|e| CcError(format!("POST {url}: {}", request_error(e))))?;
        let body: TokenResponse = serde_json::from_value(json_body(&url, response).await?)
            .map_err(|e| CcError(format!("{url}: not a token response: {e}")))?;
        let lifetime = Duration::from_secs(body.expires_in.unwrap_or(0));
        Ok(Token {
            value: body.access_token,
            renew_at: Instant::now() + lifetime - renew_before(lifetime),
        })
    }

    /// UAA's URL, from the Cloud Controller's root document (`links.uaa`, else `login`).
    async fn uaa_url(&self) -> Result<String, CcError> {
        let url = format!("{}/", self.settings.api_url);
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| CcError(format!("GET {url}: {}", request_error(e))))?;
        let root = json_body(&url, response).await?;
        ["uaa", "login"]
            .iter()
            .find_map(|name| root["links"][name]["href"].as_str())
            .map(str::to_owned)
            .ok_or_else(|| CcError(format!("{url}: the root document has no `links.uaa.href`")))
    }
}

/// How long before it expires a token of `lifetime` is renewed: [`RENEW_BEFORE`], or half
/// its lifetime when it is shorter than twice that (so a short-lived token is still used
/// for a while rather than renewed before every request).
fn renew_before(lifetime: Duration) -> Duration {
    RENEW_BEFORE.min(lifetime / 2)
}

/// `url` without its query and with any GUID in its path replaced: queries and paths
/// name app GUIDs, which are bearer tokens and must not reach a log.
fn redacted(url: &str) -> String {
    match url.split_once('?') {
        Some((path, _)) => format!("{}?…", crate::redact_guids(path)),
        None => crate::redact_guids(url),
    }
}

async fn json_body(url: &str, response: reqwest::Response) -> Result<Value, CcError> {
    let url = &redacted(url);
    let status = response.status();
    if !status.is_success() {
        return Err(CcError(format!("{url} answered {status}")));
    }
    response
        .json()
        .await
        .map_err(|e| CcError(format!("{url}: not JSON: {}", request_error(e))))
}

/// The error without its URL (reqwest prints it, query and all; callers name it redacted).
fn request_error(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut message = error.to_string();
    if let Some(source) = std::error::Error::source(&error) {
        message = format!("{message}: {source}");
    }
    message
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct Page {
    pagination: Pagination,
    resources: Vec<Value>,
    #[serde(default)]
    included: BTreeMap<String, Vec<Value>>,
}

#[derive(Deserialize)]
struct Pagination {
    next: Option<Link>,
}

#[derive(Deserialize)]
struct Link {
    href: String,
}

#[derive(Default)]
struct Listing {
    resources: Vec<Value>,
    included: BTreeMap<String, Vec<Value>>,
}

fn by_guid<'a>(included: &'a BTreeMap<String, Vec<Value>>, kind: &str) -> BTreeMap<&'a str, &'a Value> {
    included
        .get(kind)
        .into_iter()
        .flatten()
        .filter_map(|item| Some((item["guid"].as_str()?, item)))
        .collect()
}

/// Instances of each app's `web` process, by app GUID (from the process's `app` link).
fn web_instances(processes: &[Value]) -> BTreeMap<String, u32> {
    processes
        .iter()
        .filter(|p| p["type"] == "web")
        .filter_map(|p| {
            let app = p["relationships"]["app"]["data"]["guid"]
                .as_str()
                .map(str::to_owned)
                .or_else(|| {
                    p["links"]["app"]["href"]
                        .as_str()?
                        .rsplit('/')
                        .next()
                        .map(str::to_owned)
                })?;
            Some((
                app,
                p["instances"].as_u64().unwrap_or(0).min(u32::MAX as u64) as u32,
            ))
        })
        .collect()
}

fn internal_domains(included: &BTreeMap<String, Vec<Value>>) -> BTreeSet<String> {
    by_guid(included, "domains")
        .into_iter()
        .filter(|(_, d)| d["internal"].as_bool() == Some(true))
        .map(|(guid, _)| guid.to_owned())
        .collect()
}

/// The first public HTTP route with `app` among its destinations.
fn first_route(app: &str, routes: &[Value], internal: &BTreeSet<String>) -> Option<(String, String)> {
    routes.iter().find_map(|route| {
        let serves_app = route["destinations"]
            .as_array()?
            .iter()
            .any(|d| d["app"]["guid"] == app);
        let domain_guid = route["relationships"]["domain"]["data"]["guid"].as_str()?;
        if !serves_app || route["protocol"] != "http" || internal.contains(domain_guid) {
            return None;
        }
        let url = route["url"].as_str()?;
        let (host, path) = url.split_once('/').map_or((url, ""), |(h, p)| (h, p));
        Some((
            host.to_owned(),
            if path.is_empty() {
                String::new()
            } else {
                format!("/{path}")
            },
        ))
    })
}

fn app_state(
    app: &Value,
    instances: &BTreeMap<String, u32>,
    routes: &[Value],
    internal: &BTreeSet<String>,
    spaces: &BTreeMap<&str, &Value>,
    orgs: &BTreeMap<&str, &Value>,
) -> Result<AppState, CcError> {
    let text = |value: &Value, what: &str| {
        value
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| CcError(format!("an app in /v3/apps has no {what}")))
    };
    let guid_text = text(&app["guid"], "guid")?;
    let guid =
        AppGuid::parse(&guid_text).map_err(|_| CcError("an app in /v3/apps has a malformed guid".into()))?;
    let space_guid = text(&app["relationships"]["space"]["data"]["guid"], "space")?;
    let space = spaces.get(space_guid.as_str()).ok_or_else(|| {
        CcError(format!(
            "app `{}`: its space {space_guid} was not included",
            app["name"]
        ))
    })?;
    let org_guid = text(
        &space["relationships"]["organization"]["data"]["guid"],
        "organization",
    )?;
    let org = orgs.get(org_guid.as_str()).ok_or_else(|| {
        CcError(format!(
            "app {}: its organization {org_guid} was not included",
            app["name"]
        ))
    })?;
    Ok(AppState {
        name: text(&app["name"], "name")?,
        started: app["state"] == "STARTED",
        instances: instances.get(&guid_text).copied().unwrap_or(0),
        route: first_route(&guid_text, routes, internal),
        org: text(&org["name"], "organization name")?,
        space: text(&space["name"], "space name")?,
        guid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const APP: &str = "6f1e3c2a-9b4d-4e8f-a1b2-c3d4e5f6a7b8";

    #[test]
    fn the_first_public_http_route_wins_and_keeps_its_path() {
        let routes = vec![
            json!({"protocol": "http", "url": "app.apps.internal", "destinations": [{"app": {"guid": APP}}],
                   "relationships": {"domain": {"data": {"guid": "internal"}}}}),
            json!({"protocol": "tcp", "url": "tcp.example.org:1024", "destinations": [{"app": {"guid": APP}}],
                   "relationships": {"domain": {"data": {"guid": "tcp"}}}}),
            json!({"protocol": "http", "url": "other.example.org", "destinations": [{"app": {"guid": "x"}}],
                   "relationships": {"domain": {"data": {"guid": "public"}}}}),
            json!({"protocol": "http", "url": "app.example.org/api/v1", "destinations": [{"app": {"guid": APP}}],
                   "relationships": {"domain": {"data": {"guid": "public"}}}}),
        ];
        let internal = BTreeSet::from(["internal".to_owned()]);
        assert_eq!(
            first_route(APP, &routes, &internal),
            Some(("app.example.org".to_owned(), "/api/v1".to_owned()))
        );
        assert_eq!(first_route(APP, &routes[..3], &internal), None);
    }

    #[test]
    fn instances_come_from_the_web_process_by_relationship_or_link() {
        let processes = vec![
            json!({"type": "web", "instances": 3, "relationships": {"app": {"data": {"guid": "a"}}}}),
            json!({"type": "worker", "instances": 9, "relationships": {"app": {"data": {"guid": "a"}}}}),
            json!({"type": "web", "instances": 2, "links": {"app": {"href": "https://api.example.org/v3/apps/b"}}}),
        ];
        assert_eq!(
            web_instances(&processes),
            BTreeMap::from([("a".into(), 3), ("b".into(), 2)])
        );
    }

    #[test]
    fn tokens_are_renewed_a_minute_early_or_half_way_when_short() {
        assert_eq!(renew_before(Duration::from_secs(43199)), RENEW_BEFORE);
        assert_eq!(renew_before(Duration::from_secs(120)), RENEW_BEFORE);
        assert_eq!(renew_before(Duration::from_secs(10)), Duration::from_secs(5));
        assert_eq!(renew_before(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn logged_urls_name_no_app_guid() {
        assert_eq!(
            redacted(&format!("https://api.example.org/v3/apps/{APP}")),
            "https://api.example.org/v3/apps/<guid>"
        );
        assert_eq!(
            redacted(&format!("https://api.example.org/v3/apps?guids={APP}&page=2")),
            "https://api.example.org/v3/apps?…"
        );
    }

    #[test]
    fn an_app_without_a_route_cannot_be_bound() {
        let state = AppState {
            guid: AppGuid::parse(APP).unwrap(),
            name: "worker".into(),
            started: true,
            instances: 1,
            route: None,
            org: "o".into(),
            space: "s".into(),
        };
        assert!(state
            .bound_app(false)
            .unwrap_err()
            .contains("has no public HTTP route"));
    }
}
