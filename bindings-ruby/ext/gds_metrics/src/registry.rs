//! `GDS::Metrics::Native::Registry`: the core registry, and rendering it with the GVL
//! released.

use crate::error::{argument_error, internal_error};
use crate::gvl::without_gvl;
use crate::metrics::{CounterFamily, GaugeFamily, HistogramFamily, SummaryFamily};
use gds_metrics::{Descriptor, Format, MetricType, Opts, Registry};
use magnus::{function, method, prelude::*, Error, RModule, Ruby};
use std::sync::Arc;

/// A registry shared by the Ruby metrics objects and the endpoint.
#[magnus::wrap(class = "GDS::Metrics::Native::Registry", free_immediately, size)]
pub struct NativeRegistry(pub Arc<Registry>);

fn opts(name: String, help: String, labels: Vec<String>) -> Opts {
    Opts::new(name, help).labels(labels)
}

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

    fn counter(&self, name: String, help: String, labels: Vec<String>) -> Result<CounterFamily, Error> {
        let family = self.0.counter(opts(name, help, labels)).map_err(argument_error)?;
        Ok(CounterFamily(family))
    }

    fn gauge(
        &self,
        name: String,
        help: String,
        labels: Vec<String>,
        mode: Option<String>,
    ) -> Result<GaugeFamily, Error> {
        let _ = mode; // PENDING-MULTIPROCESS
        let family = self.0.gauge(opts(name, help, labels)).map_err(argument_error)?;
        Ok(GaugeFamily(family))
    }

    fn histogram(
        &self,
        name: String,
        help: String,
        labels: Vec<String>,
        buckets: Option<Vec<f64>>,
    ) -> Result<HistogramFamily, Error> {
        let family = self
            .0
            .histogram(opts(name, help, labels), buckets.as_deref())
            .map_err(argument_error)?;
        Ok(HistogramFamily(family))
    }

    fn summary(&self, name: String, help: String, labels: Vec<String>) -> Result<SummaryFamily, Error> {
        let family = self.0.summary(opts(name, help, labels)).map_err(argument_error)?;
        Ok(SummaryFamily(family))
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
        let opts = opts(name, String::new(), labels);
        Descriptor::new(opts, metric_type(&kind)?).map_err(argument_error)?;
        Ok(())
    }
}

/// Defines the registry class under `native`.
pub fn define(ruby: &Ruby, native: RModule) -> Result<(), Error> {
    let class = native.define_class("Registry", ruby.class_object())?;
    class.define_singleton_method("new", function!(NativeRegistry::new, 0))?;
    class.define_singleton_method("validate", function!(NativeRegistry::validate, 3))?;
    class.define_method("counter", method!(NativeRegistry::counter, 3))?;
    class.define_method("gauge", method!(NativeRegistry::gauge, 4))?;
    class.define_method("histogram", method!(NativeRegistry::histogram, 4))?;
    class.define_method("summary", method!(NativeRegistry::summary, 3))?;
    class.define_method("unregister", method!(NativeRegistry::unregister, 1))?;
    class.define_method("render", method!(NativeRegistry::render, 1))?;
    Ok(())
}
