//! The endpoint's configuration: read once from the environment, overridable in code.
//!
//! CONTRACT section 1. Every bad value is a [`ConfigError`] at start-up that names the
//! variable, says what is wrong and how to fix it. The one thing this module must never do
//! is fall back to "auth off" because a value could not be understood: an app that looks
//! unauthenticated to its owner but exposes its metrics to anyone is the failure the old
//! libraries had (`METRICS_BASIC_AUTH=TRUE` switched auth off).

use std::path::{Path, PathBuf};

/// The JSON object Cloud Foundry sets; its `application_id` is the bearer token.
pub const VCAP_APPLICATION: &str = "VCAP_APPLICATION";
/// The auth switch (the historical name: the check is a bearer token, not HTTP Basic).
pub const METRICS_BASIC_AUTH: &str = "METRICS_BASIC_AUTH";
/// The path the endpoint is served at.
pub const PROMETHEUS_METRICS_PATH: &str = "PROMETHEUS_METRICS_PATH";
/// The switch for trace exemplars on the request metrics (`true` or `false`, default on).
pub const METRICS_TRACE_EXEMPLARS: &str = "METRICS_TRACE_EXEMPLARS";
/// The switch for native buckets beside the classic ones of the request duration
/// (`true` or `false`, default on).
pub const METRICS_REQUEST_NATIVE_HISTOGRAM: &str = "METRICS_REQUEST_NATIVE_HISTOGRAM";
/// The instance index Cloud Foundry sets.
pub const CF_INSTANCE_INDEX: &str = "CF_INSTANCE_INDEX";
/// Directory variables for multi-process aggregation, first set wins: `prometheus_client`'s
/// current and historical names, then the Ruby client's.
pub const MULTIPROCESS_DIR_VARIABLES: [&str; 3] = [
    "PROMETHEUS_MULTIPROC_DIR",
    "prometheus_multiproc_dir",
    "MMAP_DIRECTORY",
];

/// The default path of the endpoint.
pub const DEFAULT_METRICS_PATH: &str = "/metrics";

/// A configuration value that cannot be used. The message names the variable (or the
/// builder setter), says what is wrong and how to fix it, and never contains the token.
// Each variant's fields are the facts its message names.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `VCAP_APPLICATION` is set but is not a JSON object with a usable `application_id`.
    #[error(
        "`VCAP_APPLICATION` {reason}; Cloud Foundry sets it to a JSON object whose non-empty \
         `application_id` is the app GUID: unset it when not running on the PaaS"
    )]
    InvalidVcapApplication { reason: &'static str },

    /// The application id given in code is empty or holds characters a bearer token cannot.
    #[error("the application id given in code {reason}; pass the app GUID")]
    InvalidApplicationId { reason: &'static str },

    /// `METRICS_BASIC_AUTH` is neither `true` nor `false`.
    #[error(
        "`METRICS_BASIC_AUTH` must be `true` or `false` (any case), got `{value}`; \
         unset it to keep auth on"
    )]
    InvalidAuthSwitch { value: String },

    /// A `true`/`false` switch other than the auth switch holds something else.
    #[error("`{variable}` must be `true` or `false` (any case), got `{value}`; unset it for the default")]
    InvalidSwitch { variable: &'static str, value: String },

    /// The metrics path is not an absolute path without query, fragment or whitespace.
    #[error("{source_name} must {rule}, got `{value}`; use a path such as `/metrics`")]
    InvalidMetricsPath {
        source_name: &'static str,
        rule: &'static str,
        value: String,
    },

    /// The multi-process directory cannot be created or written.
    #[error("{source_name} names `{path}`, which {reason}; point it at a writable directory")]
    InvalidMultiprocessDir {
        source_name: &'static str,
        path: PathBuf,
        reason: String,
    },
}

impl ConfigError {
    /// Always [`ErrorKind::Configuration`](crate::ErrorKind::Configuration).
    pub fn kind(&self) -> crate::ErrorKind {
        crate::ErrorKind::Configuration
    }
}

/// A non-fatal problem found while reading the configuration, for the binding to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning(pub String);

