//! The library's own metrics about a registry: families that exist only once something
//! happened, so a healthy app's scrape carries none of them.
//!
//! Names starting `gds_metrics_` are reserved for these: [`Registry`](crate::Registry)
//! refuses a user family with such a name, so a lazily created family can never clash.

use crate::exposition::Encoder;
use crate::metrics::{Counter, Family};
use crate::model::{MetricType, Opts};
use crate::multiprocess::{GaugeMode, MultiProcess};
use std::sync::{Arc, OnceLock};

/// The prefix of every family name the library keeps for itself.
pub(crate) const RESERVED_PREFIX: &str = "gds_metrics_";

/// `gds_metrics_series_refused_total{family}`: label sets a family refused because it had
/// reached its series limit (each was recorded into the overflow series instead).
pub(crate) const SERIES_REFUSED: &str = "gds_metrics_series_refused";

/// `gds_metrics_collector_failures_total{collector}`: collectors that failed (panicked)
/// during a scrape, whose families were left out of it.
pub(crate) const COLLECTOR_FAILURES: &str = "gds_metrics_collector_failures";

/// A counter family with one label, created (and, in multi-process mode, given its place in
/// this process's file) on first use.
#[derive(Debug)]
pub(crate) struct LazyCounter {
    name: &'static str,
    help: &'static str,
    label: &'static str,
    store: Option<Arc<MultiProcess>>,
    family: OnceLock<Family<Counter>>,
}

impl LazyCounter {
    pub(crate) fn new(
        name: &'static str,
        help: &'static str,
        label: &'static str,
        store: Option<Arc<MultiProcess>>,
    ) -> Self {
        Self {
            name,
            help,
            label,
            store,
            family: OnceLock::new(),
        }
    }

    /// Adds one to the series for `value`.
    pub(crate) fn inc(&self, value: &str) {
        // One label value for one label: the lookup cannot fail.
        let _ = self.family().with(&[value], Counter::inc);
    }

    fn family(&self) -> &Family<Counter> {
        self.family.get_or_init(|| {
            let desc = Opts::new(self.name, self.help)
                .labels([self.label])
                .into_descriptor(MetricType::Counter)
                .expect("the library's own metric names are valid");
            let store = (self.store.as_ref()).map(|mp| mp.family_store(&desc, &[], 0, GaugeMode::All));
            Family::with_store(desc, (), store, None)
        })
    }

    /// Writes the family if it exists and is kept in memory; in multi-process mode the
    /// directory's aggregate writes it.
    pub(crate) fn encode(&self, encoder: &mut Encoder<'_>) {
        if self.store.is_none() {
            if let Some(family) = self.family.get() {
                family.encode(encoder);
            }
        }
    }
}
