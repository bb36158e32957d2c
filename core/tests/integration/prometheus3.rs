//! What Prometheus 3 reads: UTF-8 names quoted or escaped as negotiated, exemplars in
//! OpenMetrics and protobuf, native histogram buckets in protobuf, checked by decoding
//! the protobuf output with the crate's `prost` messages.

use gds_metrics::exposition::proto::{decode_delimited, MetricFamily};
use gds_metrics::{Escaping, Format, NativeBuckets, Opts, Registry};

fn protobuf(registry: &Registry, escaping: Escaping) -> Vec<MetricFamily> {
    let mut body = Vec::new();
    registry.encode_with(Format::Protobuf, escaping, &mut body);
    decode_delimited(&body).expect("a delimited protobuf stream")
}

fn utf8_registry() -> Registry {
    let registry = Registry::new();
    let requests = registry
        .counter(Opts::new("http.server.requests", "Requests.").labels(["http.method", "code"]))
        .unwrap();
    requests.labels(&["GET", "200"]).unwrap().inc_by(2);
    registry
}

#[test]
fn utf8_names_are_quoted_where_the_format_allows() {
    let om = utf8_registry().render_with(Format::OpenMetrics, Escaping::AllowUtf8);
    assert!(om.contains("# TYPE \"http.server.requests\" counter\n"), "{om}");
    assert!(
        om.contains("{\"http.server.requests_total\",\"http.method\"=\"GET\",code=\"200\"} 2.0\n"),
        "{om}"
    );
    let text = utf8_registry().render_with(Format::TextV1, Escaping::AllowUtf8);
    assert!(
        text.contains("# HELP \"http.server.requests_total\" Requests.\n"),
        "{text}"
    );
}

#[test]
fn utf8_names_are_escaped_by_the_negotiated_scheme_elsewhere() {
    for (format, escaping, sample) in [
        (
            Format::Text,
            Escaping::AllowUtf8,
            "http_server_requests_total{http_method=\"GET\",code=\"200\"} 2.0",
        ),
        (
            Format::OpenMetrics,
            Escaping::Underscores,
            "http_server_requests_total{http_method=\"GET\"",
        ),
        (
            Format::TextV1,
            Escaping::Dots,
            "http_dot_server_dot_requests_total{http_dot_method=\"GET\"",
        ),
        (
            Format::TextV1,
            Escaping::Values,
            "U__http_2e_server_2e_requests_total{U__http_2e_method=\"GET\"",
        ),
    ] {
        let out = utf8_registry().render_with(format, escaping);
        assert!(out.contains(sample), "{format:?} {escaping:?}:\n{out}");
    }
    let families = protobuf(&utf8_registry(), Escaping::Underscores);
    assert_eq!(families[0].name(), "http_server_requests_total");
    let families = protobuf(&utf8_registry(), Escaping::AllowUtf8);
    assert_eq!(families[0].name(), "http.server.requests_total");
    assert_eq!(families[0].metric[0].label[0].name(), "http.method");
}

#[test]
fn exemplars_appear_in_openmetrics_and_protobuf() {
    let registry = Registry::new();
    let jobs = registry
        .counter(Opts::new("jobs", "Jobs."))
        .unwrap()
        .get()
        .unwrap();
    jobs.inc_with_exemplar(1.0, &[("trace_id", "abc123"), ("span_id", "def")])
        .unwrap();
    let latency = registry
        .histogram(Opts::new("latency_seconds", "Latency."), Some(&[0.1, 1.0]))
        .unwrap()
        .get()
        .unwrap();
    latency.observe_with_exemplar(0.5, &[("trace_id", "t1")]).unwrap();
    assert!(jobs
        .inc_with_exemplar(1.0, &[("trace_id", &"x".repeat(130))])
        .is_err());
    assert_eq!(jobs.get(), 1.0, "a refused exemplar adds nothing");

    let om = registry.render(Format::OpenMetrics);
    assert!(
        om.contains("jobs_total 1.0 # {trace_id=\"abc123\",span_id=\"def\"} 1.0 "),
        "{om}"
    );
    assert!(
        om.contains("latency_seconds_bucket{le=\"1.0\"} 1.0 # {trace_id=\"t1\"} 0.5 "),
        "{om}"
    );
    let text = registry.render(Format::Text);
    assert!(
        !text.contains("trace_id"),
        "text formats carry no exemplars:\n{text}"
    );

    let families = protobuf(&registry, Escaping::Underscores);
    let counter = families[0].metric[0].counter.as_ref().unwrap();
    assert_eq!(counter.exemplar.as_ref().unwrap().label[0].value(), "abc123");
    assert!(counter.created_timestamp.is_some());
    let histogram = families[1].metric[0].histogram.as_ref().unwrap();
    assert_eq!(histogram.bucket[1].exemplar.as_ref().unwrap().value, Some(0.5));
}

