//! The exporter's settings: its configuration file (TOML), the command line and the
//! environment.
//!
//! ```toml
//! refresh_interval_seconds = 60   # one listing per source per minute, shared by all scrapes
//! list_timeout_seconds = 30       # a listing that takes longer fails
//! list_concurrency = 4            # sources listed at once (and probes answered at once)
//! sources = ["s3://partner-uploads/incoming", "/srv/uploads"]
//!
//! [[deadlines]]
//! source = "s3://partner-uploads/incoming"   # may be left out when there is one source
//! prefix = "daily-reports"
//! time = "09:00"
//! time_zone = "Europe/London"
//! days = ["Mon", "Tue", "Wed", "Thu", "Fri"]
//! ```

use crate::deadline::Deadline;
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;

/// Everything that decides what the exporter lists and how.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Locations as given: local directories or `s3://bucket/prefix`.
    pub sources: Vec<String>,
    /// The `[[deadlines]]` rules, each tied to one source and prefix.
    pub deadlines: Vec<PrefixDeadline>,
    /// How often every source is listed; scrapes in between are answered from the last
    /// listing, so the bucket is not listed once per Prometheus server.
    pub refresh_interval: Duration,
    /// How long one listing (or one probe) may take before it fails.
    pub list_timeout: Duration,
    /// How many sources are listed at once, and how many probes are answered at once.
    pub list_concurrency: usize,
}

/// A deadline rule for one prefix of one source.
#[derive(Debug, Clone)]
pub struct PrefixDeadline {
    /// The source, as in [`Settings::sources`].
    pub source: String,
    /// The prefix (as in the `prefix` label) whose files must arrive by the deadline.
    pub prefix: String,
    /// When a file is due: the time of day, time zone and days.
    pub rule: Deadline,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            sources: Vec::new(),
            deadlines: Vec::new(),
            refresh_interval: Duration::from_secs(60),
            list_timeout: Duration::from_secs(30),
            list_concurrency: 4,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    refresh_interval_seconds: Option<u64>,
    list_timeout_seconds: Option<u64>,
    list_concurrency: Option<usize>,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    deadlines: Vec<DeadlineEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeadlineEntry {
    source: Option<String>,
    prefix: String,
    time: String,
    time_zone: String,
    days: Vec<String>,
}

impl Settings {
    /// Reads the configuration file at `path` into these settings; its sources come after
    /// any already given.
    pub fn read_file(&mut self, path: &Path) -> Result<(), String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        self.read_str(&text, &path.display().to_string())
    }

    /// [`read_file`](Self::read_file) for the file's text; `name` names it in errors.
    pub fn read_str(&mut self, text: &str, name: &str) -> Result<(), String> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| format!("{name}: {e}"))?;
        if let Some(seconds) = file.refresh_interval_seconds {
            self.refresh_interval = positive_seconds(seconds, "refresh_interval_seconds", name)?;
        }
        if let Some(seconds) = file.list_timeout_seconds {
            self.list_timeout = positive_seconds(seconds, "list_timeout_seconds", name)?;
        }
        if let Some(concurrency) = file.list_concurrency {
            if concurrency == 0 {
                return Err(format!("{name}: `list_concurrency` must be at least 1"));
            }
            self.list_concurrency = concurrency;
        }
        self.sources.extend(file.sources);
        for entry in file.deadlines {
            let rule = Deadline::parse(&entry.time, &entry.time_zone, &entry.days)
                .map_err(|e| format!("{name}: deadline for `{}`: {e}", entry.prefix))?;
            self.deadlines.push(PrefixDeadline {
                source: entry.source.unwrap_or_default(),
                prefix: entry.prefix,
                rule,
            });
        }
        Ok(())
    }

    /// Checks the settings as a whole, filling in each deadline's source when there is
    /// only one.
    pub fn finish(mut self) -> Result<Settings, String> {
        if self.sources.is_empty() {
            return Err(
                "nothing to watch: give `--source <dir|s3://bucket/prefix>`, `--dir`, `UPLOAD_DIR` or \
                        `sources` in the configuration file"
                    .to_owned(),
            );
        }
        let sources: Vec<String> = self.sources.iter().map(|s| normalized(s)).collect();
        for deadline in &mut self.deadlines {
            if deadline.source.is_empty() {
                match sources.as_slice() {
                    [only] => deadline.source = only.clone(),
                    _ => {
                        return Err(format!(
                            "the deadline for `{}` names no `source`, and there are several sources",
                            deadline.prefix
                        ))
                    }
                }
            }
            deadline.source = normalized(&deadline.source);
            if !sources.contains(&deadline.source) {
                return Err(format!(
                    "the deadline for `{}` names source `{}`, which is not watched (sources: {})",
                    deadline.prefix,
                    deadline.source,
                    sources.join(", ")
                ));
            }
        }
        self.sources = sources;
        Ok(self)
    }
}

/// A location without a trailing slash, as the `source` label shows it.
fn normalized(location: &str) -> String {
    let trimmed = location.trim_end_matches('/');
    if trimmed.is_empty() { location } else { trimmed }.to_owned()
}

fn positive_seconds(seconds: u64, field: &str, name: &str) -> Result<Duration, String> {
    if seconds == 0 {
        return Err(format!("{name}: `{field}` must be at least 1"));
    }
    Ok(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
        refresh_interval_seconds = 5
        sources = ["s3://partner-uploads/incoming/"]

        [[deadlines]]
        prefix = "daily-reports"
        time = "09:00"
        time_zone = "Europe/London"
        days = ["Mon", "Tue", "Wed", "Thu", "Fri"]
    "#;

    #[test]
    fn the_documented_example_reads() {
        let mut settings = Settings::default();
        settings.read_str(EXAMPLE, "example.toml").unwrap();
        let settings = settings.finish().unwrap();
        assert_eq!(settings.refresh_interval, Duration::from_secs(5));
        assert_eq!(settings.sources, ["s3://partner-uploads/incoming"]);
        assert_eq!(settings.deadlines[0].source, "s3://partner-uploads/incoming");
        assert_eq!(
            settings.deadlines[0].rule.to_string(),
            "09:00 Europe/London on Monday,Tuesday,Wednesday,Thursday,Friday"
        );
    }

    #[test]
    fn mistakes_name_the_file_and_the_field() {
        let mut settings = Settings::default();
        let error = settings
            .read_str("sources = [\"/x\"]\nrefresh = 5\n", "e.toml")
            .unwrap_err();
        assert!(error.contains("e.toml") && error.contains("refresh"), "{error}");

        let mut settings = Settings {
            sources: vec!["/a".into(), "/b".into()],
            ..Settings::default()
        };
        settings
            .read_str(
                "[[deadlines]]\nprefix = \"p\"\ntime = \"09:00\"\ntime_zone = \"UTC\"\ndays = [\"Mon\"]\n",
                "e.toml",
            )
            .unwrap();
        assert!(settings.finish().unwrap_err().contains("several sources"));
    }
}
