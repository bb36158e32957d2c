//! Target stores in S3 (feature `s3`): `s3://bucket/prefix` holds `active/<guid>.json`
//! and `inactive/<guid>.json` exactly as a local store does, and
//! [`sync`](super::sync_to_directory) copies `active/` into a Prometheus' folder.
//!
//! Several writers share one bucket (the broker and target updaters), so writes are
//! conditional: a file that was in the writer's listing is replaced only if it still
//! exists, with `If-Match` on the ETag just read; a file that was not is created only with
//! `If-None-Match: *`. A writer working from an old listing therefore gets
//! [`TargetsError::Conflict`] instead of bringing back a target another writer removed.
//! S3 deletes are not conditional in `object_store`: a removal (one broker's unbind) may
//! race with a writer binding the same app again (another broker) and leave a bound app
//! without a file. A reconciliation from a listing does not see that app (it has no file);
//! whoever knows the bindings must write it: `gds-prometheus-broker`'s target updater
//! writes the file of every bound app that has none on each run.
//!
//! The client talks to S3 through `object_store` on a private single-threaded Tokio
//! runtime, so callers stay synchronous. Call it outside any async runtime (or from
//! `spawn_blocking`).

use super::records::{RecordFolder, RecordKey};
use super::{AppGuid, Folder, Listing, Outcome, Store, TargetsError};
use futures_util::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{
    ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, RetryConfig, UpdateVersion,
};
use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

/// `s3://bucket/prefix`: a bucket and a key prefix (without the slashes around it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    /// The bucket name.
    pub bucket: String,
    /// The key prefix, `""` for the bucket's root.
    pub prefix: String,
}

impl S3Location {
    /// Parses `s3://bucket` or `s3://bucket/prefix` (a trailing slash is ignored).
    pub fn parse(location: &str) -> Result<S3Location, TargetsError> {
        let invalid = |reason: &str| TargetsError::InvalidInput {
            source_name: location.to_owned(),
            reason: format!("{reason}; an S3 location looks like `s3://bucket/prefix`"),
        };
        let rest = location
            .strip_prefix("s3://")
            .ok_or_else(|| invalid("does not start with `s3://`"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(invalid("has no bucket name"));
        }
        Ok(S3Location {
            bucket: bucket.to_owned(),
            prefix: prefix.trim_matches('/').to_owned(),
        })
    }

    /// The object path of `name` under the prefix.
    fn key(&self, name: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(name)
        } else {
            ObjectPath::from(format!("{}/{name}", self.prefix))
        }
    }

    /// The prefix as an object path, `None` for the bucket's root.
    fn prefix_path(&self) -> Option<ObjectPath> {
        (!self.prefix.is_empty()).then(|| ObjectPath::from(self.prefix.as_str()))
    }

    /// The location of the folder `name` under this one.
    pub fn join(&self, name: &str) -> S3Location {
        S3Location {
            bucket: self.bucket.clone(),
            prefix: self.key(name).to_string(),
        }
    }

    /// `s3://bucket/key` for an object path, to name objects in messages.
    fn url_of(&self, path: &ObjectPath) -> String {
        format!("s3://{}/{path}", self.bucket)
    }
}

impl fmt::Display for S3Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// A client for one S3 location.
///
/// Endpoint and credentials come from the usual AWS variables: `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` (or `AWS_DEFAULT_REGION`),
/// `AWS_ENDPOINT_URL` for an S3-compatible server and `AWS_ALLOW_HTTP=true` when that
/// server speaks plain HTTP. [`S3Store::with_settings`] takes the same names as pairs.
#[derive(Debug)]
pub struct S3Store {
    location: S3Location,
    client: AmazonS3,
    runtime: tokio::runtime::Runtime,
}

/// An object's bytes and its ETag.
pub(crate) type ObjectBytes = (Vec<u8>, Option<String>);

/// Requests fail within this time rather than hang a sync or a broker call.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

impl S3Store {
    /// A client for `location`, configured from the process environment.
    pub fn from_env(location: &S3Location) -> Result<S3Store, TargetsError> {
        S3Store::with_settings(location, &aws_settings_from_env())
    }