impl std::fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The parsed configuration of one app's endpoint.
///
/// ```
/// use gds_metrics::Config;
/// let config = Config::builder().application_id("6b0b3c4e-guid").metrics_path("/internal/metrics").build()?;
/// assert!(config.auth_enabled());
/// assert_eq!(config.metrics_path(), "/internal/metrics");
/// # Ok::<(), gds_metrics::ConfigError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    token: Option<String>,
    metrics_path: String,
    instance_index: Option<u32>,
    multiprocess_dir: Option<PathBuf>,
    /// The app's own routes (`VCAP_APPLICATION.application_uris`), `None` off the PaaS.
    routes: Option<Vec<String>>,
    /// Whether a sampled `traceparent` becomes the exemplar of a request's metrics.
    trace_exemplars: bool,
    /// Whether the request duration keeps native buckets beside its classic ones.
    request_native_histogram: bool,
    warnings: Vec<ConfigWarning>,
}

/// Never prints the token, so a `{:?}` in a log line cannot leak it.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("auth_enabled", &self.auth_enabled())
            .field("metrics_path", &self.metrics_path)
            .field("instance_index", &self.instance_index)
            .field("multiprocess_dir", &self.multiprocess_dir)
            .field("routes", &self.routes)
            .field("trace_exemplars", &self.trace_exemplars)
            .field("request_native_histogram", &self.request_native_histogram)
            .finish()
    }
}

impl Config {
    /// The configuration from the process environment alone.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::builder().build()
    }

    /// A builder whose setters win over the environment.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// The exact path the endpoint answers at (default `/metrics`).
    pub fn metrics_path(&self) -> &str {
        &self.metrics_path
    }

    /// Whether scrapes must carry `Authorization: Bearer <app GUID>`: true when a GUID is
    /// configured and auth is not switched off.
    pub fn auth_enabled(&self) -> bool {
        self.token.is_some()
    }

    /// The app instance index, when known.
    pub fn instance_index(&self) -> Option<u32> {
        self.instance_index
    }

    /// The multi-process directory, when configured (it exists and is writable).
    pub fn multiprocess_dir(&self) -> Option<&Path> {
        self.multiprocess_dir.as_deref()
    }

    /// Problems that did not stop the configuration (an unparsable `CF_INSTANCE_INDEX`), for
    /// the caller to log.
    pub fn warnings(&self) -> &[ConfigWarning] {
        &self.warnings
    }

    /// The app's own routes as Cloud Foundry lists them (`host` or `host/path`), or `None`
    /// off the PaaS. They bound the `host` label of the request metrics.
    pub fn routes(&self) -> Option<&[String]> {
        self.routes.as_deref()
    }

    /// Whether a request's sampled W3C `traceparent` becomes the exemplar (`trace_id`,
    /// `span_id`) of its request metrics: on unless switched off in code or by
    /// `METRICS_TRACE_EXEMPLARS=false`.
    pub fn trace_exemplars(&self) -> bool {
        self.trace_exemplars
    }

    /// Whether `http_server_request_duration_seconds` keeps native buckets (the core's
    /// [`NativeBuckets`](crate::NativeBuckets) defaults) beside its classic ones: on unless
    /// switched off in code or by `METRICS_REQUEST_NATIVE_HISTOGRAM=false`. A Prometheus
    /// that scrapes protobuf with native histograms on then stores a native histogram
    /// (carrying the trace exemplars) instead of the `_bucket` series, unless its job sets
    /// `always_scrape_classic_histograms: true`; text and OpenMetrics scrapes are the same
    /// either way. Switch it off for dashboards that read `_bucket` from such a server.
    pub fn request_native_histogram(&self) -> bool {
        self.request_native_histogram
    }

    /// The bearer token scrapes must present, when auth is on.
    pub(crate) fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }
}

/// Builds a [`Config`]; every setting given wins over the corresponding environment
/// variable. The settings are also public fields, so a binding hands over its caller's
/// optional arguments as data (`None`: read the environment), starting from
/// `..ConfigBuilder::default()`, and the core decides the rest.
#[derive(Debug, Clone, Default)]
pub struct ConfigBuilder {
    /// The app GUID to require as bearer token (instead of `VCAP_APPLICATION`).
    pub application_id: Option<String>,
    /// Auth on or off (instead of `METRICS_BASIC_AUTH`); see [`ConfigBuilder::auth_enabled`].
    pub auth_enabled: Option<bool>,
    /// The endpoint's path (instead of `PROMETHEUS_METRICS_PATH`).
    pub metrics_path: Option<String>,
    /// The instance index (instead of `CF_INSTANCE_INDEX`).
    pub instance_index: Option<u32>,
    /// The multi-process directory (instead of `PROMETHEUS_MULTIPROC_DIR` and friends).
    pub multiprocess_dir: Option<PathBuf>,
    /// The app's own routes (instead of `VCAP_APPLICATION.application_uris`).
    pub routes: Option<Vec<String>>,
    /// Trace exemplars on the request metrics on or off (instead of
    /// `METRICS_TRACE_EXEMPLARS`).
    pub trace_exemplars: Option<bool>,
    /// Native buckets on the request duration on or off (instead of
    /// `METRICS_REQUEST_NATIVE_HISTOGRAM`).
    pub request_native_histogram: Option<bool>,
}

