//! Format and compression negotiation through the endpoint: the `Content-Type` and
//! `Content-Encoding` chosen for each `Accept` / `Accept-Encoding`, and that the body
//! decodes to the format announced.

use flate2::read::GzDecoder;
use gds_metrics::exposition::proto::decode_delimited;
use gds_metrics::{Config, Endpoint, Opts, Registry, Request, Response};
use std::io::Read;
use std::sync::Arc;

const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const OPENMETRICS_UTF8: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8";
const TEXT_V1: &str = "text/plain; version=1.0.0; charset=utf-8; escaping=underscores";
const PROTOBUF: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=underscores";

/// Prometheus 2.0 to 2.48.
const PROMETHEUS_2_0: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
/// Prometheus 2.49 and later 2.x, default scrape protocols.
const PROMETHEUS_2_49: &str = "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
/// Prometheus 3, default scrape protocols.
const PROMETHEUS_3: &str = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
/// Prometheus with native histograms (`scrape_native_histograms: true`): protobuf first.
const PROMETHEUS_PROTOBUF_FIRST: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
/// Prometheus configured with `scrape_protocols: [PrometheusText0.0.4]`.
const PROMETHEUS_TEXT_ONLY: &str = "text/plain;version=0.0.4;q=0.9,*/*;q=0.8";
/// What a browser sends.
const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

fn endpoint() -> Endpoint {
    let registry = Arc::new(Registry::new());
    let jobs = registry.counter(Opts::new("jobs", "Jobs done.")).unwrap();
    jobs.get().unwrap().inc_by(3);
    let config = Config::builder().build_with_env(|_| None).unwrap();
    Endpoint::new(config, registry).unwrap()
}

fn scrape(accept: Option<&str>, accept_encoding: Option<&str>) -> Response {
    let endpoint = endpoint();
    let mut request = Request::new("GET", "/metrics");
    if let Some(accept) = accept {
        request = request.header("Accept", accept.as_bytes());
    }
    if let Some(encoding) = accept_encoding {
        request = request.header("Accept-Encoding", encoding.as_bytes());
    }
    endpoint.handle(&request)
}

fn decoded_body(response: &Response) -> String {
    match response.header("content-encoding") {
        Some("gzip") => {
            let mut text = String::new();
            GzDecoder::new(&response.body[..])
                .read_to_string(&mut text)
                .expect("valid gzip");
            text
        }
        None => String::from_utf8(response.body.clone()).expect("UTF-8 body"),
        Some(other) => panic!("unexpected encoding {other}"),
    }
}

fn assert_format(accept: Option<&str>, content_type: &str) {
    let response = scrape(accept, None);
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some(content_type),
        "Accept: {accept:?}"
    );
    if content_type.starts_with("application/vnd.google.protobuf") {
        let families = decode_delimited(&response.body).expect("a delimited protobuf body");
        let jobs = families
            .iter()
            .find(|f| f.name() == "jobs_total")
            .expect("jobs_total");
        assert_eq!(jobs.metric[0].counter.as_ref().unwrap().value, Some(3.0));
        return;
    }
    let body = decoded_body(&response);
    assert!(body.contains("jobs_total 3"), "{body}");
    assert_eq!(
        body.ends_with("# EOF\n"),
        content_type.starts_with("application/openmetrics-text"),
        "Accept: {accept:?}"
    );
}

#[test]
fn prometheus_default_accept_headers_get_openmetrics() {
    for accept in [PROMETHEUS_2_0, PROMETHEUS_2_49] {
        assert_format(Some(accept), OPENMETRICS);
    }
    assert_format(Some(PROMETHEUS_3), OPENMETRICS_UTF8);
}

#[test]
fn prometheus_with_native_histograms_gets_protobuf() {
    assert_format(Some(PROMETHEUS_PROTOBUF_FIRST), PROTOBUF);
    assert_format(
        Some("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;escaping=allow-utf-8"),
        &PROTOBUF.replace("underscores", "allow-utf-8"),
    );
}

#[test]
fn protobuf_needs_the_delimited_metric_family_encoding() {
    assert_format(Some("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text,text/plain;q=0.1"), TEXT);
    assert_format(Some("application/vnd.google.protobuf;encoding=delimited"), TEXT);
}

#[test]
fn text_1_0_0_is_served_and_the_escaping_is_echoed() {
    assert_format(Some("text/plain;version=1.0.0"), TEXT_V1);
    assert_format(
        Some("text/plain;version=1.0.0;escaping=values"),
        &TEXT_V1.replace("underscores", "values"),
    );
    assert_format(
        Some("text/plain;version=0.0.4;escaping=allow-utf-8"),
        &format!("{TEXT}; escaping=underscores"),
    );
}