    /// A client for `location` configured from `settings` (see [`s3_client`]).
    pub fn with_settings(
        location: &S3Location,
        settings: &[(String, String)],
    ) -> Result<S3Store, TargetsError> {
        let client = s3_client(&location.bucket, settings)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| TargetsError::Remote {
                action: "connect to",
                location: location.to_string(),
                reason: format!("cannot start the I/O runtime: {e}"),
            })?;
        Ok(S3Store {
            location: location.clone(),
            client,
            runtime,
        })
    }

    /// The location this client reads and writes.
    pub fn location(&self) -> &S3Location {
        &self.location
    }

    /// `s3://bucket/prefix/<folder>/<guid>.json`, for messages.
    pub fn url(&self, folder: Folder, guid: &AppGuid) -> String {
        self.location.url_of(&self.file_key(folder, guid))
    }

    fn file_key(&self, folder: Folder, guid: &AppGuid) -> ObjectPath {
        self.location.key(&format!("{folder}/{}", guid.file_name()))
    }

    /// The `<guid>.json` objects directly under `location` (other names are ignored), with
    /// their keys. Pages through listings of any length.
    pub(crate) fn json_objects(
        &self,
        location: &S3Location,
    ) -> Result<Vec<(AppGuid, ObjectPath)>, TargetsError> {
        let listing = self
            .runtime
            .block_on(self.client.list_with_delimiter(location.prefix_path().as_ref()))
            .map_err(|e| remote("list", location.to_string(), e))?;
        Ok(listing
            .objects
            .into_iter()
            .filter_map(|object| {
                let guid = object.location.filename().and_then(AppGuid::from_file_name)?;
                Some((guid, object.location))
            })
            .collect())
    }

    /// The bytes and ETag of an object, or `None` if there is none.
    pub(crate) fn read(&self, key: &ObjectPath) -> Result<Option<ObjectBytes>, TargetsError> {
        let fetched = self.runtime.block_on(async {
            let result = self.client.get(key).await?;
            let e_tag = result.meta.e_tag.clone();
            Ok::<_, object_store::Error>((result.bytes().await?.to_vec(), e_tag))
        });
        match fetched {
            Ok(found) => Ok(Some(found)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(remote("read", self.location.url_of(key), e)),
        }
    }

    /// `s3://bucket/key` of an object path.
    pub(crate) fn url_of(&self, key: &ObjectPath) -> String {
        self.location.url_of(key)
    }

    fn guids_in(&self, folder: Folder) -> Result<BTreeSet<AppGuid>, TargetsError> {
        let objects = self.json_objects(&self.location.join(folder.name()))?;
        Ok(objects.into_iter().map(|(guid, _)| guid).collect())
    }

    /// How a write of `key` must be conditioned, or the outcome if no write is needed.
    fn put_mode(
        &self,
        key: &ObjectPath,
        contents: &[u8],
        listed: bool,
    ) -> Result<Result<PutMode, Outcome>, TargetsError> {
        if !listed {
            return Ok(Ok(PutMode::Create));
        }
        match self.read(key)? {
            None => Err(TargetsError::Conflict {
                location: self.location.url_of(key),
            }),
            Some((existing, _)) if existing == contents => Ok(Err(Outcome::Unchanged)),
            Some((_, e_tag)) => Ok(Ok(PutMode::Update(UpdateVersion { e_tag, version: None }))),
        }
    }
}

impl Store for S3Store {
    fn list(&self) -> Result<Listing, TargetsError> {
        Ok(Listing {
            active: self.guids_in(Folder::Active)?,
            inactive: self.guids_in(Folder::Inactive)?,
        })
    }

    fn write(
        &self,
        folder: Folder,
        guid: &AppGuid,
        contents: &[u8],
        listed: bool,
    ) -> Result<Outcome, TargetsError> {
        let key = self.file_key(folder, guid);
        let mode = match self.put_mode(&key, contents, listed)? {
            Ok(mode) => mode,
            Err(outcome) => return Ok(outcome),
        };
        let options = PutOptions {
            mode,
            ..PutOptions::default()
        };
        let put = self
            .client
            .put_opts(&key, PutPayload::from(contents.to_vec()), options);
        match self.runtime.block_on(put) {
            Ok(_) => Ok(Outcome::Written),
            Err(object_store::Error::Precondition { .. } | object_store::Error::AlreadyExists { .. }) => {
                Err(TargetsError::Conflict {
                    location: self.location.url_of(&key),
                })
            }
            Err(e) => Err(remote("write", self.location.url_of(&key), e)),
        }
    }

    fn remove(&self, folder: Folder, guid: &AppGuid) -> Result<Outcome, TargetsError> {
        self.remove_key(&self.file_key(folder, guid))
    }

    fn list_records(&self, folder: RecordFolder) -> Result<Vec<RecordKey>, TargetsError> {
        let below = self.location.join(folder.name());
        let prefix = below.prefix_path();
        let objects: Vec<_> = self
            .runtime
            .block_on(self.client.list(prefix.as_ref()).try_collect())
            .map_err(|e| remote("list", below.to_string(), e))?;
        let strip = format!("{}/", below.prefix);
        Ok(objects
            .iter()
            .filter_map(|object| {
                let relative = object.location.as_ref().strip_prefix(&strip)?;
                RecordKey::from_listed(folder, relative)
            })
            .collect())
    }

