//! `GDS::Metrics::Native::Registry`: the core registry, and rendering it with the GVL
//! released.

use crate::error::{argument_error, internal_error, raise};
use crate::gvl::without_gvl;
use crate::metrics::{CounterFamily, GaugeFamily, HistogramFamily, SummaryFamily};
use gds_metrics::{
    Descriptor, Format, GaugeMode, MetricType, MultiProcess, NameValidation, NativeBuckets, Opts, Registry,
};
use magnus::{function, method, prelude::*, Error, RModule, Ruby};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

/// A registry shared by the Ruby metrics objects and the endpoint.
#[magnus::wrap(class = "GDS::Metrics::Native::Registry", free_immediately, size)]
pub(crate) struct NativeRegistry(pub Arc<Registry>);

/// A family's options; `series_limit` nil keeps the registry's limit.
fn opts(name: String, help: String, labels: Vec<String>, series_limit: Option<usize>) -> Opts {
    Opts::new(name, help).labels(labels).series_limit(series_limit)
}

/// `[schema, zero_threshold, max_buckets, reset_after]` as the Ruby layer passes them.
type NativeSettings = (Option<i32>, Option<f64>, Option<usize>, Option<f64>);

/// The metric type named as the Ruby layer names it.
fn metric_type(kind: &str) -> Result<MetricType, Error> {
    Ok(match kind {
        "counter" => MetricType::Counter,
        "gauge" => MetricType::Gauge,
        "histogram" => MetricType::Histogram,
        "summary" => MetricType::Summary,
        other => return Err(argument_error(format!("unknown metric type `{other}`"))),
    })
}

impl NativeRegistry {
    fn new() -> Self {
        Self(Arc::new(Registry::new()))
    }

    /// A registry whose families write to this process's file in `dir` and whose scrapes
    /// render the aggregate of every process there. An unusable directory is a
    /// ConfigurationError.
    fn multiprocess(dir: String) -> Result<Self, Error> {
        let store = MultiProcess::open(Path::new(&dir)).map_err(raise)?;
        Ok(Self(Arc::new(Registry::multiprocess(store))))
    }

    /// Adds the core's process metrics: of this process, or of the whole server (the
    /// master and its live workers) for a multi-process registry.
    fn register_process_metrics(&self) -> Result<(), Error> {
        gds_metrics::process::register(&self.0).map_err(raise)
    }

    /// The shared directory, or nil for a single-process registry.
    fn multiprocess_dir(&self) -> Option<String> {
        let store = self.0.multiprocess_store()?;
        Some(store.dir().to_string_lossy().into_owned())
    }

    /// Folds the files of exited processes now (a new puma worker does this at boot).
    fn fold_dead(&self) -> Result<(), Error> {
        match self.0.multiprocess_store() {
            Some(store) => store.fold_dead().map_err(raise),
            None => Ok(()),
        }
    }

    /// The limit of series per family for families created from now on.
    fn set_series_limit(&self, limit: usize) {
        self.0.set_series_limit(limit);
    }

    fn series_limit(&self) -> usize {
        self.0.series_limit()
    }

    /// Metrics declared from now on accept only the legacy names.
    fn use_legacy_names(&self) {
        self.0.set_name_validation(NameValidation::Legacy);
    }

    fn counter(
        &self,
        name: String,
        help: String,
        labels: Vec<String>,
        series_limit: Option<usize>,
        exemplars_across_processes: bool,
    ) -> Result<CounterFamily, Error> {
        let opts =
            opts(name, help, labels, series_limit).exemplars_across_processes(exemplars_across_processes);
        let family = self.0.counter(opts).map_err(raise)?;
        Ok(CounterFamily::new(family))
    }

    fn gauge(
        &self,
        name: String,
        help: String,
        labels: Vec<String>,
        series_limit: Option<usize>,
        mode: Option<String>,
    ) -> Result<GaugeFamily, Error> {
        let mode = match mode {
            Some(mode) => GaugeMode::from_str(&mode).map_err(argument_error)?,
            None => GaugeMode::All,
        };
        let family = self
            .0
            .gauge_with_mode(opts(name, help, labels, series_limit), mode)
            .map_err(raise)?;
        Ok(GaugeFamily(family))
    }