impl ConfigBuilder {
    /// The app GUID to require as bearer token (instead of `VCAP_APPLICATION`).
    pub fn application_id(mut self, guid: impl Into<String>) -> Self {
        self.application_id = Some(guid.into());
        self
    }

    /// Switches auth on or off (instead of `METRICS_BASIC_AUTH`). Switched on with no
    /// application id anywhere, the app is not on the PaaS: auth stays off, with a warning,
    /// exactly as for `METRICS_BASIC_AUTH=true` without `VCAP_APPLICATION`.
    pub fn auth_enabled(mut self, on: bool) -> Self {
        self.auth_enabled = Some(on);
        self
    }

    /// The endpoint's path (instead of `PROMETHEUS_METRICS_PATH`).
    pub fn metrics_path(mut self, path: impl Into<String>) -> Self {
        self.metrics_path = Some(path.into());
        self
    }

    /// The instance index (instead of `CF_INSTANCE_INDEX`).
    pub fn instance_index(mut self, index: u32) -> Self {
        self.instance_index = Some(index);
        self
    }

    /// The app's own routes (instead of `VCAP_APPLICATION.application_uris`), as Cloud
    /// Foundry writes them: `host` or `host/path`.
    pub fn routes<I, S>(mut self, routes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.routes = Some(routes.into_iter().map(Into::into).collect());
        self
    }

    /// Switches trace exemplars on the request metrics on or off (instead of
    /// `METRICS_TRACE_EXEMPLARS`; on by default): see [`Config::trace_exemplars`].
    pub fn trace_exemplars(mut self, on: bool) -> Self {
        self.trace_exemplars = Some(on);
        self
    }

    /// Switches the request duration's native buckets on or off (instead of
    /// `METRICS_REQUEST_NATIVE_HISTOGRAM`; on by default): see
    /// [`Config::request_native_histogram`].
    pub fn request_native_histogram(mut self, on: bool) -> Self {
        self.request_native_histogram = Some(on);
        self
    }

    /// The multi-process directory (instead of `PROMETHEUS_MULTIPROC_DIR` and friends).
    pub fn multiprocess_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.multiprocess_dir = Some(dir.into());
        self
    }

    /// Builds the configuration, taking unset values from the process environment, and
    /// prints any warning to standard error.
    pub fn build(self) -> Result<Config, ConfigError> {
        let config =
            self.build_with_env(|name| std::env::var_os(name).map(|v| v.to_string_lossy().into()))?;
        for warning in config.warnings() {
            eprintln!("gds-metrics: warning: {warning}");
        }
        Ok(config)
    }

    /// Builds the configuration, taking unset values from `env` (a lookup by variable
    /// name), so tests and embedders need not touch the process environment.
    pub fn build_with_env(self, env: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut warnings = Vec::new();
        let token = self.resolve_token(&env, &mut warnings)?;
        let routes = match self.routes {
            Some(routes) => Some(routes),
            None => env(VCAP_APPLICATION).map(|raw| parse_vcap_routes(&raw)),
        };
        let metrics_path = resolve_metrics_path(self.metrics_path, &env)?;
        let instance_index = match self.instance_index {
            Some(index) => Some(index),
            None => instance_index_from_env(&env, &mut warnings),
        };
        let multiprocess_dir = resolve_multiprocess_dir(self.multiprocess_dir, &env)?;
        let trace_exemplars = resolve_switch(self.trace_exemplars, METRICS_TRACE_EXEMPLARS, &env)?;
        let request_native_histogram = resolve_switch(
            self.request_native_histogram,
            METRICS_REQUEST_NATIVE_HISTOGRAM,
            &env,
        )?;
        Ok(Config {
            token,
            metrics_path,
            instance_index,
            multiprocess_dir,
            routes,
            trace_exemplars,
            request_native_histogram,
            warnings,
        })
    }

    /// The token to require, or `None` when auth is off. The application id is read (and
    /// validated) even when auth is switched off, so a broken `VCAP_APPLICATION` is found
    /// at start-up whatever the switch says.
    fn resolve_token(
        &self,
        env: &impl Fn(&str) -> Option<String>,
        warnings: &mut Vec<ConfigWarning>,
    ) -> Result<Option<String>, ConfigError> {
        let application_id = match &self.application_id {
            Some(guid) => Some(check_code_application_id(guid)?),
            None => env(VCAP_APPLICATION)
                .map(|raw| parse_vcap_application(&raw))
                .transpose()?,
        };
        let switch = match self.auth_enabled {
            Some(on) => Some(on),
            None => env(METRICS_BASIC_AUTH)
                .map(|raw| parse_auth_switch(&raw))
                .transpose()?,
        };
        match (switch, application_id) {
            (Some(false), _) => Ok(None),
            (_, Some(guid)) => Ok(Some(guid)),
            (None, None) => Ok(None),
            // Off the PaaS there is nothing to check against, however auth was switched on.
            (Some(true), None) => {
                warnings.push(ConfigWarning(
                    "auth is switched on but there is no application id (`VCAP_APPLICATION` is \
                     unset): not on the PaaS, so the endpoint is not protected"
                        .to_owned(),
                ));
                Ok(None)
            }
        }
    }
}

