//! The scrape-time collector: renders the shared listings and the deadlines, without
//! touching the sources.

use crate::config::PrefixDeadline;
use crate::deadline::Standing;
use crate::watch::{unix_now, Watched};
use gds_metrics::{Collector, Descriptor, Encoder, MetricType, Opts};
use std::sync::Arc;

/// Per-source and per-prefix upload statistics from the last listings, and where each
/// prefix with a deadline stands.
#[derive(Debug)]
pub struct UploadCollector {
    watched: Vec<Arc<Watched>>,
    deadlines: Vec<PrefixDeadline>,
    newest: Descriptor,
    files: Descriptor,
    bytes: Descriptor,
    errors: Descriptor,
    success: Descriptor,
    failures: Descriptor,
    age: Descriptor,
    deadline: Descriptor,
    next_deadline: Descriptor,
    overdue: Descriptor,
}

fn gauge(name: &str, help: &str, labels: &[&str], unit: Option<&str>) -> gds_metrics::Result<Descriptor> {
    let mut opts = Opts::new(name, help).labels(labels.iter().copied());
    if let Some(unit) = unit {
        opts = opts.unit(unit);
    }
    Descriptor::new(opts, MetricType::Gauge)
}

const PREFIX: &[&str] = &["source", "prefix"];
const SOURCE: &[&str] = &["source"];

impl UploadCollector {
    /// A collector over `watched`, with `deadlines` for some of their prefixes.
    pub fn new(watched: Vec<Arc<Watched>>, deadlines: Vec<PrefixDeadline>) -> gds_metrics::Result<Self> {
        Ok(Self {
            watched,
            deadlines,
            newest: gauge(
                "upload_newest_file_timestamp_seconds",
                "Modification time of the newest file under the prefix, in Unix seconds.",
                PREFIX,
                Some("seconds"),
            )?,
            files: gauge("upload_files", "Number of files under the prefix.", PREFIX, None)?,
            bytes: gauge("upload_bytes", "Total size of the files under the prefix.", PREFIX, Some("bytes"))?,
            errors: gauge(
                "upload_scan_errors",
                "Entries that could not be read during the last listing (permissions, races).",
                SOURCE,
                None,
            )?,
            success: gauge(
                "upload_listing_success",
                "1 if the last listing of the source succeeded; 0 if it failed, and then no file statistics are exported.",
                SOURCE,
                None,
            )?,
            failures: Descriptor::new(
                Opts::new(
                    "upload_listing_failures",
                    "Listings of the source that failed, timed out or were cut (past the object bound), since the exporter started.",
                )
                .labels(SOURCE.iter().copied()),
                MetricType::Counter,
            )?,
            age: gauge(
                "upload_listing_age_seconds",
                "Seconds since the last successful listing of the source.",
                SOURCE,
                Some("seconds"),
            )?,
            deadline: gauge(
                "upload_deadline_timestamp_seconds",
                "The last deadline that has passed for the prefix, in Unix seconds.",
                PREFIX,
                Some("seconds"),
            )?,
            next_deadline: gauge(
                "upload_next_deadline_timestamp_seconds",
                "The next deadline for the prefix, in Unix seconds.",
                PREFIX,
                Some("seconds"),
            )?,
            overdue: gauge(
                "upload_overdue",
                "1 if no file arrived under the prefix for its last deadline, else 0; absent while the source cannot be listed.",
                PREFIX,
                None,
            )?,
        })
    }

