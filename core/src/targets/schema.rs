//! From what a broker knows about an app to the target groups Prometheus reads.
//!
//! The labels are exactly those of CONTRACT section 7, and the rendering is byte-for-byte
//! deterministic so that the store can skip writes whose bytes have not changed.

use super::{AppGuid, TargetsError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Cloud Foundry deploys blue-green with an `autopilot`-style rename of the old app to
/// `<name>-venerable`; stripping it keeps the `job` label, and so every series, stable.
const VENERABLE_SUFFIX: &str = "-venerable";

/// What a broker knows about one bound app: enough to write its target file.
///
/// In JSON (the `gds-metrics-targets` input) the fields have these names; `route_path`
/// and `exporter` may be left out. Unknown fields are rejected, so a misspelt field is an
/// error rather than a silently missing label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppFacts {
    /// The app GUID: the file name and the bearer token of every scrape.
    pub guid: AppGuid,
    /// The app name; becomes `job`, without a trailing `-venerable`.
    pub name: String,
    /// How many instances the app runs; one target group per instance.
    pub instances: u32,
    /// The host of the app's route (`my-app.cloudapps.digital`, optionally with `:port`),
    /// which Prometheus scrapes through the proxy.
    pub route_host: String,
    /// The path of the route, empty for a route without one.
    #[serde(default)]
    pub route_path: String,
    /// The organisation; becomes `org`.
    pub org: String,
    /// The space; becomes `space` unless the app is an exporter.
    pub space: String,
    /// Exporter apps (such as the PaaS Prometheus exporter) label their series with the
    /// space of the app they describe, so the target must not add its own `space`.
    #[serde(default)]
    pub exporter: bool,
}

impl AppFacts {
    /// Reads app facts from JSON, naming `source_name` (a file name or `<stdin>`) in errors.
    pub fn from_json(json: &[u8], source_name: &str) -> Result<AppFacts, TargetsError> {
        let facts: AppFacts = serde_json::from_slice(json).map_err(|e| TargetsError::InvalidInput {
            source_name: source_name.to_owned(),
            reason: format!("not valid app facts: {e}"),
        })?;
        facts.validate()?;
        Ok(facts)
    }

    /// Checks the facts a target group needs, so that a bad route or an empty name is
    /// reported by the broker instead of as a target Prometheus cannot scrape.
    pub fn validate(&self) -> Result<(), TargetsError> {
        self.require_non_empty("name", &self.name)?;
        self.require_non_empty("org", &self.org)?;
        if !self.exporter {
            self.require_non_empty("space", &self.space)?;
        }
        if let Some(reason) = route_host_problem(&self.route_host) {
            return Err(self.invalid("route_host", reason));
        }
        if self
            .route_path
            .chars()
            .any(|c| c.is_whitespace() || c == '?' || c == '#')
        {
            return Err(self.invalid(
                "route_path",
                "must not hold whitespace, `?` or `#`; give the path of the route only",
            ));
        }
        Ok(())
    }

    /// One target group per instance, with exactly the labels of the contract.
    pub fn target_groups(&self) -> Result<Vec<TargetGroup>, TargetsError> {
        self.validate()?;
        Ok((0..self.instances).map(|index| self.group_for(index)).collect())
    }

    fn group_for(&self, index: u32) -> TargetGroup {
        let instance = format!("{}:{index}", self.guid);
        let mut labels = BTreeMap::from([
            ("__param_cf_app_guid".to_owned(), self.guid.to_string()),
            ("__param_cf_app_instance_index".to_owned(), index.to_string()),
            ("__param_cf_app_instance".to_owned(), instance.clone()),
            ("instance".to_owned(), instance),
            ("job".to_owned(), self.job().to_owned()),
            ("org".to_owned(), self.org.clone()),
        ]);
        if !self.exporter {
            labels.insert("space".to_owned(), self.space.clone());
        }
        if let Some(path) = metrics_path(&self.route_path) {
            labels.insert("__metrics_path__".to_owned(), path);
        }
        TargetGroup {
            targets: vec![self.route_host.clone()],
            labels,
        }
    }

    /// The app name without the blue-green suffix.
    fn job(&self) -> &str {
        self.name.strip_suffix(VENERABLE_SUFFIX).unwrap_or(&self.name)
    }

    fn require_non_empty(&self, field: &'static str, value: &str) -> Result<(), TargetsError> {
        if value.trim().is_empty() {
            return Err(self.invalid(
                field,
                "is empty; give the value Cloud Foundry reports for the app",
            ));
        }
        Ok(())
    }

