//! Cloud Foundry app GUIDs, the names of target files and the bearer tokens of the apps.

use super::TargetsError;
use std::fmt;

/// A lower-case Cloud Foundry app GUID (`8-4-4-4-12` hexadecimal digits).
///
/// Lower case only: the GUID names the target file and becomes the bearer token the proxy
/// sends, and the app compares that token byte for byte with its own `application_id`,
/// which Cloud Foundry always writes in lower case. Accepting `6F1E...` would produce a
/// target whose every scrape is refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AppGuid(String);

impl AppGuid {
    /// Checks `value` and keeps it.
    pub fn parse(value: &str) -> Result<AppGuid, TargetsError> {
        match guid_problem(value) {
            Some(reason) => Err(TargetsError::InvalidGuid {
                value: value.to_owned(),
                reason,
            }),
            None => Ok(AppGuid(value.to_owned())),
        }
    }

    /// The GUID as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name of this app's target file: `<guid>.json`.
    pub fn file_name(&self) -> String {
        format!("{}.json", self.0)
    }

    /// The GUID named by a target file name (`<guid>.json`), if it is one.
    pub fn from_file_name(name: &str) -> Option<AppGuid> {
        let stem = name.strip_suffix(".json")?;
        AppGuid::parse(stem).ok()
    }
}

/// Why `value` is not a lower-case GUID, or `None` when it is one.
fn guid_problem(value: &str) -> Option<&'static str> {
    const GROUP_LENGTHS: [usize; 5] = [8, 4, 4, 4, 12];
    if value.len() != 36 {
        return Some("it is not 36 characters long");
    }
    let groups: Vec<&str> = value.split('-').collect();
    if groups.len() != 5 || groups.iter().map(|g| g.len()).ne(GROUP_LENGTHS) {
        return Some("it is not five groups of 8-4-4-4-12 characters separated by `-`");
    }
    let digits = groups.concat();
    if digits.bytes().any(|b| b.is_ascii_uppercase()) {
        return Some("it holds upper-case letters");
    }
    if !digits
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Some("it holds characters other than 0-9 and a-f");
    }
    None
}

impl fmt::Display for AppGuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for AppGuid {
    type Err = TargetsError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        AppGuid::parse(value)
    }
}

impl serde::Serialize for AppGuid {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for AppGuid {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        AppGuid::parse(&value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUID: &str = "6f1e3c2a-9b4d-4e8f-a1b2-c3d4e5f6a7b8";

    #[test]
    fn lower_case_guid_is_accepted() {
        assert_eq!(AppGuid::parse(GUID).unwrap().as_str(), GUID);
    }

    #[test]
    fn upper_case_guid_is_rejected_with_the_reason() {
        let err = AppGuid::parse(&GUID.to_uppercase()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid app GUID `6F1E3C2A-9B4D-4E8F-A1B2-C3D4E5F6A7B8`: it holds upper-case letters; \
             a Cloud Foundry app GUID is 36 lower-case characters like `6f1e3c2a-9b4d-4e8f-a1b2-c3d4e5f6a7b8`"
        );
    }

    #[test]
    fn malformed_guids_are_rejected() {
        let cases = [
            ("", "it is not 36 characters long"),
            ("app-1-guid", "it is not 36 characters long"),
            (
                "6f1e3c2a9-b4d-4e8f-a1b2-c3d4e5f6a7b8",
                "it is not five groups of 8-4-4-4-12 characters separated by `-`",
            ),
            (
                "6f1e3c2a-9b4d-4e8f-a1b2-c3d4e5f6a7bg",
                "it holds characters other than 0-9 and a-f",
            ),
            (
                "../../../../../../../../../etc/passw",
                "it is not five groups of 8-4-4-4-12 characters separated by `-`",
            ),
        ];
        for (value, reason) in cases {
            match AppGuid::parse(value) {
                Err(TargetsError::InvalidGuid { reason: got, .. }) => assert_eq!(got, reason, "{value}"),
                other => panic!("{value}: {other:?}"),
            }
        }
    }

    #[test]
    fn file_names_map_to_guids_and_back() {
        let guid = AppGuid::parse(GUID).unwrap();
        assert_eq!(guid.file_name(), format!("{GUID}.json"));
        assert_eq!(AppGuid::from_file_name(&guid.file_name()), Some(guid));
        assert_eq!(AppGuid::from_file_name(&format!(".{GUID}.json.x1.tmp")), None);
        assert_eq!(AppGuid::from_file_name("notes.json"), None);
    }
}
