//! Mistakes in app facts, target files and desired states, and failures of the store.
//!
//! One error type for the whole target-file area, so that a broker (or a binding) maps a
//! single type to its own exceptions. Every message names what was wrong and where: the
//! GUID, the field, the file and the group index.

use std::path::PathBuf;

/// An error from building, reading, planning or writing target files.
// Each variant's fields are the facts its message names.
#[allow(missing_docs)]
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TargetsError {
    /// A string that is not a lower-case Cloud Foundry app GUID.
    #[error(
        "invalid app GUID `{value}`: {reason}; a Cloud Foundry app GUID is 36 lower-case characters \
         like `6f1e3c2a-9b4d-4e8f-a1b2-c3d4e5f6a7b8`"
    )]
    InvalidGuid { value: String, reason: &'static str },

    /// App facts that cannot become a target group.
    #[error("app `{guid}`: field `{field}` {reason}")]
    InvalidFacts {
        guid: String,
        field: &'static str,
        reason: String,
    },

    /// Input (app facts or a desired state) that is not the JSON this tool expects.
    #[error("{source_name}: {reason}")]
    InvalidInput { source_name: String, reason: String },

    /// A target file Prometheus would reject as a whole.
    #[error("{file}: {reason}")]
    InvalidFile { file: String, reason: String },

    /// One group of a target file that Prometheus would reject (and with it, the file).
    #[error("{file}: group {index}: {reason}")]
    InvalidGroup {
        file: String,
        index: usize,
        reason: String,
    },

    /// The same app listed twice in a desired state, which would make the plan ambiguous.
    #[error("app `{guid}` appears more than once in the desired state; list each bound app once")]
    DuplicateApp { guid: String },

    /// Another writer changed the file since this writer listed the store: the write was
    /// refused so that it cannot undo the other writer's change (bring back a target just
    /// unbound). [`reconcile`](super::reconcile) retries from a fresh listing.
    #[error(
        "`{location}` changed since the store was listed (another writer got there first); \
         list the store again and re-plan"
    )]
    Conflict { location: String },

    /// A request to a remote store (S3) failed, or its location or settings are wrong.
    #[error("cannot {action} `{location}`: {reason}")]
    Remote {
        action: &'static str,
        location: String,
        reason: String,
    },

    /// A file operation on the target directory failed.
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl TargetsError {
    /// The kind of mistake or failure, for bindings to pick their exception.
    pub fn kind(&self) -> crate::ErrorKind {
        use crate::ErrorKind;
        match self {
            TargetsError::InvalidGuid { .. } | TargetsError::InvalidFacts { .. } => {
                ErrorKind::InvalidArgument
            }
            TargetsError::InvalidInput { .. } => ErrorKind::InvalidArgument,
            TargetsError::InvalidFile { .. } | TargetsError::InvalidGroup { .. } => ErrorKind::InvalidData,
            TargetsError::DuplicateApp { .. } => ErrorKind::Duplicate,
            TargetsError::Conflict { .. } => ErrorKind::Conflict,
            TargetsError::Io { .. } | TargetsError::Remote { .. } => ErrorKind::Io,
        }
    }

    /// Wraps an I/O failure with the action and the path it concerned.
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| TargetsError::Io { action, path, source }
    }
}