    fn invalid(&self, field: &'static str, reason: impl Into<String>) -> TargetsError {
        TargetsError::InvalidFacts {
            guid: self.guid.to_string(),
            field,
            reason: reason.into(),
        }
    }
}

/// Why `host` cannot be a Prometheus target address (`host` or `host:port`), if it cannot.
fn route_host_problem(host: &str) -> Option<&'static str> {
    if host.is_empty() {
        Some("is empty; give the host of the app's route, such as `my-app.cloudapps.digital`")
    } else if host.contains("://") {
        Some("must be a host name without a scheme, such as `my-app.cloudapps.digital`")
    } else if host.contains('/') {
        Some("must be a host name only; put the path of the route in `route_path`")
    } else if host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("must not hold whitespace")
    } else {
        None
    }
}

/// The `__metrics_path__` for a route path: none for a route without a path (Prometheus
/// then scrapes `/metrics`), the path itself when it already ends in `metrics`, else the
/// path with `/metrics` appended. A missing leading `/` is added and trailing ones are
/// dropped, so `hello`, `/hello` and `/hello/` all give `/hello/metrics`.
pub(crate) fn metrics_path(route_path: &str) -> Option<String> {
    let trimmed = route_path.trim_matches('/');
    if trimmed.is_empty() {
        return None;
    }
    if trimmed.ends_with("metrics") {
        Some(format!("/{trimmed}"))
    } else {
        Some(format!("/{trimmed}/metrics"))
    }
}

/// One Prometheus file-discovery target group: addresses to scrape and the labels they
/// share.
///
/// Built only from [`AppFacts`] or by the strict reader, so every group holds valid label
/// names and can be written without further checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetGroup {
    targets: Vec<String>,
    labels: BTreeMap<String, String>,
}

impl TargetGroup {
    /// Assembles a group whose label names the reader has already checked.
    pub(crate) fn from_checked_parts(targets: Vec<String>, labels: BTreeMap<String, String>) -> Self {
        TargetGroup { targets, labels }
    }

    /// The addresses Prometheus scrapes (`host` or `host:port`).
    pub fn targets(&self) -> &[String] {
        &self.targets
    }

    /// The labels of every target of the group, sorted by name.
    pub fn labels(&self) -> &BTreeMap<String, String> {
        &self.labels
    }

    /// The value of one label.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.get(name).map(String::as_str)
    }
}

/// The target file for `app`: its groups, rendered by [`encode_target_groups`].
pub fn render_target_file(app: &AppFacts) -> Result<String, TargetsError> {
    Ok(encode_target_groups(&app.target_groups()?))
}