#[test]
fn native_histograms_carry_sparse_buckets_in_protobuf() {
    let registry = Registry::new();
    let h = registry
        .native_histogram(
            Opts::new("rpc_seconds", "RPC time."),
            NativeBuckets::new().schema(0),
            None,
        )
        .unwrap()
        .get()
        .unwrap();
    for v in [0.0, 1.0, 1.5, 3.0, 3.5, -2.0] {
        h.observe(v).unwrap();
    }
    h.observe_with_exemplar(3.0, &[("trace_id", "n1")]).unwrap();
    let families = protobuf(&registry, Escaping::Underscores);
    let hist = families[0].metric[0].histogram.as_ref().unwrap();
    assert_eq!(hist.sample_count, Some(7));
    assert_eq!(hist.sample_sum, Some(10.0));
    assert_eq!(hist.schema, Some(0));
    assert_eq!(hist.zero_count, Some(1));
    assert!(hist.bucket.is_empty(), "native-only: no classic buckets");
    // Schema 0: 1.0 -> bucket 0, 1.5 -> 1, 3.0 and 3.5 (and the exemplar's 3.0) -> 2.
    let spans: Vec<(i32, u32)> = hist
        .positive_span
        .iter()
        .map(|s| (s.offset(), s.length()))
        .collect();
    assert_eq!(spans, vec![(0, 3)]);
    assert_eq!(hist.positive_delta, vec![1, 0, 2]);
    assert_eq!(hist.negative_delta, vec![1]);
    assert_eq!(hist.exemplars.len(), 1);

    let text = registry.render(Format::Text);
    assert!(
        text.contains("rpc_seconds_bucket{le=\"+Inf\"} 7.0\nrpc_seconds_count 7.0\nrpc_seconds_sum 10.0\n"),
        "{text}"
    );
}

#[test]
fn native_histograms_can_keep_classic_buckets_beside() {
    let registry = Registry::new();
    let h = registry
        .native_histogram(Opts::new("both", "h"), NativeBuckets::new(), Some(&[1.0]))
        .unwrap()
        .get()
        .unwrap();
    h.observe(0.5).unwrap();
    h.observe(2.0).unwrap();
    let families = protobuf(&registry, Escaping::Underscores);
    let hist = families[0].metric[0].histogram.as_ref().unwrap();
    assert_eq!(hist.bucket.len(), 2);
    assert_eq!(hist.schema, Some(5));
    assert!(registry
        .render(Format::Text)
        .contains("both_bucket{le=\"1.0\"} 1.0\n"));
}

#[test]
fn an_empty_native_histogram_is_still_marked_native() {
    let registry = Registry::new();
    registry
        .native_histogram(Opts::new("idle", "h"), NativeBuckets::new(), None)
        .unwrap();
    let families = protobuf(&registry, Escaping::Underscores);
    let hist = families[0].metric[0].histogram.as_ref().unwrap();
    assert_eq!(hist.positive_span.len(), 1);
}

#[test]
fn every_metric_type_decodes_from_protobuf() {
    let registry = Registry::new();
    registry
        .gauge(Opts::new("temperature", "t").labels(["room"]))
        .unwrap()
        .labels(&["hall"])
        .unwrap()
        .set(-1.5);
    registry
        .info(Opts::new("build", "b").labels(["version"]))
        .unwrap()
        .labels(&["1.2"])
        .unwrap();
    let s = registry
        .summary(Opts::new("size_bytes", "s").unit("bytes"))
        .unwrap()
        .get()
        .unwrap();
    s.observe(3.0).unwrap();
    let families = protobuf(&registry, Escaping::Underscores);
    let by_name = |name: &str| {
        families
            .iter()
            .find(|f| f.name() == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    let gauge = &by_name("temperature").metric[0];
    assert_eq!(gauge.gauge.as_ref().unwrap().value, Some(-1.5));
    assert_eq!((gauge.label[0].name(), gauge.label[0].value()), ("room", "hall"));
    assert_eq!(
        by_name("build_info").metric[0].gauge.as_ref().unwrap().value,
        Some(1.0)
    );
    let summary = by_name("size_bytes");
    assert_eq!(summary.unit(), "bytes");
    assert_eq!(summary.metric[0].summary.as_ref().unwrap().sample_count, Some(1));
}

use crate::scrape_time;

/// A state set `worker.state` with the label `queue.name`, handed over at scrape time.
fn utf8_state_set() -> Registry {
    let registry = Registry::new();
    let states = scrape_time::state_set(
        "worker.state",
        "What the worker does.",
        &["queue.name"],
        vec![(vec!["mail"], vec![("idle", false), ("busy", true)])],
    );
    registry.register(std::sync::Arc::new(states)).unwrap();
    registry
}

#[test]
fn a_state_sets_state_label_is_quoted_or_escaped_like_its_name() {
    let registry = utf8_state_set();
    let om = registry.render_with(Format::OpenMetrics, Escaping::AllowUtf8);
    assert!(om.contains("# TYPE \"worker.state\" stateset\n"), "{om}");
    assert!(
        om.contains("{\"worker.state\",\"queue.name\"=\"mail\",\"worker.state\"=\"busy\"} 1.0\n"),
        "{om}"
    );
    let text = registry.render_with(Format::TextV1, Escaping::Dots);
    assert!(text.contains("# TYPE worker_dot_state gauge\n"), "{text}");
    assert!(
        text.contains("worker_dot_state{queue_dot_name=\"mail\",worker_dot_state=\"idle\"} 0.0\n"),
        "{text}"
    );
    let family = protobuf(&registry, Escaping::AllowUtf8).remove(0);
    assert_eq!(family.name(), "worker.state");
    let labels: Vec<(&str, &str)> = family.metric[1]
        .label
        .iter()
        .map(|l| (l.name(), l.value()))
        .collect();
    assert_eq!(labels, [("queue.name", "mail"), ("worker.state", "busy")]);
    assert_eq!(family.metric[1].gauge.as_ref().unwrap().value, Some(1.0));
}
