//! Reading target files as strictly as Prometheus does.
//!
//! Prometheus drops a whole file when one group in it is wrong, and only counts the
//! failure in `prometheus_sd_file_read_errors_total`: the targets of every app in that
//! file silently stop being scraped. This reader applies the same rules (a JSON array of
//! objects with only `targets`, a list of strings, and `labels`, an object of strings
//! under valid label names) and reports the file, the group and the reason instead.
//!
//! One rule goes beyond Prometheus: `__param_cf_app_guid`, when present, must be a
//! lower-case app GUID, because any other value becomes a bearer token the app refuses
//! on every scrape.
//!
//! Label names follow the classic grammar `[a-zA-Z_][a-zA-Z0-9_]*`, which every
//! Prometheus version accepts. Field names are matched exactly (Prometheus would also
//! take `Targets`; nothing this crate writes uses that).

use super::{AppGuid, TargetGroup, TargetsError};
use crate::model::name::is_name_byte;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The label the proxy turns into the app's bearer token.
const GUID_LABEL: &str = "__param_cf_app_guid";

/// One group as JSON allows it, before label names are checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

/// Reads and checks the target file at `path`.
pub fn read_target_file(path: &Path) -> Result<Vec<TargetGroup>, TargetsError> {
    let bytes = std::fs::read(path).map_err(TargetsError::io("read", path))?;
    parse_target_file(&bytes, &path.display().to_string())
}

/// Checks the bytes of a target file; `file` names it in errors.
pub fn parse_target_file(bytes: &[u8], file: &str) -> Result<Vec<TargetGroup>, TargetsError> {
    let invalid_file = |reason: String| TargetsError::InvalidFile {
        file: file.to_owned(),
        reason,
    };
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| invalid_file(format!("not valid JSON: {e}")))?;
    let serde_json::Value::Array(items) = value else {
        return Err(invalid_file(format!(
            "expected a JSON array of target groups, found {}",
            json_kind(&value)
        )));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            parse_group(item).map_err(|reason| TargetsError::InvalidGroup {
                file: file.to_owned(),
                index,
                reason,
            })
        })
        .collect()
}

fn parse_group(item: serde_json::Value) -> Result<TargetGroup, String> {
    if !item.is_object() {
        return Err(format!(
            "expected an object with `targets` and `labels`, found {}",
            json_kind(&item)
        ));
    }
    let raw = RawGroup::deserialize(item).map_err(|e| e.to_string())?;
    if let Some(name) = raw.labels.keys().find(|name| !is_valid_label_name(name)) {
        return Err(format!(
            "invalid label name `{name}`; label names match [a-zA-Z_][a-zA-Z0-9_]*"
        ));
    }
    if let Some(guid) = raw.labels.get(GUID_LABEL) {
        AppGuid::parse(guid).map_err(|e| format!("label `{GUID_LABEL}`: {e}"))?;
    }
    Ok(TargetGroup::from_checked_parts(raw.targets, raw.labels))
}

/// Label names as Prometheus accepts them on targets (`__` names included: they steer
/// the scrape and are dropped afterwards).
fn is_valid_label_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .enumerate()
            .all(|(i, b)| is_name_byte(b, i == 0, false))
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::{render_target_file, AppFacts};

    fn reason(json: &str) -> String {
        parse_target_file(json.as_bytes(), "active/x.json")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn rendered_files_read_back_as_the_same_groups() {
        let app = AppFacts {
            guid: AppGuid::parse("6f1e3c2a-9b4d-4e8f-a1b2-c3d4e5f6a7b8").unwrap(),
            name: "a".into(),
            instances: 3,
            route_host: "a.example".into(),
            route_path: "/x".into(),
            org: "o".into(),
            space: "s".into(),
            exporter: false,
        };
        let text = render_target_file(&app).unwrap();
        assert_eq!(
            parse_target_file(text.as_bytes(), "f").unwrap(),
            app.target_groups().unwrap()
        );
    }

    #[test]
    fn groups_may_leave_out_targets_or_labels() {
        let groups =
            parse_target_file(br#"[{"targets": ["h:1"]}, {"labels": {"a": "b"}}, {}]"#, "f").unwrap();
        assert_eq!(groups.len(), 3);
        assert_eq!(groups[0].targets(), ["h:1"]);
        assert_eq!(groups[1].label("a"), Some("b"));
    }

    #[test]
    fn rejections_name_the_file_group_and_reason() {
        let cases = [
            (
                r#"[{"targets": ["h"]}, {"targets": ["h"], "labels": {"job": 1}}]"#,
                "active/x.json: group 1: invalid type: integer `1`, expected a string",
            ),
            (
                r#"[{"targets": ["h"], "extra": true}]"#,
                "active/x.json: group 0: unknown field `extra`, expected `targets` or `labels`",
            ),
            (
                r#"[{"targets": "h"}]"#,
                "active/x.json: group 0: invalid type: string \"h\", expected a sequence",
            ),
            (
                r#"[{"labels": {"bad-name": "v"}}]"#,
                "active/x.json: group 0: invalid label name `bad-name`; label names match [a-zA-Z_][a-zA-Z0-9_]*",
            ),
            (
                r#"[{"labels": {"1abc": "v"}}]"#,
                "active/x.json: group 0: invalid label name `1abc`; label names match [a-zA-Z_][a-zA-Z0-9_]*",
            ),
            (
                r#"[{"labels": {"__param_cf_app_guid": "6F1E3C2A-9B4D-4E8F-A1B2-C3D4E5F6A7B8"}}]"#,
                "active/x.json: group 0: label `__param_cf_app_guid`: invalid app GUID \
                 `6F1E3C2A-9B4D-4E8F-A1B2-C3D4E5F6A7B8`: it holds upper-case letters; a Cloud Foundry app \
                 GUID is 36 lower-case characters like `6f1e3c2a-9b4d-4e8f-a1b2-c3d4e5f6a7b8`",
            ),
            (
                r#"[null]"#,
                "active/x.json: group 0: expected an object with `targets` and `labels`, found null",
            ),
            (
                r#"{"targets": []}"#,
                "active/x.json: expected a JSON array of target groups, found an object",
            ),
            (
                r#"[{"targets": ["h"]"#,
                "active/x.json: not valid JSON: EOF while parsing an object at line 1 column 18",
            ),
        ];
        for (json, expected) in cases {
            assert_eq!(reason(json), expected, "{json}");
        }
    }

    #[test]
    fn reading_a_missing_file_names_it() {
        let err = read_target_file(Path::new("/nonexistent/x.json"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("cannot read `/nonexistent/x.json`: "), "{err}");
    }
}
