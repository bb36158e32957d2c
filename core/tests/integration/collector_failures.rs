//! A user collector that panics never takes the scrape down (CONTRACT section 4): the
//! endpoint answers 200 with every other family, nothing of the failed collector, and a
//! counter of failures per collector name.

use gds_metrics::{
    Collector, Config, Descriptor, Encoder, Endpoint, Error, Format, MetricType, Opts, Registry, Request,
    SeriesValue,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Writes one family, starts a second, and panics halfway through its samples.
struct HalfDone {
    written: Descriptor,
    broken: Descriptor,
}

impl HalfDone {
    fn new() -> Self {
        let desc =
            |name: &str, kind| Descriptor::new(Opts::new(name, "Half done.").labels(["k"]), kind).unwrap();
        Self {
            written: desc("half_written", MetricType::Gauge),
            broken: desc("half_broken", MetricType::Counter),
        }
    }
}

impl Collector for HalfDone {
    fn descriptors(&self) -> Vec<Descriptor> {
        vec![self.written.clone(), self.broken.clone()]
    }

    fn collect(&self, encoder: &mut Encoder<'_>) {
        encoder
            .family(&self.written)
            .series(&["a"], None, &SeriesValue::Gauge(1.0));
        let mut broken = encoder.family(&self.broken);
        let counter = SeriesValue::Counter {
            value: 2.0,
            created: None,
            exemplar: None,
        };
        broken.series(&["a"], None, &counter);
        panic!("the database went away");
    }
}

/// Fails only while `failing` is set, under a name of its own.
struct Flaky {
    desc: Descriptor,
    failing: AtomicBool,
}

impl Collector for Flaky {
    fn descriptors(&self) -> Vec<Descriptor> {
        vec![self.desc.clone()]
    }

    fn collect(&self, encoder: &mut Encoder<'_>) {
        assert!(!self.failing.load(Ordering::Relaxed), "flaky failed");
        encoder
            .family(&self.desc)
            .series::<&str>(&[], None, &SeriesValue::Gauge(3.0));
    }

    fn name(&self) -> String {
        "queue_depth_collector".to_owned()
    }
}

fn registry_with_healthy_families() -> Registry {
    let registry = Registry::new();
    let before = registry
        .counter(Opts::new("before", "Registered first."))
        .unwrap();
    before.get().unwrap().inc_by(4);
    registry.register(Arc::new(HalfDone::new())).unwrap();
    let after = registry.gauge(Opts::new("after", "Registered last.")).unwrap();
    after.get().unwrap().set(5.0);
    registry
}

#[test]
fn a_panicking_collector_is_left_out_and_counted_and_every_other_family_stays() {
    let registry = registry_with_healthy_families();
    let failures = format!(
        "gds_metrics_collector_failures_total{{collector=\"{}\"}}",
        std::any::type_name::<HalfDone>()
    );
    for scrape in 1..=2 {
        let text = registry.render(Format::Text);
        assert!(text.contains("before_total 4.0\n"), "{text}");
        assert!(text.contains("after 5.0\n"), "{text}");
        assert!(
            !text.contains("half_"),
            "nothing of the failed collector:\n{text}"
        );
        assert!(text.contains(&format!("{failures} {scrape}.0\n")), "{text}");
    }
    let open_metrics = registry.render(Format::OpenMetrics);
    assert!(
        open_metrics.ends_with(&format!("{failures} 3.0\n# EOF\n")),
        "{open_metrics}"
    );
    assert!(open_metrics.contains("# TYPE gds_metrics_collector_failures counter\n"));
}

#[test]
fn the_endpoint_answers_200_when_a_collector_panics() {
    let endpoint = Endpoint::new(
        Config::builder().build_with_env(|_| None).unwrap(),
        Arc::new(registry_with_healthy_families()),
    )
    .unwrap();
    for encoding in [&b"identity"[..], b"gzip"] {
        let response = endpoint.handle(&Request::new("GET", "/metrics").header("accept-encoding", encoding));
        assert_eq!(response.status, 200);
    }
    let body = String::from_utf8(endpoint.handle(&Request::new("GET", "/metrics")).body).unwrap();
    assert!(
        body.contains("before_total 4.0\n") && body.contains("after 5.0\n"),
        "{body}"
    );
    assert!(!body.contains("half_"), "{body}");
}

#[test]
fn failures_are_counted_per_collector_name_and_recovery_shows_the_family_again() {
    let registry = Registry::new();
    let desc = Descriptor::new(Opts::new("queue_depth", "Depth."), MetricType::Gauge).unwrap();
    let flaky = Arc::new(Flaky {
        desc,
        failing: AtomicBool::new(true),
    });
    registry.register(flaky.clone()).unwrap();
    let failures = "gds_metrics_collector_failures_total{collector=\"queue_depth_collector\"}";

    let text = registry.render(Format::Text);
    assert!(text.contains(&format!("{failures} 1.0\n")), "{text}");
    assert!(!text.contains("queue_depth "), "{text}");

    flaky.failing.store(false, Ordering::Relaxed);
    let text = registry.render(Format::Text);
    assert!(text.contains("queue_depth 3.0\n"), "{text}");
    assert!(
        text.contains(&format!("{failures} 1.0\n")),
        "a counter never goes back:\n{text}"
    );
}

#[test]
fn a_family_is_named_by_its_metric_and_a_collector_by_its_type() {
    let registry = Registry::new();
    let family = registry.counter(Opts::new("jobs", "Jobs.")).unwrap();
    assert_eq!(family.name(), "jobs");
    assert_eq!(HalfDone::new().name(), std::any::type_name::<HalfDone>());
    assert!(HalfDone::new().name().ends_with("::collector_failures::HalfDone"));
}

#[test]
fn the_failure_counter_name_is_reserved() {
    let registry = Registry::new();
    for name in [
        "gds_metrics_collector_failures",
        "gds_metrics_collector_failures_total",
    ] {
        let err = registry.gauge(Opts::new(name, "Mine.")).unwrap_err();
        assert!(matches!(err, Error::ReservedName { .. }), "{name}: {err}");
    }
}

/// Writes its family, then finds it cannot finish and says so without panicking, as a
/// binding's collector does when a callback into its language raises.
struct GaveUp(Descriptor);

impl Collector for GaveUp {
    fn descriptors(&self) -> Vec<Descriptor> {
        vec![self.0.clone()]
    }

    fn collect(&self, encoder: &mut Encoder<'_>) {
        encoder
            .family(&self.0)
            .series::<&str>(&[], None, &SeriesValue::Gauge(1.0));
        encoder.fail();
    }

    fn name(&self) -> String {
        "gave_up".to_owned()
    }
}

#[test]
fn a_collector_that_reports_failure_is_left_out_and_counted() {
    let registry = registry_with_healthy_families();
    let desc = Descriptor::new(Opts::new("partial", "Partial."), MetricType::Gauge).unwrap();
    registry.register(Arc::new(GaveUp(desc))).unwrap();
    let text = registry.render(Format::Text);
    assert!(!text.contains("partial"), "{text}");
    assert!(text.contains("after 5.0\n"), "{text}");
    assert!(
        text.contains("gds_metrics_collector_failures_total{collector=\"gave_up\"} 1.0\n"),
        "{text}"
    );
}
