//! Where the arrivals are kept across restarts (`--state-file`): a local file, or an
//! object in a bucket, which outlives the instance's disk (a PaaS instance's disk is
//! ephemeral: a restart, a restage or a move to another cell starts it empty).
//!
//! An object is written conditionally: replaced only if it still has the ETag this
//! exporter last read or wrote, created only if there is none. When another instance
//! wrote in between, its arrivals are merged in (the newest per prefix wins, so merging
//! loses nothing) and the write is tried again. It must sit under a folder whose name
//! starts with `.`, which listings skip, so it never counts as an upload.

use gds_metrics::targets::{s3_client, S3Location};
use object_store::aws::AmazonS3;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion};
use std::collections::BTreeMap;
use std::path::PathBuf;
use tokio::sync::Mutex;

/// Arrivals per source label, then per prefix (Unix seconds), as the state holds them
/// (JSON).
pub type Arrivals = BTreeMap<String, BTreeMap<String, f64>>;

/// How often a conditional write is tried when other instances keep writing in between.
const WRITE_ATTEMPTS: usize = 3;

/// Where the arrivals are kept, and what was last saved there.
#[derive(Debug)]
pub struct StateStore {
    place: Place,
    /// The arrivals last read or written, so an unchanged state is not written again.
    saved: Mutex<Option<Arrivals>>,
}

#[derive(Debug)]
enum Place {
    File(PathBuf),
    Object {
        url: String,
        client: AmazonS3,
        key: ObjectPath,
        /// The ETag of the object as this exporter last read or wrote it.
        e_tag: Mutex<Option<String>>,
    },
}

impl StateStore {
    /// `s3://bucket/.folder/name.json` (credentials from the AWS variables) or a local
    /// file.
    pub fn parse(location: &str, aws_settings: &[(String, String)]) -> Result<StateStore, String> {
        let place = if location.starts_with("s3://") {
            let parsed = S3Location::parse(location).map_err(|e| e.to_string())?;
            check_hidden(location, &parsed)?;
            Place::Object {
                url: location.to_owned(),
                client: s3_client(&parsed.bucket, aws_settings).map_err(|e| e.to_string())?,
                key: ObjectPath::from(parsed.prefix.as_str()),
                e_tag: Mutex::new(None),
            }
        } else {
            Place::File(PathBuf::from(location))
        };
        Ok(StateStore {
            place,
            saved: Mutex::new(None),
        })
    }

    /// The arrivals a previous run saved; none on a first run.
    pub async fn load(&self) -> Result<Arrivals, String> {
        let Some((text, name)) = self.fetch().await? else {
            return Ok(Arrivals::new());
        };
        let arrivals = parse(&text, &name)?;
        *self.saved.lock().await = Some(arrivals.clone());
        Ok(arrivals)
    }

    /// The saved bytes and the name to report them by; `None` when nothing is saved yet.
    async fn fetch(&self) -> Result<Option<(Vec<u8>, String)>, String> {
        match &self.place {
            Place::File(path) => match std::fs::read(path) {
                Ok(text) => Ok(Some((text, path.display().to_string()))),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(error) => Err(format!("cannot read the state file {}: {error}", path.display())),
            },
            Place::Object {
                url,
                client,
                key,
                e_tag,
            } => {
                let Some((bytes, tag)) = read_object(client, key, url).await? else {
                    return Ok(None);
                };
                *e_tag.lock().await = tag;
                Ok(Some((bytes, url.clone())))
            }
        }
    }

    /// Saves `arrivals` over what was last read or saved (arrivals of sources this
    /// exporter does not watch are kept); skipped when that adds nothing. Returns what the
    /// state holds now, with what other instances saved merged in.
    pub async fn save(&self, arrivals: &Arrivals) -> Result<Arrivals, String> {
        let mut saved = self.saved.lock().await;
        let mut merged = saved.clone().unwrap_or_default();
        merge(&mut merged, arrivals.clone());
        if saved.as_ref() == Some(&merged) {
            return Ok(merged);
        }
        let stored = match &self.place {
            Place::File(path) => {
                write_file(path, &merged)
                    .map_err(|e| format!("cannot save arrivals to {}: {e}", path.display()))?;
                merged
            }
            Place::Object {
                url,
                client,
                key,
                e_tag,
            } => write_object(client, key, url, &mut *e_tag.lock().await, merged).await?,
        };
        *saved = Some(stored.clone());
        Ok(stored)
    }
}

/// Refuses an object that a listing could count as an upload.
fn check_hidden(location: &str, parsed: &S3Location) -> Result<(), String> {
    let folders = parsed.prefix.rsplit_once('/').map_or("", |(folders, _)| folders);
    if folders.split('/').any(|folder| folder.starts_with('.')) {
        return Ok(());
    }
    Err(format!(
        "the state object `{location}` must be under a folder whose name starts with `.`, which \
         listings skip, so it never counts as an upload: e.g. `s3://{}/.upload-exporter/arrivals.json`",
        parsed.bucket
    ))
}

fn parse(text: &[u8], name: &str) -> Result<Arrivals, String> {
    serde_json::from_slice(text)
        .map_err(|e| format!("the state {name} is not valid: {e}; remove it to start afresh"))
}

