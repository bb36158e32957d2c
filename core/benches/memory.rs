//! Bytes of heap per labelled counter series, for gds-metrics and the peers of
//! `benches/peers.rs`, measured with a counting global allocator.
//!
//! Each library gets a counter family with two labels and [`SERIES`] series, each
//! incremented once; the live heap it added, divided by [`SERIES`], is its cost per series.
//! Label values are prepared before measuring. Where a library can key series by borrowed
//! `&'static str` (prometheus-client, fastmetrics, metrics) it does, so it is not charged
//! for a copy of the values; gds-metrics, prometheus and measured keep their own copy.
//!
//! Then the peak heap of one render: for 10,000, 100,000 and 1,000,000 series, the most heap
//! a render into a fresh buffer holds above what the registry held before it, beside the
//! bytes it writes. A render bounded by its output keeps the ratio constant (the output
//! buffer's doubling growth alone allows up to 2).
//!
//! Prints one JSON object on stdout, for `scripts/bench-core-md`:
//! `{"per_series": {"<library>": <bytes>, ...}, "render_peak": {"<series>": {"<case>":
//! {"peak": <bytes>, "output": <bytes>}, ...}, ...}}`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
/// The highest `LIVE` since it was last reset (see [`peak_above`]).
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn grew(by: isize) {
    let live = LIVE.fetch_add(by, Relaxed) + by;
    PEAK.fetch_max(live, Relaxed);
}

// SAFETY: every call is passed on unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size() as isize);
        // SAFETY: the caller keeps `GlobalAlloc`'s contract, which the system allocator needs.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Relaxed);
        // SAFETY: the caller keeps `GlobalAlloc`'s contract, which the system allocator needs.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        grew(new_size as isize - layout.size() as isize);
        // SAFETY: the caller keeps `GlobalAlloc`'s contract, which the system allocator needs.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const SERIES: usize = 10_000;

/// Heap bytes per series that `build` leaves live (its result is kept alive while
/// measuring, then dropped).
fn per_series<T>(build: impl FnOnce() -> T) -> f64 {
    let before = LIVE.load(Relaxed);
    let kept = build();
    let after = LIVE.load(Relaxed);
    drop(kept);
    (after - before) as f64 / SERIES as f64
}

/// The most heap `render` held above what was live when it started, and what it returned
/// (the bytes it wrote).
fn peak_above(render: impl FnOnce() -> usize) -> (isize, usize) {
    let before = LIVE.load(Relaxed);
    PEAK.store(before, Relaxed);
    let output = render();
    (PEAK.load(Relaxed) - before, output)
}

fn label_values(series: usize) -> Vec<(&'static str, &'static str)> {
    const METHODS: [&str; 4] = ["GET", "POST", "PUT", "DELETE"];
    (0..series)
        .map(|i| {
            let path: &'static str =
                Box::leak(format!("/api/v1/resource/{}", i / METHODS.len()).into_boxed_str());
            (METHODS[i % METHODS.len()], path)
        })
        .collect()
}

mod common;
use common::{measured_label_set, FastLabels, MeasuredLabelSet, MeasuredLabels};

fn main() {
    let per_series = json_object(
        per_series_costs()
            .iter()
            .map(|(name, bytes)| (*name, format!("{bytes:.1}"))),
    );
    let peaks = [10_000, 100_000, 1_000_000].map(|n| (n.to_string(), render_peaks(n)));
    let peaks = json_object(peaks.iter().map(|(n, cases)| (n.as_str(), cases.clone())));
    println!(
        "{}",
        json_object([("per_series", per_series), ("render_peak", peaks)].into_iter())
    );
}

fn json_object<'k>(fields: impl Iterator<Item = (&'k str, String)>) -> String {
    let fields: Vec<String> = fields.map(|(k, v)| format!("\"{k}\": {v}")).collect();
    format!("{{{}}}", fields.join(", "))
}

