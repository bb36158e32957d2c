//! The scrape-time collector: walks the upload tree when Prometheus asks.

use gds_metrics::{Collector, Descriptor, Encoder, MetricType, Opts};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// The `prefix` label of files directly in the root rather than under a prefix folder.
pub const ROOT_PREFIX: &str = "/";

/// Exposes per-prefix upload statistics of the tree under `root`, computed at scrape time
/// so the numbers are never older than the scrape.
///
/// A prefix is a top-level folder of `root`. Hidden entries (names starting with `.`) are
/// skipped, since uploaders write partial files under hidden temporary names before
/// renaming them; symbolic links are not followed, so a link cannot loop or escape the tree.
#[derive(Debug)]
pub struct UploadCollector {
    root: PathBuf,
    newest: Descriptor,
    files: Descriptor,
    bytes: Descriptor,
    errors: Descriptor,
}

/// What one prefix holds.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct PrefixStats {
    files: u64,
    bytes: u64,
    newest_mtime: Option<f64>,
}

impl UploadCollector {
    /// A collector for the tree under `root`.
    pub fn new(root: impl Into<PathBuf>) -> gds_metrics::Result<Self> {
        let prefix = ["prefix"];
        Ok(Self {
            root: root.into(),
            newest: Descriptor::new(
                Opts::new(
                    "upload_newest_file_timestamp_seconds",
                    "Modification time of the newest file under the prefix, in Unix seconds.",
                )
                .labels(prefix)
                .unit("seconds"),
                MetricType::Gauge,
            )?,
            files: Descriptor::new(
                Opts::new("upload_files", "Number of files under the prefix.").labels(prefix),
                MetricType::Gauge,
            )?,
            bytes: Descriptor::new(
                Opts::new("upload_bytes", "Total size of the files under the prefix.")
                    .labels(prefix)
                    .unit("bytes"),
                MetricType::Gauge,
            )?,
            errors: Descriptor::new(
                Opts::new(
                    "upload_scan_errors",
                    "Entries that could not be read during the last scan (permissions, races).",
                ),
                MetricType::Gauge,
            )?,
        })
    }

    /// Walks the tree: statistics per prefix, and how many entries could not be read.
    fn scan(&self) -> (BTreeMap<String, PrefixStats>, u64) {
        let mut stats = BTreeMap::new();
        let mut errors = 0;
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return (stats, 1);
        };
        for entry in entries {
            let Ok(entry) = entry else {
                errors += 1;
                continue;
            };
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => {
                    let prefix = stats.entry(name).or_default();
                    walk(&entry.path(), prefix, &mut errors);
                }
                Ok(kind) if kind.is_file() => {
                    let prefix = stats.entry(ROOT_PREFIX.to_owned()).or_default();
                    add_file(&entry.path(), prefix, &mut errors);
                }
                Ok(_) => {}
                Err(_) => errors += 1,
            }
        }
        (stats, errors)
    }
}

/// Adds every visible regular file under `dir` to `stats`.
fn walk(dir: &Path, stats: &mut PrefixStats, errors: &mut u64) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        *errors += 1;
        return;
    };
    for entry in entries {
        let Ok(entry) = entry else {
            *errors += 1;
            continue;
        };
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => walk(&entry.path(), stats, errors),
            Ok(kind) if kind.is_file() => add_file(&entry.path(), stats, errors),
            Ok(_) => {}
            Err(_) => *errors += 1,
        }
    }
}

fn add_file(path: &Path, stats: &mut PrefixStats, errors: &mut u64) {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        // Removed between listing and reading: not an upload any more.
        return;
    };
    let Some(mtime) = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
    else {
        *errors += 1;
        return;
    };
    stats.files += 1;
    stats.bytes += meta.len();
    let mtime = mtime.as_secs_f64();
    stats.newest_mtime = Some(stats.newest_mtime.map_or(mtime, |newest| newest.max(mtime)));
}

impl Collector for UploadCollector {
    fn descriptors(&self) -> Vec<Descriptor> {
        vec![
            self.newest.clone(),
            self.files.clone(),
            self.bytes.clone(),
            self.errors.clone(),
        ]
    }

    fn collect(&self, encoder: &mut Encoder<'_>) {
        let (stats, errors) = self.scan();
        let mut family = encoder.family(&self.newest);
        for (prefix, s) in &stats {
            if let Some(newest) = s.newest_mtime {
                family.gauge(&[prefix], None, newest);
            }
        }
        let mut family = encoder.family(&self.files);
        for (prefix, s) in &stats {
            family.gauge(&[prefix], None, s.files as f64);
        }
        let mut family = encoder.family(&self.bytes);
        for (prefix, s) in &stats {
            family.gauge(&[prefix], None, s.bytes as f64);
        }
        encoder
            .family(&self.errors)
            .gauge::<&str>(&[], None, errors as f64);
    }
}