/// Extracts the app GUID from the JSON in `VCAP_APPLICATION`. The error never includes the
/// value, which holds the token.
pub fn parse_vcap_application(raw: &str) -> Result<String, ConfigError> {
    let invalid = |reason| ConfigError::InvalidVcapApplication { reason };
    let value: serde_json::Value = serde_json::from_str(raw).map_err(|_| invalid("is not valid JSON"))?;
    let object = value.as_object().ok_or(invalid("is JSON but not an object"))?;
    let id = match object.get("application_id") {
        None => return Err(invalid("has no `application_id`")),
        Some(serde_json::Value::String(id)) => id,
        Some(_) => return Err(invalid("has an `application_id` that is not a string")),
    };
    match token_problem(id) {
        Some(TokenProblem::Empty) => Err(invalid("has an empty `application_id`")),
        Some(TokenProblem::BadCharacters) => Err(invalid(
            "has an `application_id` with whitespace, control or non-ASCII characters",
        )),
        None => Ok(id.clone()),
    }
}

/// The app's routes from the JSON in `VCAP_APPLICATION` (`application_uris`), lower-cased.
/// Lenient: the application id is what must be valid; routes missing or of the wrong shape
/// mean no route is known, so every `host` is recorded as `other`.
pub fn parse_vcap_routes(raw: &str) -> Vec<String> {
    let Ok(serde_json::Value::Object(object)) = serde_json::from_str::<serde_json::Value>(raw) else {
        return Vec::new();
    };
    let Some(serde_json::Value::Array(uris)) = object.get("application_uris") else {
        return Vec::new();
    };
    uris.iter()
        .filter_map(|uri| uri.as_str())
        .map(str::to_ascii_lowercase)
        .collect()
}

fn check_code_application_id(guid: &str) -> Result<String, ConfigError> {
    let reason = match token_problem(guid) {
        Some(TokenProblem::Empty) => "is empty",
        Some(TokenProblem::BadCharacters) => "holds whitespace, control or non-ASCII characters",
        None => return Ok(guid.to_owned()),
    };
    Err(ConfigError::InvalidApplicationId { reason })
}

/// Why a string cannot be a bearer token.
enum TokenProblem {
    Empty,
    /// A scrape's header is trimmed and split on whitespace, so a token with whitespace or
    /// control characters could never match.
    BadCharacters,
}

fn token_problem(id: &str) -> Option<TokenProblem> {
    if id.is_empty() {
        Some(TokenProblem::Empty)
    } else if !id.bytes().all(|b| b.is_ascii_graphic()) {
        Some(TokenProblem::BadCharacters)
    } else {
        None
    }
}

/// Reads the auth switch: `true` or `false` in any case, nothing else.
pub fn parse_auth_switch(raw: &str) -> Result<bool, ConfigError> {
    if raw.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if raw.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(ConfigError::InvalidAuthSwitch {
            value: raw.chars().take(40).collect(),
        })
    }
}