    /// A histogram with classic buckets (`buckets`, nil for the defaults), or with native
    /// ones when `native` gives their settings (`[schema, zero_threshold, max_buckets,
    /// reset_after]`, each nil for the core's default), with classic ones beside them only
    /// when `buckets` is given.
    #[allow(clippy::too_many_arguments)]
    fn histogram(
        &self,
        name: String,
        help: String,
        labels: Vec<String>,
        series_limit: Option<usize>,
        buckets: Option<Vec<f64>>,
        exemplars_across_processes: bool,
        native: Option<NativeSettings>,
    ) -> Result<HistogramFamily, Error> {
        let opts =
            opts(name, help, labels, series_limit).exemplars_across_processes(exemplars_across_processes);
        let family = match native {
            None => self.0.histogram(opts, buckets.as_deref()),
            Some((schema, zero_threshold, max_buckets, reset_after)) => {
                let native = NativeBuckets::from_settings(schema, zero_threshold, max_buckets, reset_after)
                    .map_err(raise)?;
                self.0.native_histogram(opts, native, buckets.as_deref())
            }
        }
        .map_err(raise)?;
        Ok(HistogramFamily::new(family))
    }

    fn summary(
        &self,
        name: String,
        help: String,
        labels: Vec<String>,
        series_limit: Option<usize>,
    ) -> Result<SummaryFamily, Error> {
        let family = self
            .0
            .summary(opts(name, help, labels, series_limit))
            .map_err(raise)?;
        Ok(SummaryFamily::new(family))
    }

    fn unregister(&self, name: String) -> bool {
        self.0.unregister(&name)
    }

    /// The exposition, `"text"` (0.0.4) or `"openmetrics"`, rendered without the GVL.
    fn render(ruby: &Ruby, rb_self: &Self, format: String) -> Result<magnus::RString, Error> {
        let format = match format.as_str() {
            "text" => Format::Text,
            "openmetrics" => Format::OpenMetrics,
            other => {
                return Err(argument_error(format!(
                    "unknown format `{other}`; use text or openmetrics"
                )))
            }
        };
        let registry = rb_self.0.clone();
        let text = without_gvl(move || registry.render(format)).map_err(|_| internal_error("rendering"))?;
        Ok(ruby.str_new(&text))
    }

    /// Checks a metric definition without registering it, so a mistake is raised where the
    /// metric is declared even when its family is created later.
    fn validate(kind: String, name: String, labels: Vec<String>) -> Result<(), Error> {
        let opts = opts(name, String::new(), labels, None);
        Descriptor::new(opts, metric_type(&kind)?).map_err(raise)?;
        Ok(())
    }
}

/// Defines the registry class under `native`.
pub(crate) fn define(ruby: &Ruby, native: RModule) -> Result<(), Error> {
    let class = native.define_class("Registry", ruby.class_object())?;
    class.define_singleton_method("new", function!(NativeRegistry::new, 0))?;
    class.define_singleton_method("multiprocess", function!(NativeRegistry::multiprocess, 1))?;
    class.define_method("multiprocess_dir", method!(NativeRegistry::multiprocess_dir, 0))?;
    class.define_method(
        "register_process_metrics",
        method!(NativeRegistry::register_process_metrics, 0),
    )?;
    class.define_method("fold_dead", method!(NativeRegistry::fold_dead, 0))?;
    class.define_singleton_method("validate", function!(NativeRegistry::validate, 3))?;
    class.define_method("series_limit=", method!(NativeRegistry::set_series_limit, 1))?;
    class.define_method("series_limit", method!(NativeRegistry::series_limit, 0))?;
    class.define_method("use_legacy_names", method!(NativeRegistry::use_legacy_names, 0))?;
    class.define_method("counter", method!(NativeRegistry::counter, 5))?;
    class.define_method("gauge", method!(NativeRegistry::gauge, 5))?;
    class.define_method("histogram", method!(NativeRegistry::histogram, 7))?;
    class.define_method("summary", method!(NativeRegistry::summary, 4))?;
    class.define_method("unregister", method!(NativeRegistry::unregister, 1))?;
    class.define_method("render", method!(NativeRegistry::render, 1))?;
    // The one definition of the default buckets, for the Ruby classes that show them.
    native.const_set("DEFAULT_BUCKETS", gds_metrics::DEFAULT_BUCKETS.to_vec())?;
    Ok(())
}
