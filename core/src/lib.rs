//! Prometheus metrics for apps on a Cloud Foundry PaaS, scraped by a shared Prometheus.
//!
//! This crate is the one implementation behind the `gds-metrics` libraries for Python,
//! Ruby and Java: the registry and metric kinds (native histograms and exemplars
//! included), the Prometheus text 0.0.4 and 1.0.0, OpenMetrics 1.0.0 and Prometheus
//! protobuf expositions with UTF-8 name escaping, the [`Endpoint`] with its configuration, GUID
//! bearer-token auth, format negotiation and default [`RequestMetrics`] (see
//! `core/README.md`), multi-process aggregation and the target-file schema.
//!
//! ```
//! use gds_metrics::{Format, Opts, Registry};
//!
//! let registry = Registry::new();
//! let requests = registry.counter(Opts::new("requests", "Requests handled.").labels(["code"]))?;
//! requests.labels(&["200"])?.inc();
//!
//! let text = registry.render(Format::Text);
//! assert!(text.contains("requests_total{code=\"200\"} 1.0\n"));
//! # Ok::<(), gds_metrics::Error>(())
//! ```
//!
//! # Metrics and exposition
//!
//! - A [`Registry`] holds [`Family`]s of [`Counter`], [`Gauge`], [`Histogram`],
//!   [`Summary`] and [`Info`] series, plus [`Collector`]s that compute families at scrape
//!   time (state sets among them: [`OwnedValue::StateSet`]). Every mistake (a bad name, a clash, a wrong number of label values, a negative
//!   increment) is an [`Error`] from the call that made it, never a failed scrape.
//! - A series is found by its full label values, so two label sets never share one; keep
//!   the handle from [`Family::labels`] for hot loops. Updates are atomic and lock-free,
//!   and every scrape sees a consistent histogram (`+Inf` equals `_count`, `_sum` covers
//!   exactly the counted observations).
//! - [`Registry::encode`] writes [`Format::Text`] (Prometheus 0.0.4), [`Format::TextV1`],
//!   [`Format::OpenMetrics`] (1.0.0) or [`Format::Protobuf`] into a reusable buffer;
//!   [`Registry::encode_with`] also takes the negotiated [`Escaping`]. Both outputs are checked
//!   against `promtool` and the Python `prometheus_client` parsers in the crate's tests.

pub mod auth;
#[cfg(feature = "axum")]
pub mod axum;
pub use storage::cells;
pub mod config;
pub mod endpoint;
mod error;
mod exposed;
pub mod exposition;
mod header;
mod liveness;
mod metrics;
pub mod model;
pub mod multiprocess;
pub mod negotiate;
pub mod process;
mod registry;
pub mod request_metrics;
#[cfg(feature = "server")]
pub mod serve;
pub mod server_directory;
mod storage;
pub mod targets;
pub mod traceparent;

pub use auth::AuthDecision;
pub use config::{Config, ConfigBuilder, ConfigError, ConfigWarning};
pub use endpoint::{Endpoint, Request, Response};
pub use error::{Error, ErrorKind, Result};
pub use exposition::{Encoder, Escaping, FamilyEncoder, Format};
pub use metrics::{
    Buckets, Counter, Family, Gauge, Histogram, HistogramConfig, HistogramSnapshot, Info, Metric, Summary,
    DEFAULT_BUCKETS, DEFAULT_SERIES_LIMIT, OVERFLOW_LABEL_VALUE,
};
pub use model::{
    Descriptor, Exemplar, FamilySnapshot, HistogramValue, LabelName, MetricName, MetricType, NameValidation,
    NativeBuckets, NativeSnapshot, Opts, OwnedValue, Quantile, SeriesSnapshot, SeriesValue, SparseBuckets,
    State, SummaryValue, EXEMPLAR_MAX_RUNES,
};
pub use multiprocess::{GaugeMode, MultiProcess, MultiProcessError, UnknownGaugeMode};
#[doc(hidden)]
pub use registry::render_mapped_file;
pub use registry::{Collector, Registry, SharedFamilies};
pub use request_metrics::{collapse_ids, FinishedRequest, HostRule, RaisedException, RequestMetrics, Route};
pub use server_directory::{ServerDirectory, EXPORTED_VARIABLE};
pub use traceparent::TraceIds;
