//! What a metric family is: name, help, unit, type and label names.

use super::name::{LabelName, MetricName, NameValidation};
use crate::error::{Error, Result};

/// The type of a metric family, as exposed in `# TYPE` lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricType {
    /// A total that only goes up (exposed with `_total`).
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// Observations counted in buckets, with their count and sum.
    Histogram,
    /// Observations' count and sum, with quantiles when a collector hands them over.
    Summary,
    /// Constant labels describing the target (exposed with `_info`, value 1).
    Info,
    /// Related booleans, such as which of an enum's states is current: one sample per
    /// state, the state named by a label called like the family and the sample 1 when
    /// the state is set, 0 when not (OpenMetrics `stateset`; a gauge in the Prometheus text
    /// and protobuf formats, as `prometheus_client` and `client_java` write it).
    StateSet,
    /// A value of no declared type (collectors that do not say).
    Unknown,
}

impl MetricType {
    /// The suffix this type strips from a given name, because the exposition adds it back
    /// (`requests_total` and `requests` name the same counter, as in `prometheus_client`).
    fn implied_suffix(self) -> Option<&'static str> {
        match self {
            MetricType::Counter => Some("_total"),
            MetricType::Info => Some("_info"),
            _ => None,
        }
    }

    /// Label names the exposition adds itself and so may not be user labels.
    pub(crate) fn reserved_labels(self) -> &'static [&'static str] {
        match self {
            MetricType::Histogram => &["le"],
            MetricType::Summary => &["quantile"],
            _ => &[],
        }
    }

    /// Suffixes of the sample names this type writes, used to detect clashes between
    /// families at registration (`a` histogram and `a_count` gauge would collide).
    pub(crate) fn sample_suffixes(self) -> &'static [&'static str] {
        match self {
            MetricType::Counter => &["_total", "_created"],
            MetricType::Gauge | MetricType::StateSet | MetricType::Unknown => &[""],
            MetricType::Histogram => &["_bucket", "_count", "_sum", "_created"],
            MetricType::Summary => &["", "_count", "_sum", "_created"],
            MetricType::Info => &["_info"],
        }
    }
}

/// How to define a metric: name, help and optionally labels and a unit.
///
/// ```
/// use gds_metrics::Opts;
/// let opts = Opts::new("jobs_processed", "Jobs processed by the worker.").labels(["queue"]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Opts {
    pub(crate) name: String,
    pub(crate) help: String,
    pub(crate) unit: Option<String>,
    pub(crate) labels: Vec<String>,
    pub(crate) series_limit: Option<usize>,
    pub(crate) validation: Option<NameValidation>,
    pub(crate) exemplars_across_processes: bool,
}

impl Opts {
    /// A metric called `name`, described by `help` (both required by Prometheus practice).
    pub fn new(name: impl Into<String>, help: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            help: help.into(),
            ..Self::default()
        }
    }

    /// The label names every series of this family carries, in order.
    pub fn labels<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.labels = names.into_iter().map(Into::into).collect();
        self
    }

    /// The most label sets this family keeps (default: the registry's
    /// [`series limit`](crate::Registry::set_series_limit), 2,000 unless changed). Label
    /// sets beyond it are recorded into one overflow series whose every label is
    /// [`OVERFLOW_LABEL_VALUE`](crate::OVERFLOW_LABEL_VALUE), so a client sending new values
    /// cannot grow the scrape without bound. `None` keeps the registry's limit, so a
    /// binding passes its caller's optional argument straight through.
    pub fn series_limit(mut self, limit: impl Into<Option<usize>>) -> Self {
        self.series_limit = limit.into();
        self
    }

    /// The OpenMetrics unit (`seconds`, `bytes`); the name must end in `_<unit>`.
    pub fn unit(mut self, unit: impl Into<String>) -> Self {
        self.unit = Some(unit.into());
        self
    }

    /// Which names to accept: any UTF-8 name (the default) or only the legacy set. A
    /// registry's own default ([`Registry::set_name_validation`](crate::Registry::set_name_validation))
    /// applies when this is not set.
    pub fn name_validation(mut self, validation: NameValidation) -> Self {
        self.validation = Some(validation);
        self
    }

    /// In multi-process mode, reserve room in each series' file record (about 800
    /// bytes) for its newest exemplar, so the aggregate of all workers shows exemplars
    /// (newest per bucket wins). Without it, exemplars of a multi-process family stay in
    /// the recording process and are not exposed. No effect in single-process mode, where
    /// exemplars are always kept. Off unless set; a binding passes its caller's flag
    /// straight through.
    pub fn exemplars_across_processes(mut self, across_processes: bool) -> Self {
        self.exemplars_across_processes = across_processes;
        self
    }

    /// Validates the options for a family of type `kind`.
    pub(crate) fn into_descriptor(self, kind: MetricType) -> Result<Descriptor> {
        let validation = self.validation.unwrap_or_default();
        let name = match kind.implied_suffix() {
            Some(suffix) => self.name.strip_suffix(suffix).unwrap_or(&self.name),
            None => &self.name,
        };
        let name = MetricName::with_validation(name, validation)?;
        let state_label = match kind {
            MetricType::StateSet => Some(state_label(
                &name,
                &self.labels,
                self.unit.as_deref(),
                validation,
            )?),
            _ => None,
        };
        let label_names =
            LabelName::list_with_validation(name.as_str(), &self.labels, kind.reserved_labels(), validation)?;
        if let Some(unit) = &self.unit {
            check_unit(name.as_str(), unit)?;
        }
        Ok(Descriptor {
            name,
            help: self.help,
            unit: self.unit,
            kind,
            label_names,
            state_label,
            exemplars_across_processes: self.exemplars_across_processes,
        })
    }
}

