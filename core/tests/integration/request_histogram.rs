//! The request duration's native buckets and the trace exemplars of the request metrics:
//! what each format shows, how one registry's endpoints agree on the setting, and which
//! traced requests of one clock tick keep their trace.

use gds_metrics::exposition::proto::decode_delimited;
use gds_metrics::{Config, Endpoint, Error, ErrorKind, Escaping, FinishedRequest, Format, Registry, Route};
use std::sync::Arc;

const TRACE_A: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const TRACE_B: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const TRACE_C: &str = "00-11111111111111111111111111111111-2222222222222222-01";

fn endpoint(native: bool) -> Endpoint {
    let config = Config::builder()
        .request_native_histogram(native)
        .build_with_env(|_| None)
        .unwrap();
    Endpoint::new(config, Arc::new(Registry::new())).unwrap()
}

fn record(endpoint: &Endpoint, route: &str, seconds: f64, traceparent: &str) {
    endpoint.record(&FinishedRequest {
        method: "GET",
        host: b"app.example",
        raw_path: route,
        route: Route::Template(route),
        status: 200,
        seconds,
        exception: None,
        traceparent: traceparent.as_bytes(),
    });
}

/// An OpenMetrics scrape without the exemplars' timestamps, the one part that depends on
/// when a request was recorded.
fn without_exemplar_timestamps(text: &str) -> String {
    text.lines()
        .map(|line| match line.split_once(" # {") {
            Some(_) => line.rsplit_once(' ').unwrap().0,
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn native_buckets_leave_the_text_and_openmetrics_scrapes_as_they_were() {
    let (native, classic) = (endpoint(true), endpoint(false));
    for endpoint in [&native, &classic] {
        record(endpoint, "/", 0.01, TRACE_A);
        record(endpoint, "/", 0.3, "");
        record(endpoint, "/users/<id>", 7.0, TRACE_B);
    }
    let render = |endpoint: &Endpoint, format| endpoint.registry().render(format);
    assert_eq!(render(&native, Format::Text), render(&classic, Format::Text));
    let openmetrics = render(&native, Format::OpenMetrics);
    assert_eq!(
        without_exemplar_timestamps(&openmetrics),
        without_exemplar_timestamps(&render(&classic, Format::OpenMetrics))
    );
    assert!(
        openmetrics.contains(
            "http_server_request_duration_seconds_bucket{method=\"GET\",host=\"app.example\",path=\"/\",\
             code=\"200\",le=\"0.01\"} 1.0 # {trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\",\
             span_id=\"00f067aa0ba902b7\"} 0.01 "
        ),
        "{openmetrics}"
    );
}

#[test]
fn protobuf_gives_the_native_histogram_every_trace_of_the_series() {
    let endpoint = endpoint(true);
    record(&endpoint, "/", 0.01, TRACE_A);
    record(&endpoint, "/", 7.0, TRACE_B);
    let mut body = Vec::new();
    endpoint
        .registry()
        .encode_with(Format::Protobuf, Escaping::Underscores, &mut body);
    let families = decode_delimited(&body).unwrap();
    let durations = families
        .iter()
        .find(|f| f.name.as_deref() == Some("http_server_request_duration_seconds"))
        .unwrap();
    let histogram = durations.metric[0].histogram.as_ref().unwrap();
    assert_eq!((histogram.schema, histogram.sample_count), (Some(5), Some(2)));
    assert_eq!(histogram.bucket.len(), 15, "the classic buckets stay beside");
    let traces: Vec<(String, f64)> = histogram
        .exemplars
        .iter()
        .map(|e| (e.label[0].value.clone().unwrap(), e.value.unwrap()))
        .collect();
    assert_eq!(
        traces,
        [
            ("4bf92f3577b34da6a3ce929d0e0e4736".to_owned(), 0.01),
            ("0af7651916cd43dd8448eb211c80319c".to_owned(), 7.0),
        ],
        "one per classic bucket holding one, in bucket order"
    );
    assert!(histogram.exemplars.iter().all(|e| e.timestamp.is_some()));
}

#[test]
fn endpoints_of_one_registry_must_agree_on_native_buckets() {
    let registry = Arc::new(Registry::new());
    let config = |native| {
        Config::builder()
            .request_native_histogram(native)
            .build_with_env(|_| None)
            .unwrap()
    };
    let first = Endpoint::new(config(true), registry.clone()).unwrap();
    assert!(first.request_metrics().native_histogram());
    Endpoint::new(config(true), registry.clone()).expect("the same setting shares the families");
    let error = Endpoint::new(config(false), registry.clone()).unwrap_err();
    assert!(matches!(error, Error::SharedSettingMismatch { .. }), "{error:?}");
    assert_eq!(error.kind(), ErrorKind::Configuration);
    assert_eq!(
        error.to_string(),
        "the request metrics of this registry were registered with `request_native_histogram` on by an \
         earlier endpoint, but this endpoint has it off; give every endpoint serving one registry the \
         same `request_native_histogram` (or `METRICS_REQUEST_NATIVE_HISTOGRAM`)"
    );
}

#[test]
fn the_environment_switches_native_buckets_off_and_a_bad_value_names_the_variable() {
    let env = |value: &'static str| {
        move |name: &str| (name == "METRICS_REQUEST_NATIVE_HISTOGRAM").then(|| value.to_owned())
    };
    let config = |value| Config::builder().build_with_env(env(value));
    assert!(Config::builder()
        .build_with_env(|_| None)
        .unwrap()
        .request_native_histogram());
    assert!(!config("FALSE").unwrap().request_native_histogram());
    assert!(config("true").unwrap().request_native_histogram());
    let in_code = Config::builder()
        .request_native_histogram(true)
        .build_with_env(env("false"))
        .unwrap();
    assert!(
        in_code.request_native_histogram(),
        "code wins over the environment"
    );
    let error = config("0").unwrap_err();
    assert_eq!(
        error.to_string(),
        "`METRICS_REQUEST_NATIVE_HISTOGRAM` must be `true` or `false` (any case), got `0`; unset it for the default"
    );
}

/// The coarse clock whose ticks the request metrics claim.
fn coarse_tick() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec to write into.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut now) };
    assert_eq!(status, 0);
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}

