//! Every mistake made while defining or using a metric is a typed error at the call that
//! made it (CONTRACT section 3), and a failed registration leaves the registry unchanged.

use gds_metrics::{
    Collector, Descriptor, Encoder, Error, Format, MetricType, NameValidation, Opts, Registry,
};
use std::sync::Arc;

#[test]
fn utf8_names_are_accepted_and_empty_ones_rejected() {
    let registry = Registry::new();
    for ok in ["9lives", "a-b", "a b c", "é", "http.server.duration"] {
        registry
            .gauge(Opts::new(ok, "h").labels(["http.method", "é"]))
            .unwrap();
    }
    assert!(matches!(
        registry.gauge(Opts::new("", "h")),
        Err(Error::InvalidMetricName { .. })
    ));
    assert!(matches!(
        registry.gauge(Opts::new("g", "h").labels(["__x"])),
        Err(Error::InvalidLabelName { .. })
    ));
}

#[test]
fn legacy_validation_is_per_family_or_per_registry() {
    let registry = Registry::new();
    assert!(registry
        .gauge(Opts::new("a.b", "h").name_validation(NameValidation::Legacy))
        .is_err());
    registry.set_name_validation(NameValidation::Legacy);
    assert!(registry.gauge(Opts::new("c.d", "h")).is_err());
    registry
        .gauge(Opts::new("e.f", "h").name_validation(NameValidation::Utf8))
        .unwrap();
}

#[test]
fn invalid_metric_names_are_rejected_with_the_name() {
    let registry = Registry::new();
    registry.set_name_validation(NameValidation::Legacy);
    for bad in ["", "9lives", "a-b", "a b", "é", "line\nbreak"] {
        match registry.gauge(Opts::new(bad, "h")) {
            Err(Error::InvalidMetricName { name, .. }) => assert_eq!(name, bad),
            other => panic!("{bad:?} gave {other:?}"),
        }
    }
}

#[test]
fn invalid_label_names_are_rejected_with_metric_and_label() {
    let registry = Registry::new();
    registry.set_name_validation(NameValidation::Legacy);
    for bad in ["", "a:b", "__reserved", "1st", "a-b", "é"] {
        match registry.counter(Opts::new("jobs", "h").labels([bad])) {
            Err(Error::InvalidLabelName { metric, name, .. }) => {
                assert_eq!((metric.as_str(), name.as_str()), ("jobs", bad));
            }
            other => panic!("{bad:?} gave {other:?}"),
        }
    }
}

#[test]
fn labels_the_exposition_adds_itself_are_reserved() {
    let registry = Registry::new();
    assert!(matches!(
        registry.histogram(Opts::new("h", "h").labels(["le"]), None),
        Err(Error::InvalidLabelName { name, .. }) if name == "le"
    ));
    assert!(matches!(
        registry.summary(Opts::new("s", "h").labels(["quantile"])),
        Err(Error::InvalidLabelName { name, .. }) if name == "quantile"
    ));
}

#[test]
fn a_label_given_twice_is_rejected() {
    let err = Registry::new()
        .gauge(Opts::new("g", "h").labels(["a", "b", "a"]))
        .unwrap_err();
    assert_eq!(
        err,
        Error::DuplicateLabelName {
            metric: "g".into(),
            name: "a".into()
        }
    );
}

#[test]
fn registering_the_same_name_twice_is_a_duplicate() {
    let registry = Registry::new();
    registry.counter(Opts::new("jobs", "h")).unwrap();
    let err = registry.counter(Opts::new("jobs_total", "h")).unwrap_err();
    assert!(matches!(err, Error::Duplicate { .. }), "{err:?}");
}

/// Registers one family, for the table of clashing pairs below.
type Register = fn(&Registry) -> gds_metrics::Result<()>;

#[test]
fn families_whose_samples_would_collide_are_duplicates() {
    let cases: [(&str, Register, Register); 4] = [
        (
            "requests_total",
            |r| r.counter(Opts::new("requests", "h")).map(drop),
            |r| r.gauge(Opts::new("requests_total", "h")).map(drop),
        ),
        (
            "latency_count",
            |r| r.histogram(Opts::new("latency", "h"), None).map(drop),
            |r| r.gauge(Opts::new("latency_count", "h")).map(drop),
        ),
        (
            "payload_sum",
            |r| r.summary(Opts::new("payload", "h")).map(drop),
            |r| r.counter(Opts::new("payload_sum", "h")).map(drop),
        ),
        (
            "build_info",
            |r| r.info(Opts::new("build", "h")).map(drop),
            |r| r.gauge(Opts::new("build_info", "h")).map(drop),
        ),
    ];
    for (clash, first, second) in cases {
        let registry = Registry::new();
        first(&registry).unwrap();
        assert_eq!(second(&registry), Err(Error::Duplicate { name: clash.into() }));
    }
}

#[test]
fn a_failed_registration_leaves_the_registry_unchanged() {
    let registry = Registry::new();
    registry.gauge(Opts::new("up", "h")).unwrap();
    let before = registry.render(Format::Text);
    assert!(registry.gauge(Opts::new("up", "other help")).is_err());
    assert!(registry.gauge(Opts::new("", "h")).is_err());
    assert_eq!(registry.render(Format::Text), before);
}