/// The label a state set writes its states under: named like the family, as OpenMetrics
/// says, so the family's name must also be a label name and no label of its own may take
/// it. OpenMetrics also gives state sets no unit.
fn state_label(
    name: &MetricName,
    labels: &[String],
    unit: Option<&str>,
    validation: NameValidation,
) -> Result<LabelName> {
    let metric = name.as_str();
    if let Some(unit) = unit {
        return Err(Error::InvalidUnit {
            metric: metric.to_owned(),
            unit: unit.to_owned(),
            reason: "OpenMetrics gives state sets no unit; leave it out",
        });
    }
    if labels.iter().any(|label| label == metric) {
        return Err(Error::InvalidLabelName {
            metric: metric.to_owned(),
            name: metric.to_owned(),
            reason: "a state set writes its states under a label named like the metric; rename this label",
        });
    }
    LabelName::with_validation(metric, metric, validation).map_err(|_| Error::InvalidMetricName {
        name: metric.to_owned(),
        reason: "a state set's states are written under a label named like it, so its name must be a valid \
                 label name too (not starting with `__`, and without `:` when legacy names were asked for)",
    })
}

fn check_unit(metric: &str, unit: &str) -> Result<()> {
    let error = |reason| Error::InvalidUnit {
        metric: metric.to_owned(),
        unit: unit.to_owned(),
        reason,
    };
    if unit.is_empty() || !unit.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(error("units match [a-zA-Z0-9_]+"));
    }
    if !metric.strip_suffix(unit).is_some_and(|rest| rest.ends_with('_')) {
        return Err(error("OpenMetrics requires the metric name to end in `_<unit>`"));
    }
    Ok(())
}

/// A validated metric family definition. Built from [`Opts`]; read by encoders and by
/// [`Collector`](crate::Collector) authors who describe the families they emit.
#[derive(Debug, Clone, PartialEq)]
pub struct Descriptor {
    name: MetricName,
    help: String,
    unit: Option<String>,
    kind: MetricType,
    label_names: Box<[LabelName]>,
    /// A state set's state label (see [`Descriptor::state_label`]).
    state_label: Option<LabelName>,
    exemplars_across_processes: bool,
}

impl Descriptor {
    /// Validates `opts` as a family of type `kind`, for collectors that emit families
    /// computed at scrape time.
    pub fn new(opts: Opts, kind: MetricType) -> Result<Self> {
        opts.into_descriptor(kind)
    }

    /// The family name (without `_total` for counters or `_info` for info metrics).
    pub fn name(&self) -> &str {
        self.name.as_str()
    }

    /// The validated family name, which knows whether it is a legacy name.
    pub fn metric_name(&self) -> &MetricName {
        &self.name
    }

    /// The help text, unescaped.
    pub fn help(&self) -> &str {
        &self.help
    }

    /// The OpenMetrics unit, if any.
    pub fn unit(&self) -> Option<&str> {
        self.unit.as_deref()
    }

    /// The family type.
    pub fn kind(&self) -> MetricType {
        self.kind
    }

    /// Whether a multi-process file keeps this family's exemplars.
    pub(crate) fn exemplars_across_processes(&self) -> bool {
        self.exemplars_across_processes && matches!(self.kind, MetricType::Counter | MetricType::Histogram)
    }