/// The trace ids of the exemplar lines of an OpenMetrics scrape, by the line's sample up
/// to its value.
fn traces(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let (sample, exemplar) = line.split_once(" # {trace_id=\"")?;
            Some((sample.to_owned(), exemplar[..32].to_owned()))
        })
        .collect()
}

#[test]
fn in_one_clock_tick_each_duration_bucket_of_a_series_keeps_the_first_trace() {
    let series = r#"method="GET",host="app.example",path="/",code="200""#;
    // Three requests within one tick of the coarse clock; a tick lasts milliseconds, so
    // a few attempts always find one.
    for _ in 0..100 {
        let endpoint = endpoint(true);
        let before = coarse_tick();
        record(&endpoint, "/", 0.02, TRACE_A);
        record(&endpoint, "/", 3.0, TRACE_B);
        record(&endpoint, "/", 0.021, TRACE_C);
        if coarse_tick() != before {
            continue;
        }
        let text = endpoint.registry().render(Format::OpenMetrics);
        assert_eq!(
            traces(&text),
            [
                (
                    format!("http_server_requests_total{{{series}}} 3.0"),
                    TRACE_B[3..35].to_owned()
                ),
                (
                    format!("http_server_request_duration_seconds_bucket{{{series},le=\"0.025\"}} 2.0"),
                    TRACE_A[3..35].to_owned()
                ),
                (
                    format!("http_server_request_duration_seconds_bucket{{{series},le=\"5.0\"}} 3.0"),
                    TRACE_B[3..35].to_owned()
                ),
            ],
            "the slow request marks its bucket; the second fast one leaves the first's\n{text}"
        );
        return;
    }
    panic!("no three requests fitted in one tick of the coarse clock");
}
