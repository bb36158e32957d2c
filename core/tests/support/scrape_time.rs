//! A family computed elsewhere and handed over at scrape time, as an exporter or a bridge
//! from another metrics library hands one over: the tests' way to write the kinds the core
//! has no metric of its own for (state sets, summaries with quantiles).
#![allow(dead_code)] // each test uses part of it

use gds_metrics::{
    Collector, Descriptor, Encoder, FamilySnapshot, MetricType, Opts, OwnedValue, SeriesSnapshot, State,
};

/// Writes its family as it is at every scrape.
pub(crate) struct ScrapeTimeFamily(pub(crate) FamilySnapshot);

impl Collector for ScrapeTimeFamily {
    fn descriptors(&self) -> Vec<Descriptor> {
        vec![self.0.descriptor.clone()]
    }

    fn collect(&self, encoder: &mut Encoder<'_>) {
        encoder.write(&self.0);
    }
}

/// One series of a state set: its label values and its states as `(state, is_set)` pairs.
pub(crate) type StateSeries<'a> = (Vec<&'a str>, Vec<(&'a str, bool)>);

/// A state set `name` with label names `labels` and these series.
pub(crate) fn state_set(
    name: &str,
    help: &str,
    labels: &[&str],
    series: Vec<StateSeries<'_>>,
) -> ScrapeTimeFamily {
    let descriptor = Descriptor::new(
        Opts::new(name, help).labels(labels.iter().copied()),
        MetricType::StateSet,
    )
    .expect("a valid state set");
    let series = series
        .into_iter()
        .map(|(values, states)| SeriesSnapshot {
            labels: values.into_iter().map(str::to_owned).collect(),
            value: OwnedValue::StateSet(
                states
                    .into_iter()
                    .map(|(state, set)| State::new(state, set))
                    .collect(),
            ),
        })
        .collect();
    ScrapeTimeFamily(FamilySnapshot::new(descriptor, series).expect("a valid state set"))
}
