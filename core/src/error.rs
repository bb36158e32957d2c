//! Mistakes made while defining or using metrics.
//!
//! Every variant is raised by the call that made the mistake (registration, a label lookup,
//! an increment), never at scrape time, so the stack trace points at the caller's code.

/// An error from defining, registering or updating a metric.
// Each variant's fields are the facts its message names.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A metric name that Prometheus would reject.
    #[error("invalid metric name `{name}`: {reason}")]
    InvalidMetricName { name: String, reason: &'static str },

    /// A label name that Prometheus would reject or reserves for itself.
    #[error("invalid label name `{name}` for metric `{metric}`: {reason}")]
    InvalidLabelName {
        metric: String,
        name: String,
        reason: &'static str,
    },

    /// The same label name given twice for one metric.
    #[error("label name `{name}` appears twice in metric `{metric}`; give each label once")]
    DuplicateLabelName { metric: String, name: String },

    /// A second metric whose exposed names clash with one already registered.
    #[error("a metric named `{name}` is already registered; unregister it first or pick another name")]
    Duplicate { name: String },

    /// Two metric names that differ as declared but would be written alike in a scrape
    /// that escapes names (`a.b` and `a_b` with `escaping=underscores`).
    #[error(
        "metric `{name}` would be exposed as `{exposed}` with escaping={escaping}, as metric `{other}` \
         already is; rename one of them"
    )]
    NameCollision {
        name: String,
        other: String,
        exposed: String,
        escaping: &'static str,
    },

    /// Two label names of one metric that would be written alike in a scrape that escapes
    /// names (`a-b` and `a_b` with `escaping=underscores`): Prometheus would drop the target.
    #[error(
        "label names `{name}` and `{other}` of metric `{metric}` are both exposed as `{exposed}` with \
         escaping={escaping}; rename one of them"
    )]
    LabelNameCollision {
        metric: String,
        name: String,
        other: String,
        exposed: String,
        escaping: &'static str,
    },

    /// A name the library keeps for its own metrics.
    #[error(
        "metric names starting `gds_metrics_` are reserved for the library's own metrics; rename `{name}`"
    )]
    ReservedName { name: String },

    /// Label values that do not match the label names of the family.
    #[error("metric `{metric}` has {expected} label(s) ({names}) but {got} value(s) were given")]
    LabelCount {
        metric: String,
        expected: usize,
        got: usize,
        names: String,
    },

    /// A counter may only go up.
    #[error("counter `{metric}` can only increase; got an increment of {amount}")]
    NegativeIncrement { metric: String, amount: f64 },

    /// An observation a histogram or summary cannot count: its sum would stay NaN for
    /// good, and OpenMetrics parsers reject a NaN sum (the whole scrape, not one series).
    #[error("`{metric}` cannot observe NaN; check how the value was measured")]
    NanObservation { metric: String },

    /// Histogram buckets that are empty, unsorted or not finite.
    #[error("invalid buckets for histogram `{metric}`: {reason}")]
    InvalidBuckets { metric: String, reason: String },

    /// Native-histogram settings out of range.
    #[error("invalid native buckets for histogram `{metric}`: {reason}")]
    InvalidNativeBuckets { metric: String, reason: String },

    /// Native-bucket settings that break a rule, found where a binding's caller wrote
    /// them (before any histogram is named).
    #[error("invalid native bucket settings: {reason}")]
    InvalidNativeSettings { reason: String },

    /// Exemplar labels that OpenMetrics cannot carry.
    #[error("invalid exemplar for metric `{metric}`: {reason}")]
    InvalidExemplar { metric: String, reason: String },

    /// A series handed over at scrape time whose value is of another type than its
    /// family (a gauge value in a state set).
    #[error("family `{metric}` is a {family} but a series holds a {value} value; hand over values of the family's type")]
    ValueKind {
        metric: String,
        family: String,
        value: String,
    },

    /// A state of a state set that cannot be written: without a name, or named twice in
    /// one series.
    #[error("invalid state `{state}` of state set `{metric}`: {reason}")]
    InvalidState {
        metric: String,
        state: String,
        reason: &'static str,
    },

    /// An endpoint asking for the default request metrics with another setting than the
    /// one they were registered with: they are registered once per registry, by the first
    /// endpoint serving it, and shared by every later one.
    #[error(
        "the request metrics of this registry were registered with `{setting}` {registered} by an \
         earlier endpoint, but this endpoint has it {asked}; give every endpoint serving one registry \
         the same `{setting}` (or `{variable}`)"
    )]
    SharedSettingMismatch {
        setting: &'static str,
        variable: &'static str,
        registered: &'static str,
        asked: &'static str,
    },

    /// A unit that OpenMetrics cannot express for this name.
    #[error("invalid unit `{unit}` for metric `{metric}`: {reason}")]
    InvalidUnit {
        metric: String,
        unit: String,
        reason: &'static str,
    },
}

/// What kind of mistake or failure an error is: the one fact a binding needs to pick its
/// language's exception. Each binding maps kinds to exceptions in one place (its
/// `error.rs`), the same way for metrics, configuration and target files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A bad argument: a name, label, bucket, unit, label count or amount the caller gave.
    InvalidArgument,
    /// A name already taken in the registry, or an app listed twice.
    Duplicate,
    /// A setting (in code or the environment) that cannot be used.
    Configuration,
    /// Data read from outside (a target file or object) that is not valid.
    InvalidData,
    /// A file or object-store operation failed.
    Io,
    /// A conditional write lost a race with another writer: read again and retry.
    Conflict,
}

impl ErrorKind {
    /// The kind's name as the shared conformance vectors spell it (`InvalidArgument`).
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "InvalidArgument",
            ErrorKind::Duplicate => "Duplicate",
            ErrorKind::Configuration => "Configuration",
            ErrorKind::InvalidData => "InvalidData",
            ErrorKind::Io => "Io",
            ErrorKind::Conflict => "Conflict",
        }
    }
}

impl Error {
    /// The kind of mistake.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Duplicate { .. } | Error::NameCollision { .. } => ErrorKind::Duplicate,
            Error::SharedSettingMismatch { .. } => ErrorKind::Configuration,
            _ => ErrorKind::InvalidArgument,
        }
    }
}

/// Shorthand for results of this crate's metric operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;