    fn read_record(&self, key: &RecordKey) -> Result<Option<Vec<u8>>, TargetsError> {
        Ok(self
            .read(&self.location.key(key.as_str()))?
            .map(|(bytes, _)| bytes))
    }

    fn create_record(&self, key: &RecordKey, contents: &[u8]) -> Result<(), TargetsError> {
        let key = self.location.key(key.as_str());
        let options = PutOptions {
            mode: PutMode::Create,
            ..PutOptions::default()
        };
        let put = self
            .client
            .put_opts(&key, PutPayload::from(contents.to_vec()), options);
        match self.runtime.block_on(put) {
            Ok(_) => Ok(()),
            Err(object_store::Error::Precondition { .. } | object_store::Error::AlreadyExists { .. }) => {
                Err(TargetsError::Conflict {
                    location: self.location.url_of(&key),
                })
            }
            Err(e) => Err(remote("write", self.location.url_of(&key), e)),
        }
    }

    fn remove_record(&self, key: &RecordKey) -> Result<Outcome, TargetsError> {
        self.remove_key(&self.location.key(key.as_str()))
    }
}

impl S3Store {
    /// Removes the object at `key`, reporting whether there was one.
    fn remove_key(&self, key: &ObjectPath) -> Result<Outcome, TargetsError> {
        let url = self.location.url_of(key);
        match self.runtime.block_on(self.client.head(key)) {
            Ok(_) => {}
            Err(object_store::Error::NotFound { .. }) => return Ok(Outcome::Absent),
            Err(e) => return Err(remote("remove", url, e)),
        }
        self.runtime
            .block_on(self.client.delete(key))
            .map_err(|e| remote("remove", url, e))?;
        Ok(Outcome::Removed)
    }
}

/// The `AWS_*` variables of the process, as settings for [`s3_client`].
pub fn aws_settings_from_env() -> Vec<(String, String)> {
    std::env::vars()
        .filter(|(name, _)| name.starts_with("AWS_"))
        .collect()
}

/// An `object_store` client for `bucket`, configured from `settings`: pairs named like the
/// AWS variables (`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_REGION`, `AWS_ALLOW_HTTP`, ...); unknown names are ignored. Requests are retried
/// at most 3 times within [`REQUEST_TIMEOUT`].
///
/// Static credentials are required: without them `object_store` would ask the EC2
/// instance metadata service, which hangs where there is none.
pub fn s3_client(bucket: &str, settings: &[(String, String)]) -> Result<AmazonS3, TargetsError> {
    let setting_error = |reason: String| TargetsError::Remote {
        action: "connect to",
        location: format!("s3://{bucket}"),
        reason,
    };
    let has = |name: &str| {
        settings
            .iter()
            .any(|(key, value)| key.eq_ignore_ascii_case(name) && !value.is_empty())
    };
    if !has("AWS_ACCESS_KEY_ID") || !has("AWS_SECRET_ACCESS_KEY") {
        return Err(setting_error(
            "no credentials; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_ENDPOINT_URL for a server other \
             than AWS)"
                .to_owned(),
        ));
    }
    let mut builder = AmazonS3Builder::new();
    for (key, value) in settings {
        if let Ok(key) = key.to_ascii_lowercase().parse() {
            builder = builder.with_config(key, value);
        }
    }
    builder
        .with_bucket_name(bucket)
        .with_retry(RetryConfig {
            max_retries: 3,
            retry_timeout: REQUEST_TIMEOUT,
            ..RetryConfig::default()
        })
        .build()
        .map_err(|e| setting_error(e.to_string()))
}

fn remote(action: &'static str, location: String, error: object_store::Error) -> TargetsError {
    TargetsError::Remote {
        action,
        location,
        reason: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_with_and_without_a_prefix() {
        let location = S3Location::parse("s3://targets/prod/").unwrap();
        assert_eq!(location.bucket, "targets");
        assert_eq!(location.prefix, "prod");
        assert_eq!(location.join("active").to_string(), "s3://targets/prod/active");
        assert_eq!(S3Location::parse("s3://targets").unwrap().prefix, "");
        assert_eq!(
            S3Location::parse("s3://targets").unwrap().join("active").prefix,
            "active"
        );
    }

    #[test]
    fn bad_locations_say_what_a_location_looks_like() {
        for bad in ["targets/prod", "s3://", "s3:///prod"] {
            let message = S3Location::parse(bad).unwrap_err().to_string();
            assert!(message.contains("s3://bucket/prefix"), "{bad}: {message}");
        }
    }

    #[test]
    fn a_client_without_credentials_is_refused_before_any_request() {
        let location = S3Location::parse("s3://targets/prod").unwrap();
        let message = S3Store::with_settings(&location, &[]).unwrap_err().to_string();
        assert!(message.contains("AWS_ACCESS_KEY_ID"), "{message}");
    }
}
