//! What the exporter watches: local directories and S3 prefixes, listed into per-prefix
//! statistics.
//!
//! A *prefix* is the first path segment under the source (a top-level folder, or the first
//! part of an object key after the source's own prefix); files directly under the source
//! count under [`ROOT_PREFIX`]. Names starting with `.` are skipped at any depth, since
//! uploaders write partial files under hidden temporary names before renaming them;
//! symbolic links are not followed, so a link cannot loop or escape the tree.

use futures_util::TryStreamExt;
use gds_metrics::targets::{s3_client, S3Location, TargetsError};
use object_store::aws::AmazonS3;
use object_store::path::Path as ObjectPath;
use object_store::ObjectStore;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

/// The `prefix` label of files directly under a source rather than under a prefix.
pub const ROOT_PREFIX: &str = "/";

/// What one prefix holds.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct PrefixStats {
    /// How many files the prefix holds.
    pub files: u64,
    /// Their total size in bytes.
    pub bytes: u64,
    /// The size of the biggest file, in bytes.
    pub biggest: u64,
    /// Modification time of the newest file, Unix seconds; `None` when there is no file.
    pub newest_mtime: Option<f64>,
}

impl PrefixStats {
    fn add(&mut self, size: u64, mtime: f64) {
        self.files += 1;
        self.bytes += size;
        self.biggest = self.biggest.max(size);
        self.newest_mtime = Some(self.newest_mtime.map_or(mtime, |newest| newest.max(mtime)));
    }
}

/// A complete listing of one source.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Listing {
    /// What each prefix holds, by its `prefix` label ([`ROOT_PREFIX`] for files directly
    /// under the source).
    pub prefixes: BTreeMap<String, PrefixStats>,
    /// Entries that could not be read (local directories only: permissions, races).
    pub errors: u64,
}

/// A watched location.
#[derive(Debug, Clone)]
pub enum Source {
    /// A local directory, walked on every listing.
    Local(PathBuf),
    /// A bucket and prefix, listed with the S3 `ListObjectsV2` API.
    S3 {
        /// The bucket and the prefix under which the partners' folders are.
        location: S3Location,
        /// The client built once from the AWS variables and shared by every listing.
        client: Arc<AmazonS3>,
    },
}

impl Source {
    /// `s3://bucket/prefix` (credentials from the AWS variables) or a local directory.
    pub fn parse(location: &str, aws_settings: &[(String, String)]) -> Result<Source, String> {
        if !location.starts_with("s3://") {
            let dir = PathBuf::from(location);
            if !dir.is_dir() {
                return Err(format!(
                    "`{location}` is not a directory; create it or fix the source"
                ));
            }
            return Ok(Source::Local(dir));
        }
        let location = S3Location::parse(location).map_err(|e| e.to_string())?;
        let client = s3_client(&location.bucket, aws_settings).map_err(|e| e.to_string())?;
        Ok(Source::S3 {
            location,
            client: Arc::new(client),
        })
    }

    /// Lists the whole source. A local walk runs on a blocking thread.
    pub async fn list(&self) -> Result<Listing, String> {
        match self {
            Source::Local(dir) => {
                let dir = dir.clone();
                tokio::task::spawn_blocking(move || list_local(&dir))
                    .await
                    .map_err(|e| format!("the directory walk stopped: {e}"))?
            }
            Source::S3 { location, client } => list_s3(client, location).await,
        }
    }
}

/// The most objects one listing reads (a thousand pages of a thousand): a server that
/// keeps answering "more to come" cuts the listing, which then fails and is counted,
/// instead of running forever.
pub const MAX_LISTED_OBJECTS: u64 = 1_000_000;

/// Why a listing failed.
#[derive(Debug)]
pub enum ListFailure {
    /// The object store answered with an error.
    Store(object_store::Error),
    /// The listing went past [`MAX_LISTED_OBJECTS`] and was cut.
    TooLong,
}

/// Calls `visit(key, size, mtime)` for every object under the folder `root` (the whole
/// bucket for `None`), following the listing's pages up to [`MAX_LISTED_OBJECTS`].
pub async fn for_each_object(
    client: &AmazonS3,
    root: Option<&str>,
    mut visit: impl FnMut(&str, u64, f64),
) -> Result<(), ListFailure> {
    let root = root.filter(|root| !root.is_empty()).map(ObjectPath::from);
    let mut objects = client.list(root.as_ref());
    let mut seen = 0u64;
    while let Some(object) = objects.try_next().await.map_err(ListFailure::Store)? {
        seen += 1;
        if seen > MAX_LISTED_OBJECTS {
            return Err(ListFailure::TooLong);
        }
        let mtime = object.last_modified.timestamp_millis() as f64 / 1000.0;
        visit(object.location.as_ref(), object.size, mtime);
    }
    Ok(())
}

/// Lists every object under `location`, grouped by prefix.
pub async fn list_s3(client: &AmazonS3, location: &S3Location) -> Result<Listing, String> {
    let mut listing = Listing::default();
    for_each_object(client, Some(&location.prefix), |key, size, mtime| {
        let relative = key
            .strip_prefix(&location.prefix)
            .unwrap_or(key)
            .trim_start_matches('/');
        if relative.split('/').any(|segment| segment.starts_with('.')) {
            return;
        }
        let prefix = match relative.split_once('/') {
            Some((first, _)) => first,
            None => ROOT_PREFIX,
        };
        listing
            .prefixes
            .entry(prefix.to_owned())
            .or_default()
            .add(size, mtime);
    })
    .await
    .map_err(|e| list_error(location, e))?;
    Ok(listing)
}

/// The message for a failed S3 listing, worded like the core's other remote-store
/// errors; shared with the probe so both report failures alike.
pub fn list_error(location: &S3Location, failure: ListFailure) -> String {
    let reason = match failure {
        ListFailure::Store(error) => error.to_string(),
        ListFailure::TooLong => format!("the listing went past {MAX_LISTED_OBJECTS} objects and was cut"),
    };
    TargetsError::Remote {
        action: "list",
        location: location.to_string(),
        reason,
    }
    .to_string()
}

/// Walks the tree under `root`: statistics per top-level folder, root files under `/`.
fn list_local(root: &Path) -> Result<Listing, String> {
    let entries = std::fs::read_dir(root).map_err(|e| format!("cannot list `{}`: {e}", root.display()))?;
    let mut listing = Listing::default();
    for entry in entries {
        let Ok(entry) = entry else {
            listing.errors += 1;
            continue;
        };
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => {
                let prefix = listing.prefixes.entry(name).or_default();
                walk(&entry.path(), prefix, &mut listing.errors);
            }
            Ok(kind) if kind.is_file() => {
                let prefix = listing.prefixes.entry(ROOT_PREFIX.to_owned()).or_default();
                add_file(&entry.path(), prefix, &mut listing.errors);
            }
            Ok(_) => {}
            Err(_) => listing.errors += 1,
        }
    }
    Ok(listing)
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
    stats.add(meta.len(), mtime.as_secs_f64());
}