/// The render peaks for `series` series: ours as text and protobuf, and the text renders of
/// prometheus-client and measured (the fastest peer at rendering), each into a fresh buffer.
fn render_peaks(series: usize) -> String {
    let labels = label_values(series);
    let mut cases = Vec::new();
    {
        let registry = common::ours_requests(&labels);
        for (name, format) in [
            ("gds-metrics text", gds_metrics::Format::Text),
            ("gds-metrics protobuf", gds_metrics::Format::Protobuf),
        ] {
            let peak = peak_above(|| {
                let mut out = Vec::new();
                registry.encode(format, &mut out);
                out.len()
            });
            cases.push((name, peak));
        }
    }
    {
        let registry = prometheus_client_registry(&labels);
        let peak = peak_above(|| {
            let mut text = String::new();
            prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
            text.len()
        });
        cases.push(("prometheus-client text", peak));
    }
    {
        let metrics = MeasuredMetrics {
            requests: measured::CounterVec::with_label_set(measured_label_set()),
        };
        labels
            .iter()
            .for_each(|(method, path)| metrics.requests.inc(MeasuredLabels { method, path }));
        let peak = peak_above(|| {
            let mut enc = measured::text::BufferedTextEncoder::new();
            measured::MetricGroup::collect_group_into(&metrics, &mut enc).unwrap();
            enc.finish().len()
        });
        cases.push(("measured text", peak));
    }
    let cases = cases
        .iter()
        .map(|(name, (peak, output))| (*name, format!("{{\"peak\": {peak}, \"output\": {output}}}")));
    json_object(cases)
}

#[derive(measured::MetricGroup)]
struct MeasuredMetrics {
    /// Requests.
    requests: measured::CounterVec<MeasuredLabelSet>,
}

fn prometheus_client_registry(
    labels: &[(&'static str, &'static str)],
) -> prometheus_client::registry::Registry {
    use prometheus_client::metrics::{counter::Counter, family::Family};
    let mut registry = prometheus_client::registry::Registry::default();
    let family = Family::<[(&'static str, &'static str); 2], Counter>::default();
    registry.register("requests", "Requests.", family.clone());
    for (m, p) in labels {
        family.get_or_create(&[("method", *m), ("path", *p)]).inc();
    }
    registry
}

fn per_series_costs() -> [(&'static str, f64); 6] {
    let labels = label_values(SERIES);
    [
        ("gds-metrics", per_series(|| common::ours_requests(&labels))),
        (
            "prometheus-client",
            per_series(|| {
                use prometheus_client::metrics::{counter::Counter, family::Family};
                let family = Family::<[(&'static str, &'static str); 2], Counter>::default();
                for (m, p) in &labels {
                    family.get_or_create(&[("method", *m), ("path", *p)]).inc();
                }
                family
            }),
        ),
        (
            "prometheus",
            per_series(|| {
                let family =
                    prometheus::IntCounterVec::new(prometheus::Opts::new("c", "h"), &["method", "path"])
                        .unwrap();
                labels
                    .iter()
                    .for_each(|(m, p)| family.with_label_values(&[m, p]).inc());
                family
            }),
        ),
        (
            "metrics-exporter-prometheus",
            per_series(|| {
                let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
                metrics::with_local_recorder(&recorder, || {
                    for (m, p) in &labels {
                        metrics::counter!("c", "method" => *m, "path" => *p).increment(1);
                    }
                });
                recorder
            }),
        ),
        (
            "fastmetrics",
            per_series(|| {
                use fastmetrics::metrics::{counter::Counter, family::Family};
                let family = Family::<FastLabels, Counter>::default();
                labels
                    .iter()
                    .for_each(|(method, path)| family.with_or_new(&FastLabels { method, path }, |c| c.inc()));
                family
            }),
        ),
        (
            "measured",
            per_series(|| {
                let family = measured::CounterVec::with_label_set(measured_label_set());
                labels
                    .iter()
                    .for_each(|(method, path)| family.inc(MeasuredLabels { method, path }));
                family
            }),
        ),
    ]
}