    fn collect_listings(&self, encoder: &mut Encoder<'_>, states: &[(&Watched, crate::watch::ListingState)]) {
        let per_prefix =
            |encoder: &mut Encoder<'_>,
             descriptor: &Descriptor,
             value: &dyn Fn(&crate::source::PrefixStats) -> Option<f64>| {
                let mut family = encoder.family(descriptor);
                for (watched, state) in states {
                    for (prefix, stats) in state.listing.iter().flat_map(|listing| &listing.prefixes) {
                        if let Some(v) = value(stats) {
                            family.gauge(&[watched.label.as_str(), prefix], None, v);
                        }
                    }
                }
            };
        per_prefix(encoder, &self.newest, &|s| s.newest_mtime);
        per_prefix(encoder, &self.files, &|s| Some(s.files as f64));
        per_prefix(encoder, &self.bytes, &|s| Some(s.bytes as f64));
        gauges(
            encoder,
            &self.errors,
            states.iter().filter_map(|(watched, state)| {
                let listing = state.listing.as_ref()?;
                Some((vec![watched.label.as_str()], listing.errors as f64))
            }),
        );
        gauges(
            encoder,
            &self.success,
            states.iter().map(|(watched, state)| {
                let success = if state.listing.is_some() { 1.0 } else { 0.0 };
                (vec![watched.label.as_str()], success)
            }),
        );
        let mut failures = encoder.family(&self.failures);
        for (watched, _) in states {
            failures.counter(&[watched.label.as_str()], watched.failures() as f64, None);
        }
        drop(failures);
        let now = unix_now();
        gauges(
            encoder,
            &self.age,
            states.iter().filter_map(|(watched, state)| {
                let listed = state.last_success?;
                Some((vec![watched.label.as_str()], (now - listed).max(0.0)))
            }),
        );
    }

    fn collect_deadlines(
        &self,
        encoder: &mut Encoder<'_>,
        states: &[(&Watched, crate::watch::ListingState)],
    ) {
        let now = jiff::Timestamp::now();
        let standings: Vec<_> =
            self.deadlines
                .iter()
                .filter_map(|deadline| {
                    let (_, state) = states
                        .iter()
                        .find(|(watched, _)| watched.label == deadline.source)?;
                    // Absent while the source cannot be listed; then the newest arrival any
                    // listing saw, so a processed (deleted) file still counts.
                    state.listing.as_ref()?;
                    let newest = state.arrivals.get(&deadline.prefix).and_then(|seconds| {
                        jiff::Timestamp::from_millisecond((seconds * 1000.0) as i64).ok()
                    });
                    Some((deadline, deadline.rule.standing(now, newest)))
                })
                .collect();
        fn seconds(t: jiff::Timestamp) -> f64 {
            t.as_millisecond() as f64 / 1000.0
        }
        let each = |value: fn(&Standing) -> f64| {
            standings
                .iter()
                .map(move |(d, s)| (vec![d.source.as_str(), d.prefix.as_str()], value(s)))
        };
        gauges(encoder, &self.deadline, each(|s| seconds(s.last)));
        gauges(encoder, &self.next_deadline, each(|s| seconds(s.next)));
        gauges(
            encoder,
            &self.overdue,
            each(|s| if s.overdue { 1.0 } else { 0.0 }),
        );
    }
}

/// Writes the gauge family `desc` with one series per `(label values, value)`.
fn gauges<'v>(
    encoder: &mut Encoder<'_>,
    desc: &Descriptor,
    series: impl Iterator<Item = (Vec<&'v str>, f64)>,
) {
    let mut family = encoder.family(desc);
    for (values, value) in series {
        family.gauge(&values, None, value);
    }
}

impl Collector for UploadCollector {
    fn descriptors(&self) -> Vec<Descriptor> {
        vec![
            self.newest.clone(),
            self.files.clone(),
            self.bytes.clone(),
            self.errors.clone(),
            self.success.clone(),
            self.failures.clone(),
            self.age.clone(),
            self.deadline.clone(),
            self.next_deadline.clone(),
            self.overdue.clone(),
        ]
    }

    fn collect(&self, encoder: &mut Encoder<'_>) {
        let states: Vec<_> = self
            .watched
            .iter()
            .map(|watched| (watched.as_ref(), watched.state()))
            .collect();
        self.collect_listings(encoder, &states);
        self.collect_deadlines(encoder, &states);
    }
}