/// A switch that is on by default: as given in code, else from `variable`.
fn resolve_switch(
    from_code: Option<bool>,
    variable: &'static str,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<bool, ConfigError> {
    match from_code {
        Some(on) => Ok(on),
        None => Ok(env(variable)
            .map(|raw| parse_switch(variable, &raw))
            .transpose()?
            .unwrap_or(true)),
    }
}

/// A `true`/`false` switch in `variable`, any case.
fn parse_switch(variable: &'static str, raw: &str) -> Result<bool, ConfigError> {
    parse_auth_switch(raw).map_err(|_| ConfigError::InvalidSwitch {
        variable,
        value: raw.chars().take(40).collect(),
    })
}

fn resolve_metrics_path(
    from_code: Option<String>,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<String, ConfigError> {
    let (path, source_name) = match from_code {
        Some(path) => (path, "the metrics path given in code"),
        None => match env(PROMETHEUS_METRICS_PATH) {
            Some(path) => (path, "`PROMETHEUS_METRICS_PATH`"),
            None => return Ok(DEFAULT_METRICS_PATH.to_owned()),
        },
    };
    match metrics_path_problem(&path) {
        Some(rule) => Err(ConfigError::InvalidMetricsPath {
            source_name,
            rule,
            value: path.chars().take(200).collect(),
        }),
        None => Ok(path),
    }
}

/// Which rule `path` breaks, if any. The endpoint matches the request path exactly, so a
/// query or fragment could never match, and whitespace is never a real path.
fn metrics_path_problem(path: &str) -> Option<&'static str> {
    if !path.starts_with('/') {
        Some("start with `/`")
    } else if path.contains(['?', '#']) {
        Some("hold no query (`?`) or fragment (`#`)")
    } else if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("hold no whitespace or control characters")
    } else {
        None
    }
}

fn instance_index_from_env(
    env: &impl Fn(&str) -> Option<String>,
    warnings: &mut Vec<ConfigWarning>,
) -> Option<u32> {
    let raw = env(CF_INSTANCE_INDEX)?;
    match raw.trim().parse::<u32>() {
        Ok(index) if raw.trim().bytes().all(|b| b.is_ascii_digit()) => Some(index),
        _ => {
            let shown: String = raw.chars().take(40).collect();
            warnings.push(ConfigWarning(format!(
                "`CF_INSTANCE_INDEX` is not a decimal number (got `{shown}`); ignoring it"
            )));
            None
        }
    }
}

pub(crate) fn resolve_multiprocess_dir(
    from_code: Option<PathBuf>,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Option<PathBuf>, ConfigError> {
    let (dir, source_name) = match from_code {
        Some(dir) => (dir, "the multi-process directory given in code"),
        None => {
            let found = MULTIPROCESS_DIR_VARIABLES
                .iter()
                .find_map(|name| env(name).map(|dir| (dir, *name)));
            match found {
                Some((dir, name)) => (PathBuf::from(dir), env_source_name(name)),
                None => return Ok(None),
            }
        }
    };
    check_writable_dir(&dir).map_err(|reason| ConfigError::InvalidMultiprocessDir {
        source_name,
        path: dir.clone(),
        reason,
    })?;
    Ok(Some(dir))
}

fn env_source_name(name: &str) -> &'static str {
    match name {
        "PROMETHEUS_MULTIPROC_DIR" => "`PROMETHEUS_MULTIPROC_DIR`",
        "prometheus_multiproc_dir" => "`prometheus_multiproc_dir`",
        _ => "`MMAP_DIRECTORY`",
    }
}

/// Creates `dir` if needed and checks that this process may write into it, so a
/// misconfigured directory fails at start-up rather than on the first increment.
fn check_writable_dir(dir: &Path) -> Result<(), String> {
    if dir.as_os_str().is_empty() {
        return Err("is empty".to_owned());
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot be created ({e})"))?;
    if !dir.is_dir() {
        return Err("is not a directory".to_owned());
    }
    if !is_writable(dir) {
        return Err("is not writable by this process".to_owned());
    }
    Ok(())
}

#[cfg(unix)]
fn is_writable(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c_path) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c_path` is a valid NUL-terminated string that outlives the call.
    unsafe { libc::access(c_path.as_ptr(), libc::W_OK | libc::X_OK) == 0 }
}

#[cfg(not(unix))]
fn is_writable(dir: &Path) -> bool {
    std::fs::metadata(dir).is_ok_and(|m| !m.permissions().readonly())
}