    /// The label names, in the order label values are given.
    pub fn label_names(&self) -> &[LabelName] {
        &self.label_names
    }

    /// For a state set, the label each state's sample carries after the family's own
    /// labels, named like the family (`worker_state{worker_state="busy"} 1`); `None` for
    /// every other type.
    pub fn state_label(&self) -> Option<&LabelName> {
        self.state_label.as_ref()
    }

    /// The label names every sample of this family is written with: its own, then a state
    /// set's state label. Two of them must not be written alike in any escaping.
    pub(crate) fn written_label_names(&self) -> impl Iterator<Item = &LabelName> {
        self.label_names.iter().chain(&self.state_label)
    }

    /// Every sample name this family can write, for clash detection.
    pub(crate) fn sample_names(&self) -> impl Iterator<Item = String> + '_ {
        self.kind
            .sample_suffixes()
            .iter()
            .map(move |s| format!("{}{}", self.name, s))
    }

    /// Checks that `got` label values fit this family.
    #[inline]
    pub(crate) fn check_label_count(&self, got: usize) -> Result<()> {
        if got == self.label_names.len() {
            return Ok(());
        }
        Err(Error::LabelCount {
            metric: self.name.to_string(),
            expected: self.label_names.len(),
            got,
            names: self
                .label_names
                .iter()
                .map(LabelName::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_drop_a_given_total_suffix() {
        let d = Opts::new("requests_total", "h")
            .into_descriptor(MetricType::Counter)
            .unwrap();
        assert_eq!(d.name(), "requests");
    }

    #[test]
    fn units_must_end_the_name() {
        assert!(Opts::new("latency_seconds", "h")
            .unit("seconds")
            .into_descriptor(MetricType::Gauge)
            .is_ok());
        assert!(Opts::new("latency", "h")
            .unit("seconds")
            .into_descriptor(MetricType::Gauge)
            .is_err());
    }

    #[test]
    fn histograms_reserve_le() {
        let err = Opts::new("h", "h")
            .labels(["le"])
            .into_descriptor(MetricType::Histogram);
        assert!(matches!(err, Err(Error::InvalidLabelName { .. })));
    }

    #[test]
    fn state_sets_write_their_states_under_a_label_named_like_them() {
        let d = Opts::new("worker_state", "h")
            .labels(["queue"])
            .into_descriptor(MetricType::StateSet)
            .unwrap();
        assert_eq!(d.state_label().map(LabelName::as_str), Some("worker_state"));
        let written: Vec<&str> = d.written_label_names().map(LabelName::as_str).collect();
        assert_eq!(written, ["queue", "worker_state"]);
        let gauge = Opts::new("worker_state", "h")
            .into_descriptor(MetricType::Gauge)
            .unwrap();
        assert_eq!(gauge.state_label(), None);
    }

    #[test]
    fn a_state_set_refuses_a_label_named_like_it_and_a_unit() {
        let err = Opts::new("worker_state", "h")
            .labels(["worker_state"])
            .into_descriptor(MetricType::StateSet)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid label name `worker_state` for metric `worker_state`: a state set writes its states \
             under a label named like the metric; rename this label"
        );
        let err = Opts::new("job_seconds", "h")
            .unit("seconds")
            .into_descriptor(MetricType::StateSet)
            .unwrap_err();
        assert!(matches!(err, Error::InvalidUnit { .. }), "{err}");
    }

    #[test]
    fn a_state_set_name_must_also_be_a_label_name() {
        assert!(Opts::new("a:b", "h")
            .into_descriptor(MetricType::StateSet)
            .is_ok());
        let legacy = Opts::new("a:b", "h")
            .name_validation(NameValidation::Legacy)
            .into_descriptor(MetricType::StateSet);
        assert!(
            matches!(legacy, Err(Error::InvalidMetricName { .. })),
            "{legacy:?}"
        );
        let reserved = Opts::new("__state", "h").into_descriptor(MetricType::StateSet);
        assert!(
            matches!(reserved, Err(Error::InvalidMetricName { .. })),
            "{reserved:?}"
        );
    }

    #[test]
    fn wrong_label_count_names_the_labels() {
        let d = Opts::new("m", "h")
            .labels(["a", "b"])
            .into_descriptor(MetricType::Gauge)
            .unwrap();
        let msg = d.check_label_count(1).unwrap_err().to_string();
        assert_eq!(msg, "metric `m` has 2 label(s) (a, b) but 1 value(s) were given");
    }
}