/// Renders groups as a target file: a JSON array, keys in a fixed order (`targets`, then
/// `labels` sorted by name), two-space indentation and a trailing newline, so the same
/// groups always give the same bytes.
pub fn encode_target_groups(groups: &[TargetGroup]) -> String {
    let mut json =
        serde_json::to_string_pretty(groups).expect("strings and maps of strings always serialise");
    json.push('\n');
    json
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUID: &str = "6f1e3c2a-9b4d-4e8f-a1b2-c3d4e5f6a7b8";

    fn facts() -> AppFacts {
        AppFacts {
            guid: AppGuid::parse(GUID).unwrap(),
            name: "notify-api".to_owned(),
            instances: 2,
            route_host: "notify-api.cloudapps.digital".to_owned(),
            route_path: String::new(),
            org: "govuk-notify".to_owned(),
            space: "production".to_owned(),
            exporter: false,
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn each_instance_gets_exactly_the_contract_labels() {
        let groups = facts().target_groups().unwrap();
        assert_eq!(groups.len(), 2);
        for (index, group) in groups.iter().enumerate() {
            let instance = format!("{GUID}:{index}");
            assert_eq!(group.targets(), ["notify-api.cloudapps.digital"]);
            assert_eq!(
                group.labels(),
                &labels(&[
                    ("__param_cf_app_guid", GUID),
                    ("__param_cf_app_instance_index", &index.to_string()),
                    ("__param_cf_app_instance", &instance),
                    ("instance", &instance),
                    ("job", "notify-api"),
                    ("org", "govuk-notify"),
                    ("space", "production"),
                ])
            );
        }
    }

    #[test]
    fn venerable_suffix_is_stripped_from_job() {
        let mut app = facts();
        app.name = "notify-api-venerable".to_owned();
        let groups = app.target_groups().unwrap();
        assert_eq!(groups[0].label("job"), Some("notify-api"));
        app.name = "venerable-app".to_owned();
        assert_eq!(
            app.target_groups().unwrap()[0].label("job"),
            Some("venerable-app")
        );
    }

    #[test]
    fn exporter_apps_get_no_space_label() {
        let mut app = facts();
        app.exporter = true;
        app.space = String::new();
        let groups = app.target_groups().unwrap();
        assert_eq!(groups[0].label("space"), None);
        assert_eq!(groups[0].labels().len(), 6);
    }

    #[test]
    fn metrics_path_follows_the_route_path() {
        let cases = [
            ("", None),
            ("/", None),
            ("hello", Some("/hello/metrics")),
            ("hello/metrics", Some("/hello/metrics")),
            ("/custom-path", Some("/custom-path/metrics")),
            ("/custom-path/", Some("/custom-path/metrics")),
            ("/app/prometheus-metrics", Some("/app/prometheus-metrics")),
        ];
        for (route_path, expected) in cases {
            let mut app = facts();
            app.route_path = route_path.to_owned();
            let groups = app.target_groups().unwrap();
            assert_eq!(
                groups[0].label("__metrics_path__"),
                expected,
                "route path `{route_path}`"
            );
        }
    }

    #[test]
    fn zero_instances_render_an_empty_array() {
        let mut app = facts();
        app.instances = 0;
        assert_eq!(render_target_file(&app).unwrap(), "[]\n");
    }

    #[test]
    fn rendering_is_byte_for_byte_stable() {
        let mut app = facts();
        app.instances = 1;
        app.route_path = "/api".to_owned();
        let expected = format!(
            r#"[
  {{
    "targets": [
      "notify-api.cloudapps.digital"
    ],
    "labels": {{
      "__metrics_path__": "/api/metrics",
      "__param_cf_app_guid": "{GUID}",
      "__param_cf_app_instance": "{GUID}:0",
      "__param_cf_app_instance_index": "0",
      "instance": "{GUID}:0",
      "job": "notify-api",
      "org": "govuk-notify",
      "space": "production"
    }}
  }}
]
"#
        );
        assert_eq!(render_target_file(&app).unwrap(), expected);
        assert_eq!(render_target_file(&app.clone()).unwrap(), expected);
    }

    #[test]
    fn bad_facts_name_the_app_and_field() {
        type BreakFacts = fn(&mut AppFacts);
        let cases: [(BreakFacts, &str); 5] = [
            (
                |a| a.route_host = "https://x.example".into(),
                "field `route_host` must be a host name without a scheme, such as `my-app.cloudapps.digital`",
            ),
            (
                |a| a.route_host = "x.example/api".into(),
                "field `route_host` must be a host name only; put the path of the route in `route_path`",
            ),
            (
                |a| a.name = " ".into(),
                "field `name` is empty; give the value Cloud Foundry reports for the app",
            ),
            (
                |a| a.space = String::new(),
                "field `space` is empty; give the value Cloud Foundry reports for the app",
            ),
            (
                |a| a.route_path = "/a?b=1".into(),
                "field `route_path` must not hold whitespace, `?` or `#`; give the path of the route only",
            ),
        ];
        for (break_it, message) in cases {
            let mut app = facts();
            break_it(&mut app);
            assert_eq!(
                app.target_groups().unwrap_err().to_string(),
                format!("app `{GUID}`: {message}")
            );
        }
    }

    #[test]
    fn facts_json_rejects_unknown_fields_and_bad_guids() {
        let typo =
            format!(r#"{{"guid":"{GUID}","name":"a","instance":1,"route_host":"h","org":"o","space":"s"}}"#);
        let err = AppFacts::from_json(typo.as_bytes(), "app.json")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("app.json: not valid app facts: unknown field `instance`, expected one of"),
            "{err}"
        );
        let upper = r#"{"guid":"6F1E3C2A-9B4D-4E8F-A1B2-C3D4E5F6A7B8","name":"a","instances":1,"route_host":"h","org":"o","space":"s"}"#;
        let err = AppFacts::from_json(upper.as_bytes(), "<stdin>")
            .unwrap_err()
            .to_string();
        assert!(err.contains("it holds upper-case letters"), "{err}");
    }

    #[test]
    fn facts_json_defaults_route_path_and_exporter() {
        let json = format!(
            r#"{{"guid":"{GUID}","name":"notify-api","instances":2,"route_host":"notify-api.cloudapps.digital","org":"govuk-notify","space":"production"}}"#
        );
        assert_eq!(AppFacts::from_json(json.as_bytes(), "app.json").unwrap(), facts());
    }
}
