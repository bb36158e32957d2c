//! Prometheus target files for apps bound to the Prometheus service (CONTRACT section 7).
//!
//! A service broker (or a target updater, or an operator's script) describes each bound
//! app with [`AppFacts`]; this module turns them into the file-discovery target groups a
//! shared Prometheus reads, keeps them in a [`TargetStore`] (`active/` for started apps,
//! `inactive/` for stopped ones), and reconciles the store with the apps that are bound
//! via a pure [`plan`] and its executor [`apply`]. [`read_target_file`] checks a file as
//! strictly as Prometheus would, naming the file, the group and the reason.
//!
//! ```
//! use gds_metrics::targets::{apply, plan, AppFacts, AppGuid, BoundApp, TargetStore};
//!
//! let app = AppFacts {
//!     guid: AppGuid::parse("6f1e3c2a-9b4d-4e8f-a1b2-c3d4e5f6a7b8")?,
//!     name: "notify-api-venerable".into(),
//!     instances: 2,
//!     route_host: "notify-api.cloudapps.digital".into(),
//!     route_path: String::new(),
//!     org: "govuk-notify".into(),
//!     space: "production".into(),
//!     exporter: false,
//! };
//! let groups = app.target_groups()?;
//! assert_eq!(groups[1].label("instance"), Some("6f1e3c2a-9b4d-4e8f-a1b2-c3d4e5f6a7b8:1"));
//! assert_eq!(groups[1].label("job"), Some("notify-api"));
//!
//! let dir = tempfile::tempdir().unwrap();
//! let store = TargetStore::open(dir.path())?;
//! let operations = plan(&[BoundApp::Started(app)], &store.list()?)?;
//! assert_eq!(operations[0].to_string(), "write active/6f1e3c2a-9b4d-4e8f-a1b2-c3d4e5f6a7b8.json");
//! apply(&store, &operations)?;
//! # Ok::<(), gds_metrics::targets::TargetsError>(())
//! ```

mod error;
mod guid;
mod read;
mod reconcile;
pub mod records;
#[cfg(feature = "s3")]
mod s3;
mod schema;
mod store;
#[cfg(feature = "s3")]
mod sync;

pub use error::TargetsError;
pub use guid::AppGuid;
pub use read::{parse_target_file, read_target_file};
pub use reconcile::{
    apply, only_listed, plan, plan_since, reconcile, reconcile_app, reconcile_since, reconcile_updates,
    BoundApp, Operation, RECONCILE_ATTEMPTS,
};
#[cfg(feature = "s3")]
pub use s3::{aws_settings_from_env, s3_client, S3Location, S3Store, REQUEST_TIMEOUT};
pub use schema::{encode_target_groups, render_target_file, AppFacts, TargetGroup};
pub use store::{open_store, Folder, Listing, Outcome, Store, TargetStore};
#[cfg(feature = "s3")]
pub use sync::{sync_to_directory, SyncMetrics, SyncReport};
