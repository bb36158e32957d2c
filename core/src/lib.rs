//! Prometheus metrics for apps on a Cloud Foundry PaaS, scraped by a shared Prometheus.
//!
//! This crate is the one implementation behind the `gds-metrics` libraries for Python,
//! Ruby and Java: the registry and metric kinds, the Prometheus text 0.0.4 and
//! OpenMetrics 1.0.0 expositions, and (in later modules) the endpoint with its GUID
//! bearer-token auth, multi-process aggregation and the target-file schema.
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

mod descriptor;
mod error;
pub mod exposition;
mod metrics;
mod name;
mod registry;
pub mod targets;

pub use descriptor::{Descriptor, MetricType, Opts};
pub use error::{Error, Result};
pub use exposition::{Encoder, FamilyEncoder, Format};
pub use metrics::{
    Buckets, Counter, Family, Gauge, Histogram, HistogramSnapshot, Info, Metric, Summary, DEFAULT_BUCKETS,
};
pub use name::{LabelName, MetricName};
pub use registry::{Collector, Registry};