#[test]
fn prometheus_asking_for_text_only_gets_text() {
    assert_format(Some(PROMETHEUS_TEXT_ONLY), TEXT);
}

#[test]
fn missing_empty_wildcard_and_unsupported_accept_get_text() {
    for accept in [
        None,
        Some(""),
        Some("*/*"),
        Some("text/*"),
        Some("application/json"),
        Some(BROWSER),
        Some(",,;;"),
    ] {
        assert_format(accept, TEXT);
    }
}

#[test]
fn the_highest_q_value_wins() {
    assert_format(Some("text/plain;q=0.9,application/openmetrics-text;q=0.8"), TEXT);
    assert_format(
        Some("text/plain;q=0.8,application/openmetrics-text;q=0.9"),
        OPENMETRICS,
    );
    assert_format(
        Some("text/plain;version=0.0.4;q=0.1,application/openmetrics-text;version=1.0.0;q=1.0"),
        OPENMETRICS,
    );
}

#[test]
fn on_equal_q_values_the_more_specific_then_earlier_range_wins() {
    assert_format(Some("*/*,application/openmetrics-text"), OPENMETRICS);
    assert_format(Some("application/openmetrics-text,text/plain"), OPENMETRICS);
    assert_format(Some("text/plain,application/openmetrics-text"), TEXT);
}

#[test]
fn q_zero_refuses_a_format() {
    assert_format(Some("application/openmetrics-text;q=0,text/plain;q=0.1"), TEXT);
    assert_format(Some("application/openmetrics-text;q=0"), TEXT);
}

#[test]
fn unsupported_versions_are_skipped() {
    assert_format(Some("application/openmetrics-text;version=0.0.1"), TEXT);
    assert_format(
        Some("application/openmetrics-text;version=2.0.0,text/plain;q=0.1"),
        TEXT,
    );
    assert_format(
        Some("text/plain;version=2.0.0;q=1,application/openmetrics-text;q=0.5"),
        OPENMETRICS,
    );
}

#[test]
fn media_types_and_parameters_are_case_insensitive() {
    assert_format(
        Some("Application/OpenMetrics-Text; Version=1.0.0; Q=1"),
        OPENMETRICS,
    );
}

#[test]
fn malformed_q_values_drop_only_their_range() {
    assert_format(Some("application/openmetrics-text;q=abc,text/plain;q=0.1"), TEXT);
    assert_format(Some("application/openmetrics-text;q=2"), TEXT);
}

#[test]
fn gzip_is_used_when_accepted() {
    for encoding in [
        "gzip",
        "gzip, deflate, br",
        "GZIP",
        "deflate;q=1, gzip;q=0.1",
        "*",
        "x-gzip",
    ] {
        let response = scrape(Some(PROMETHEUS_3), Some(encoding));
        assert_eq!(response.header("content-encoding"), Some("gzip"), "{encoding}");
        assert_eq!(response.header("content-type"), Some(OPENMETRICS_UTF8));
        let body = decoded_body(&response);
        assert!(
            body.starts_with("# HELP jobs Jobs done.\n# TYPE jobs counter\njobs_total 3.0\n"),
            "{body}"
        );
        assert!(body.ends_with("\n# EOF\n"), "{encoding}");
    }
}

#[test]
fn gzip_is_not_used_when_refused_or_not_offered() {
    for encoding in [
        None,
        Some(""),
        Some("identity"),
        Some("gzip;q=0"),
        Some("gzip; q=0.000"),
        Some("deflate, br"),
        Some("*;q=0"),
        Some("*, gzip;q=0"),
    ] {
        let response = scrape(None, encoding);
        assert_eq!(response.header("content-encoding"), None, "{encoding:?}");
        let body = String::from_utf8(response.body).unwrap();
        assert!(
            body.starts_with("# HELP jobs_total Jobs done.\n# TYPE jobs_total counter\njobs_total 3.0\n"),
            "{body}"
        );
    }
}

#[test]
fn every_response_carries_vary_and_no_store() {
    for encoding in [None, Some("gzip")] {
        let response = scrape(Some(PROMETHEUS_2_49), encoding);
        assert_eq!(response.header("vary"), Some("Accept, Accept-Encoding"));
        assert_eq!(response.header("cache-control"), Some("no-store"));
    }
}