/// Writes `arrivals` to `path` atomically (a temporary file renamed over it).
fn write_file(path: &std::path::Path, arrivals: &Arrivals) -> std::io::Result<()> {
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, serde_json::to_vec(arrivals)?)?;
    std::fs::rename(&temporary, path)
}

/// The object's bytes and ETag, or `None` if there is none.
async fn read_object(
    client: &AmazonS3,
    key: &ObjectPath,
    url: &str,
) -> Result<Option<(Vec<u8>, Option<String>)>, String> {
    let fetched = async {
        let result = client.get(key).await?;
        let e_tag = result.meta.e_tag.clone();
        Ok::<_, object_store::Error>((result.bytes().await?.to_vec(), e_tag))
    };
    match fetched.await {
        Ok(found) => Ok(Some(found)),
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(format!("cannot read the state object {url}: {e}")),
    }
}

/// Writes `arrivals` where the object still has `e_tag` (or is still missing); when
/// another writer came first, merges its arrivals in and tries again.
async fn write_object(
    client: &AmazonS3,
    key: &ObjectPath,
    url: &str,
    e_tag: &mut Option<String>,
    mut arrivals: Arrivals,
) -> Result<Arrivals, String> {
    for _ in 0..WRITE_ATTEMPTS {
        let mode = match e_tag.clone() {
            Some(e_tag) => PutMode::Update(UpdateVersion {
                e_tag: Some(e_tag),
                version: None,
            }),
            None => PutMode::Create,
        };
        let body = serde_json::to_vec(&arrivals).map_err(|e| e.to_string())?;
        let options = PutOptions {
            mode,
            ..PutOptions::default()
        };
        match client.put_opts(key, PutPayload::from(body), options).await {
            Ok(result) => {
                *e_tag = result.e_tag;
                return Ok(arrivals);
            }
            Err(object_store::Error::Precondition { .. } | object_store::Error::AlreadyExists { .. }) => {
                let current = read_object(client, key, url).await?;
                *e_tag = current.as_ref().and_then(|(_, tag)| tag.clone());
                if let Some((bytes, _)) = current {
                    merge(&mut arrivals, parse(&bytes, url)?);
                }
            }
            Err(e) => return Err(format!("cannot save arrivals to {url}: {e}")),
        }
    }
    Err(format!(
        "cannot save arrivals to {url}: other writers changed it {WRITE_ATTEMPTS} times in a row; \
         the next refresh tries again"
    ))
}

/// Adds `other` to `arrivals`, the newest arrival per prefix winning.
pub fn merge(arrivals: &mut Arrivals, other: Arrivals) {
    for (source, prefixes) in other {
        let known = arrivals.entry(source).or_default();
        for (prefix, seconds) in prefixes {
            note_arrival(known, prefix, seconds);
        }
    }
}

/// Records an arrival at `seconds` under `prefix` unless a newer one is known: arrivals
/// only move forward, whoever saw them.
pub fn note_arrival(known: &mut BTreeMap<String, f64>, prefix: String, seconds: f64) {
    let newest = known.entry(prefix).or_insert(seconds);
    *newest = newest.max(seconds);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_object_outside_a_hidden_folder_is_refused_with_an_example() {
        let error = StateStore::parse("s3://uploads/incoming/arrivals.json", &[]).unwrap_err();
        assert!(
            error.contains("must be under a folder whose name starts with `.`")
                && error.contains("s3://uploads/.upload-exporter/arrivals.json"),
            "{error}"
        );
        let error = StateStore::parse("s3://uploads/.arrivals.json", &[]).unwrap_err();
        assert!(error.contains("must be under a folder"), "{error}");
    }

    #[test]
    fn a_hidden_folder_anywhere_in_the_key_is_accepted() {
        let aws = [
            ("AWS_ACCESS_KEY_ID".to_owned(), "id".to_owned()),
            ("AWS_SECRET_ACCESS_KEY".to_owned(), "secret".to_owned()),
            ("AWS_REGION".to_owned(), "eu-west-2".to_owned()),
        ];
        for location in [
            "s3://uploads/.upload-exporter/arrivals.json",
            "s3://uploads/incoming/.state/production/arrivals.json",
        ] {
            assert!(StateStore::parse(location, &aws).is_ok(), "{location}");
        }
    }

    #[test]
    fn merging_keeps_the_newest_arrival_of_each_prefix() {
        let mut ours = Arrivals::from([(
            "s3://a".to_owned(),
            BTreeMap::from([("daily".to_owned(), 10.0), ("weekly".to_owned(), 5.0)]),
        )]);
        let theirs = Arrivals::from([
            (
                "s3://a".to_owned(),
                BTreeMap::from([("daily".to_owned(), 8.0), ("weekly".to_owned(), 7.0)]),
            ),
            ("/srv".to_owned(), BTreeMap::from([("x".to_owned(), 1.0)])),
        ]);
        merge(&mut ours, theirs);
        assert_eq!(
            ours,
            Arrivals::from([
                (
                    "s3://a".to_owned(),
                    BTreeMap::from([("daily".to_owned(), 10.0), ("weekly".to_owned(), 7.0)]),
                ),
                ("/srv".to_owned(), BTreeMap::from([("x".to_owned(), 1.0)])),
            ])
        );
    }
}
