//! Bytes of heap per labelled counter series, for gds-metrics and the peers of
//! `benches/peers.rs`, measured with a counting global allocator.
//!
//! Each library gets a counter family with two labels and [`SERIES`] series, each
//! incremented once; the live heap it added, divided by [`SERIES`], is its cost per series.
//! Label values are prepared before measuring. Where a library can key series by borrowed
//! `&'static str` (prometheus-client, fastmetrics, metrics) it does, so it is not charged
//! for a copy of the values; gds-metrics, prometheus and measured keep their own copy.
//!
//! Prints one JSON object `{"<library>": <bytes per series>, ...}` on stdout, for
//! `scripts/bench-core-md`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Relaxed);
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Relaxed);
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Relaxed);
        System.realloc(ptr, layout, new_size)
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

fn label_values() -> Vec<(&'static str, &'static str)> {
    const METHODS: [&str; 4] = ["GET", "POST", "PUT", "DELETE"];
    (0..SERIES)
        .map(|i| {
            let path: &'static str =
                Box::leak(format!("/api/v1/resource/{}", i / METHODS.len()).into_boxed_str());
            (METHODS[i % METHODS.len()], path)
        })
        .collect()
}

mod common;
use common::{measured_label_set, FastLabels, MeasuredLabels};

fn main() {
    let labels = label_values();
    let results = [
        (
            "gds-metrics",
            per_series(|| {
                let registry = gds_metrics::Registry::new();
                // Every series is measured: the default limit would fold most into one.
                registry.set_series_limit(usize::MAX);
                let family = registry
                    .counter(gds_metrics::Opts::new("c", "h").labels(["method", "path"]))
                    .unwrap();
                labels
                    .iter()
                    .for_each(|(m, p)| family.with(&[*m, *p], |c| c.inc()).unwrap());
                registry
            }),
        ),
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
    ];
    let fields: Vec<String> = results
        .iter()
        .map(|(name, bytes)| format!("\"{name}\": {bytes:.1}"))
        .collect();
    println!("{{{}}}", fields.join(", "));
}