#[test]
fn unregistering_frees_the_name() {
    let registry = Registry::new();
    registry
        .counter(Opts::new("jobs", "h"))
        .unwrap()
        .get()
        .unwrap()
        .inc();
    assert!(registry.unregister("jobs"));
    assert!(!registry.unregister("jobs"));
    assert_eq!(registry.render(Format::Text), "");
    registry.counter(Opts::new("jobs", "h")).unwrap();
    assert_eq!(
        registry.render(Format::Text),
        "# HELP jobs_total h\n# TYPE jobs_total counter\njobs_total 0.0\n"
    );
}

struct TwoFamilies(Vec<Descriptor>);

impl Collector for TwoFamilies {
    fn descriptors(&self) -> Vec<Descriptor> {
        self.0.clone()
    }
    fn collect(&self, _: &mut Encoder<'_>) {}
}

#[test]
fn a_collector_whose_own_families_clash_is_refused() {
    let desc = |name: &str, kind| Descriptor::new(Opts::new(name, "h"), kind).unwrap();
    let collector = TwoFamilies(vec![
        desc("queue", MetricType::Histogram),
        desc("queue_sum", MetricType::Gauge),
    ]);
    let registry = Registry::new();
    assert_eq!(
        registry.register(Arc::new(collector)),
        Err(Error::Duplicate {
            name: "queue_sum".into()
        })
    );
}

#[test]
fn wrong_numbers_of_label_values_are_errors_on_every_call() {
    let registry = Registry::new();
    let family = registry
        .counter(Opts::new("jobs", "h").labels(["queue", "outcome"]))
        .unwrap();
    let expected = Error::LabelCount {
        metric: "jobs".into(),
        expected: 2,
        got: 1,
        names: "queue, outcome".into(),
    };
    assert_eq!(family.labels(&["email"]).unwrap_err(), expected);
    assert_eq!(family.with(&["email"], |c| c.inc()).unwrap_err(), expected);
    assert_eq!(family.remove(&["email"]).unwrap_err(), expected);
    assert!(matches!(family.get(), Err(Error::LabelCount { got: 0, .. })));
    assert!(matches!(
        family.labels(&["a", "b", "c"]),
        Err(Error::LabelCount { got: 3, .. })
    ));

    let solo = registry.gauge(Opts::new("up", "h")).unwrap();
    assert!(matches!(
        solo.labels(&["x"]),
        Err(Error::LabelCount {
            expected: 0,
            got: 1,
            ..
        })
    ));
}

#[test]
fn counters_refuse_negative_and_non_finite_increments() {
    let counter = Registry::new()
        .counter(Opts::new("c", "h"))
        .unwrap()
        .get()
        .unwrap();
    for bad in [-1.0, -0.001, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert!(
            matches!(counter.inc_by_f64(bad), Err(Error::NegativeIncrement { ref metric, .. }) if metric == "c"),
            "{bad}"
        );
    }
    assert_eq!(counter.get(), 0.0);
    counter.inc_by_f64(0.0).unwrap();
    counter.inc_by_f64(1.5).unwrap();
    assert_eq!(counter.get(), 1.5);
}

#[test]
fn histogram_buckets_must_be_finite_and_strictly_rising() {
    let registry = Registry::new();
    let bad_bounds: [&[f64]; 5] = [
        &[],
        &[2.0, 1.0],
        &[1.0, 1.0],
        &[f64::NAN],
        &[f64::NEG_INFINITY, 1.0],
    ];
    for bounds in bad_bounds {
        assert!(
            matches!(
                registry.histogram(Opts::new("h", "h"), Some(bounds)),
                Err(Error::InvalidBuckets { ref metric, .. }) if metric == "h"
            ),
            "{bounds:?}"
        );
    }
    let h = registry
        .histogram(Opts::new("h", "h"), Some(&[1.0, f64::INFINITY]))
        .unwrap();
    assert_eq!(h.config().bounds(), &[1.0]);
}

#[test]
fn units_must_be_the_end_of_the_name() {
    let registry = Registry::new();
    assert!(matches!(
        registry.gauge(Opts::new("latency", "h").unit("seconds")),
        Err(Error::InvalidUnit { .. })
    ));
    assert!(matches!(
        registry.gauge(Opts::new("size_k-b", "h").unit("k-b")),
        Err(Error::InvalidMetricName { .. }) | Err(Error::InvalidUnit { .. })
    ));
    assert!(matches!(
        registry.gauge(Opts::new("size_bytes", "h").unit("by tes")),
        Err(Error::InvalidUnit { .. })
    ));
    registry
        .gauge(Opts::new("size_bytes", "h").unit("bytes"))
        .unwrap();
}

#[test]
fn error_messages_say_what_to_do() {
    let err = Registry::new()
        .gauge(Opts::new("9lives", "h").name_validation(NameValidation::Legacy))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid metric name `9lives`: it holds a character outside [a-zA-Z0-9_:] or starts with a digit \
         (legacy names were asked for)"
    );
}

#[test]
fn clashes_tells_whether_a_family_would_collide_without_registering_it() {
    let registry = Registry::new();
    registry.counter(Opts::new("jobs", "Jobs.")).unwrap();
    let gauge = |name: &str| Descriptor::new(Opts::new(name, "h"), MetricType::Gauge).unwrap();
    assert!(registry.clashes(&gauge("jobs_total")));
    assert!(registry.clashes(&gauge("jobs")));
    assert!(!registry.clashes(&gauge("queue_depth")));
    registry.gauge(Opts::new("queue_depth", "Depth.")).unwrap();
}
