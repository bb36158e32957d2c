//! The shared conformance vectors (`tests/vectors/*.json`), run against the core's public
//! API and, with the `axum` feature, through a real axum router with [`MetricsLayer`].
//!
//! The Python, Ruby and Java suites run the same files through their own public APIs, so a
//! behaviour is added once, as a vector, and every language must pass it.

use flate2::read::GzDecoder;
use gds_metrics::exposition::proto::{
    decode_delimited, BucketSpan, Exemplar as ProtoExemplar, Histogram as ProtoHistogram,
};
use gds_metrics::{
    Config, Endpoint, Escaping, FinishedRequest, Format, NativeBuckets, Opts, RaisedException, Registry,
    Request, Response, Route,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;

fn vectors(file: &str) -> Vec<Value> {
    let path = format!("{}/tests/vectors/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"));
    doc["cases"].as_array().expect("a `cases` array").clone()
}

fn str_list(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| items.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

/// The configuration a vector's `settings` give in code, with an empty environment.
fn config(settings: &Value) -> Config {
    let mut builder = Config::builder();
    if let Some(guid) = settings["application_id"].as_str() {
        builder = builder.application_id(guid);
    }
    if let Some(on) = settings["auth_enabled"].as_bool() {
        builder = builder.auth_enabled(on);
    }
    if let Some(path) = settings["metrics_path"].as_str() {
        builder = builder.metrics_path(path);
    }
    if settings.get("routes").is_some() {
        builder = builder.routes(str_list(&settings["routes"]));
    }
    if let Some(on) = settings["trace_exemplars"].as_bool() {
        builder = builder.trace_exemplars(on);
    }
    if let Some(on) = settings["request_native_histogram"].as_bool() {
        builder = builder.request_native_histogram(on);
    }
    builder
        .build_with_env(|_| None)
        .expect("vector settings are valid")
}

fn endpoint(settings: &Value) -> Arc<Endpoint> {
    Arc::new(Endpoint::new(config(settings), Arc::new(Registry::new())).unwrap())
}

fn headers(case: &Value) -> Vec<(String, String)> {
    case["request"]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| {
            (
                pair[0].as_str().unwrap().to_owned(),
                pair[1].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// What a request got: the status, headers by lower-case name, and the decoded body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn from_core(response: Response) -> Answer {
        Answer {
            status: response.status,
            headers: response
                .headers
                .into_iter()
                .map(|(n, v)| (n.to_owned(), v))
                .collect(),
            body: response.body,
        }
    }
}

/// The answer of an app that serves `200 app` for every path but the endpoint's.
fn app_answer() -> Answer {
    Answer {
        status: 200,
        headers: vec![("content-type".to_owned(), "text/plain".to_owned())],
        body: b"app".to_vec(),
    }
}

fn check_answer(case: &Value, answer: &Answer, via: &str) {
    let name = format!("{} ({via})", case["name"].as_str().unwrap());
    let expect = &case["expect"];
    assert_eq!(
        u64::from(answer.status),
        expect["status"].as_u64().unwrap(),
        "{name}: status"
    );
    let from_endpoint = answer.header("cache-control") == Some("no-store");
    match expect["served_by"].as_str().unwrap() {
        "endpoint" => assert!(from_endpoint, "{name}: not answered by the endpoint"),
        _ => {
            assert!(!from_endpoint, "{name}: answered by the endpoint");
            assert_eq!(answer.body, b"app", "{name}: the app's body");
        }
    }
    if let Some(expected) = expect["headers"].as_object() {
        for (header, value) in expected {
            assert_eq!(answer.header(header), value.as_str(), "{name}: header {header}");
        }
    }
    let body = decoded(answer);
    match expect["body"].as_str() {
        Some("exposition") => assert!(
            body.contains("# TYPE http_server_requests"),
            "{name}: body\n{body}"
        ),
        Some("refusal") => assert_eq!(body.trim_end().lines().count(), 1, "{name}: body {body:?}"),
        Some("empty") => assert!(body.is_empty(), "{name}: body {body:?}"),
        _ => {}
    }
}

fn decoded(answer: &Answer) -> String {
    if answer.header("content-encoding") == Some("gzip") {
        let mut text = String::new();
        GzDecoder::new(&answer.body[..])
            .read_to_string(&mut text)
            .unwrap();
        text
    } else {
        String::from_utf8(answer.body.clone()).unwrap()
    }
}

#[test]
fn endpoint_vectors() {
    for case in vectors("endpoint.json") {
        let endpoint = endpoint(&case["settings"]);
        let method = case["request"]["method"].as_str().unwrap();
        let target = case["request"]["target"].as_str().unwrap();
        let headers = headers(&case);
        let answer = if endpoint.matches(target) {
            let request = headers.iter().fold(Request::new(method, target), |r, (n, v)| {
                r.header(n, v.as_bytes())
            });
            Answer::from_core(endpoint.handle(&request))
        } else {
            app_answer()
        };
        check_answer(&case, &answer, "Endpoint::handle");
    }
}

/// The `path` label of a vector's facts; `route` is given as a template or null.
fn route(facts: &Value) -> Route<'_> {
    Route::from_parts(facts["router"].as_bool().unwrap(), facts["route"].as_str())
}

fn exception(facts: &Value) -> Option<RaisedException<'_>> {
    let raised = facts.get("exception").filter(|e| !e.is_null())?;
    Some(RaisedException {
        class_name: raised["class"].as_str(),
        named_ancestor: raised["ancestor"].as_str(),
        escaped: raised["escaped"].as_bool().unwrap(),
    })
}

/// The exposition line of `family` with exactly these label pairs, if any.
fn sample(text: &str, family: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let rendered: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    let prefix = format!("{family}{{{}}} ", rendered.join(","));
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map(|value| value.parse().unwrap())
}

#[test]
fn request_vectors() {
    for case in vectors("requests.json") {
        let name = case["name"].as_str().unwrap();
        let settings = case.get("settings").cloned().unwrap_or(Value::Null);
        let endpoint = endpoint(&settings);
        let facts = &case["facts"];
        endpoint.record(&FinishedRequest {
            method: facts["method"].as_str().unwrap(),
            host: facts["host"].as_str().unwrap().as_bytes(),
            raw_path: facts["raw_path"].as_str().unwrap(),
            route: route(facts),
            status: facts["status"].as_u64().unwrap() as u16,
            seconds: 0.01,
            exception: exception(facts),
            traceparent: b"",
        });
        let text = endpoint.registry().render(Format::Text);
        let expect = &case["expect"];
        let labels = ["method", "host", "path", "code"].map(|label| (label, expect[label].as_str().unwrap()));
        assert_eq!(
            sample(&text, "http_server_requests_total", &labels),
            Some(1.0),
            "{name}: expected {labels:?} in\n{text}"
        );
        match expect["error"].as_str() {
            Some(error) => assert_eq!(
                sample(&text, "http_server_exceptions_total", &[("error", error)]),
                Some(1.0),
                "{name}: exception in\n{text}"
            ),
            None => assert!(
                !text.contains("http_server_exceptions_total{"),
                "{name}: no exception expected in\n{text}"
            ),
        }
    }
}

/// The lines of an OpenMetrics scrape that carry an exemplar.
fn exemplar_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|line| line.contains(" # {")).collect()
}

/// The exemplar lines `traceparent.json` expects for a request of 0.01 s: the count's and
/// its duration bucket's, with the ids and the values 1 and 0.01.
fn expected_exemplar_lines(expect: &Value) -> Vec<(String, String)> {
    if expect.is_null() {
        return Vec::new();
    }
    let exemplar = format!(
        "# {{trace_id=\"{}\",span_id=\"{}\"}}",
        expect["trace_id"].as_str().unwrap(),
        expect["span_id"].as_str().unwrap()
    );
    let labels = r#"method="GET",host="app.example",path="/",code="200""#;
    vec![
        (
            format!("http_server_requests_total{{{labels}}} 1.0 "),
            format!("{exemplar} 1.0 "),
        ),
        (
            format!("http_server_request_duration_seconds_bucket{{{labels},le=\"0.01\"}} 1.0 "),
            format!("{exemplar} 0.01 "),
        ),
    ]
}

/// The request of a traceparent vector: a GET of `/` (route `/`, host `app.example`,
/// status 200) taking `seconds`, with the case's `traceparent` (none when null).
fn record_traced_case(endpoint: &Endpoint, case: &Value, seconds: f64) {
    endpoint.record(&FinishedRequest {
        method: "GET",
        host: b"app.example",
        raw_path: "/",
        route: Route::Template("/"),
        status: 200,
        seconds,
        exception: None,
        traceparent: case["traceparent"].as_str().unwrap_or_default().as_bytes(),
    });
}

#[test]
fn traceparent_vectors() {
    for case in vectors("traceparent.json") {
        let name = case["name"].as_str().unwrap();
        let endpoint = endpoint(&case["settings"]);
        record_traced_case(&endpoint, &case, 0.01);
        let text = endpoint.registry().render(Format::OpenMetrics);
        let found = exemplar_lines(&text);
        let expected = expected_exemplar_lines(&case["expect"]);
        assert_eq!(found.len(), expected.len(), "{name}: exemplar lines in\n{text}");
        for ((sample, exemplar), line) in expected.iter().zip(&found) {
            assert!(
                line.starts_with(&format!("{sample}{exemplar}")),
                "{name}: {line:?} is not {sample}{exemplar}"
            );
        }
        assert!(
            text.contains(
                "http_server_requests_total{method=\"GET\",host=\"app.example\",path=\"/\",code=\"200\"} 1.0"
            ),
            "{name}: counted"
        );
    }
}

const PROTOBUF: &str =
    "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited";

/// An exemplar as the vectors spell it: its labels as [name, value] pairs and its value;
/// fails unless it carries a timestamp, without which Prometheus drops a native one.
fn exemplar_json(name: &str, exemplar: &ProtoExemplar) -> Value {
    assert!(
        exemplar.timestamp.is_some(),
        "{name}: an exemplar without a timestamp"
    );
    let labels: Vec<Value> = exemplar
        .label
        .iter()
        .map(|pair| serde_json::json!([pair.name, pair.value]))
        .collect();
    serde_json::json!({"labels": labels, "value": exemplar.value})
}

#[test]
fn request_native_vectors() {
    for case in vectors("request_native.json") {
        let name = case["name"].as_str().unwrap();
        let endpoint = endpoint(&case["settings"]);
        record_traced_case(&endpoint, &case, case["seconds"].as_f64().unwrap());
        let scrape = endpoint.handle(&Request::new("GET", "/metrics").header("accept", PROTOBUF.as_bytes()));
        let families = decode_delimited(&scrape.body).unwrap();
        let family = families
            .iter()
            .find(|f| f.name.as_deref() == Some("http_server_request_duration_seconds"))
            .unwrap_or_else(|| panic!("{name}: no request duration in the protobuf scrape"));
        let histogram = family.metric[0].histogram.as_ref().unwrap();
        let expect = &case["expect"];
        if expect["native"].is_null() {
            assert_eq!(
                (
                    histogram.schema,
                    histogram.zero_threshold,
                    histogram.positive_span.len()
                ),
                (None, None, 0),
                "{name}: classic only"
            );
        } else {
            check_native(name, histogram, &expect["native"]);
        }
        let native: Vec<Value> = histogram
            .exemplars
            .iter()
            .map(|e| exemplar_json(name, e))
            .collect();
        assert_eq!(
            Value::from(native),
            expect["native_exemplars"],
            "{name}: native exemplars"
        );
        let buckets: Vec<Value> = histogram
            .bucket
            .iter()
            .filter_map(|bucket| {
                let mut exemplar = exemplar_json(name, bucket.exemplar.as_ref()?);
                exemplar["upper_bound"] = bucket.upper_bound.into();
                Some(exemplar)
            })
            .collect();
        assert_eq!(
            Value::from(buckets),
            expect["bucket_exemplars"],
            "{name}: bucket exemplars"
        );
    }
}

/// A vector's `amount`: a number, or `NaN`, `+Inf`, `-Inf`.
fn amount(value: &Value) -> f64 {
    match value.as_str() {
        Some("NaN") => f64::NAN,
        Some("+Inf") => f64::INFINITY,
        Some("-Inf") => f64::NEG_INFINITY,
        _ => value.as_f64().unwrap(),
    }
}

fn define(registry: &Registry, definition: &Value) -> Result<(), gds_metrics::Error> {
    let opts = Opts::new(definition["name"].as_str().unwrap(), "A metric from a vector.")
        .labels(str_list(&definition["labels"]));
    match definition["kind"].as_str().unwrap() {
        "counter" => registry.counter(opts).map(drop),
        "gauge" => registry.gauge(opts).map(drop),
        "summary" => registry.summary(opts).map(drop),
        "histogram" => {
            let buckets: Option<Vec<f64>> = definition
                .get("buckets")
                .map(|b| b.as_array().unwrap().iter().map(amount).collect());
            registry.histogram(opts, buckets.as_deref()).map(drop)
        }
        other => panic!("unknown kind {other}"),
    }
}

fn call(registry: &Registry, definition: &Value, call: &Value) -> Result<(), gds_metrics::Error> {
    let name = definition["name"].as_str().unwrap();
    let labels = str_list(&call["labels"]);
    let opts = Opts::new(name, "A metric from a vector.").labels(str_list(&definition["labels"]));
    registry.unregister(name);
    match (definition["kind"].as_str().unwrap(), call["op"].as_str().unwrap()) {
        ("counter", "inc") => registry
            .counter(opts)?
            .inc_by_f64(&labels, amount(&call["amount"])),
        ("gauge", "set") => registry
            .gauge(opts)?
            .with(&labels, |g| g.set(amount(&call["amount"]))),
        ("histogram", "observe") => registry
            .histogram(opts, None)?
            .with(&labels, |h| h.observe(amount(&call["amount"])))?,
        ("summary", "observe") => registry
            .summary(opts)?
            .with(&labels, |s| s.observe(amount(&call["amount"])))?,
        (kind, op) => panic!("no call {op} on a {kind} in the vectors"),
    }
}

#[test]
fn error_vectors() {
    for case in vectors("errors.json") {
        let name = case["name"].as_str().unwrap();
        let registry = Registry::new();
        let definitions = case["define"].as_array().unwrap();
        let calls = case["calls"].as_array().unwrap();
        let mut outcome = Ok(());
        for definition in definitions {
            outcome = define(&registry, definition);
        }
        let last = definitions.last().unwrap();
        for c in calls {
            outcome = call(&registry, last, c);
        }
        let expect = &case["expect"];
        match expect["error"].as_str() {
            Some(kind) => {
                let error = outcome.expect_err(name);
                assert_eq!(error.kind().name(), kind, "{name}: {error}");
            }
            None => outcome.unwrap_or_else(|e| panic!("{name}: {e}")),
        }
        if let Some(created) = expect["series_created"].as_bool() {
            let text = registry.render(Format::Text);
            let values = str_list(&calls[0]["labels"]);
            let has_series = !values.is_empty() && text.contains(&format!("\"{}\"", values[0]));
            assert_eq!(has_series, created, "{name}: series in\n{text}");
        }
    }
}

#[test]
fn series_limit_vectors() {
    for case in vectors("series_limit.json") {
        let name = case["name"].as_str().unwrap();
        let registry = Registry::new();
        let limit = case["limit"].as_u64().unwrap() as usize;
        let family = registry
            .counter(
                Opts::new("limited_total", "Limited.")
                    .labels(["key"])
                    .series_limit(limit),
            )
            .unwrap();
        for values in case["label_sets"].as_array().unwrap() {
            family.labels(&str_list(values)).unwrap().inc();
        }
        let text = registry.render(Format::Text);
        let expected = case["expect"]["series"].as_object().unwrap();
        let lines = text.lines().filter(|l| l.starts_with("limited_total{")).count();
        assert_eq!(lines, expected.len(), "{name}: series in\n{text}");
        for (key, value) in expected {
            assert_eq!(
                sample(&text, "limited_total", &[("key", key)]),
                value.as_f64(),
                "{name}: {key} in\n{text}"
            );
        }
        let refused = case["expect"]["refused"].as_f64().unwrap();
        let counted = sample(
            &text,
            "gds_metrics_series_refused_total",
            &[("family", "limited")],
        );
        assert_eq!(counted.unwrap_or(0.0), refused, "{name}: refusals in\n{text}");
    }
}

/// A vector's `native` settings as the core's [`NativeBuckets`].
fn native_buckets(native: &Value) -> NativeBuckets {
    NativeBuckets::new()
        .schema(native["schema"].as_i64().unwrap() as i32)
        .zero_threshold(native["zero_threshold"].as_f64().unwrap())
        .max_buckets(native["max_buckets"].as_u64().unwrap() as usize)
}

/// One family `metric` declares, and the call each vector call makes on its series.
enum Declared {
    Counter(gds_metrics::Counter),
    Histogram(gds_metrics::Histogram),
}

fn declare(registry: &Registry, metric: &Value) -> Declared {
    let opts = Opts::new(metric["name"].as_str().unwrap(), "A metric from a vector.");
    let classic: Option<Vec<f64>> = metric
        .get("buckets")
        .map(|b| b.as_array().unwrap().iter().map(amount).collect());
    match metric["kind"].as_str().unwrap() {
        "counter" => Declared::Counter(registry.counter(opts).unwrap().get().unwrap()),
        "histogram" => {
            let family = match metric.get("native") {
                Some(native) => registry.native_histogram(opts, native_buckets(native), classic.as_deref()),
                None => registry.histogram(opts, classic.as_deref()),
            };
            Declared::Histogram(family.unwrap().get().unwrap())
        }
        other => panic!("unknown kind {other}"),
    }
}

fn exemplar_pairs(call: &Value) -> Option<Vec<(String, String)>> {
    let pairs = call.get("exemplar")?.as_array().unwrap();
    Some(
        pairs
            .iter()
            .map(|pair| {
                (
                    pair[0].as_str().unwrap().to_owned(),
                    pair[1].as_str().unwrap().to_owned(),
                )
            })
            .collect(),
    )
}

fn record(declared: &Declared, call: &Value) -> Result<(), gds_metrics::Error> {
    let value = amount(&call["amount"]);
    let pairs = exemplar_pairs(call);
    let labels: Option<Vec<(&str, &str)>> = pairs
        .as_ref()
        .map(|p| p.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect());
    match (declared, call["op"].as_str().unwrap(), labels) {
        (Declared::Counter(counter), "inc", None) => counter.inc_by_f64(value),
        (Declared::Counter(counter), "inc", Some(labels)) => counter.inc_with_exemplar(value, &labels),
        (Declared::Histogram(histogram), "observe", None) => {
            histogram.observe(value).unwrap();
            Ok(())
        }
        (Declared::Histogram(histogram), "observe", Some(labels)) => {
            histogram.observe_with_exemplar(value, &labels)
        }
        (_, op, _) => panic!("no call {op} on this kind in the vectors"),
    }
}

/// Bucket index to count, from protobuf spans and deltas (the first delta is a count, each
/// next one the difference to the previous bucket's).
fn sparse(spans: &[BucketSpan], deltas: &[i64]) -> BTreeMap<String, u64> {
    let mut buckets = BTreeMap::new();
    let (mut index, mut count, mut deltas) = (0i32, 0i64, deltas.iter());
    for (n, span) in spans.iter().enumerate() {
        index += span.offset.unwrap_or(0) + i32::from(n > 0);
        for step in 0..span.length.unwrap_or(0) {
            count += deltas.next().expect("a delta per bucket");
            if count != 0 {
                buckets.insert((index + step as i32).to_string(), count as u64);
            }
        }
        index += span.length.unwrap_or(0) as i32 - 1;
    }
    buckets
}

fn expected_buckets(value: &Value) -> BTreeMap<String, u64> {
    value
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect()
}

fn check_native(name: &str, histogram: &ProtoHistogram, expect: &Value) {
    assert_eq!(
        histogram.schema,
        Some(expect["schema"].as_i64().unwrap() as i32),
        "{name}: schema"
    );
    assert_eq!(
        histogram.zero_threshold,
        expect["zero_threshold"].as_f64(),
        "{name}: zero threshold"
    );
    assert_eq!(
        histogram.zero_count,
        expect["zero_count"].as_u64(),
        "{name}: zero count"
    );
    assert_eq!(histogram.sample_count, expect["count"].as_u64(), "{name}: count");
    let sum = histogram.sample_sum.unwrap();
    assert!(
        (sum - expect["sum"].as_f64().unwrap()).abs() < 1e-9,
        "{name}: sum {sum}"
    );
    let positive = sparse(&histogram.positive_span, &histogram.positive_delta);
    assert_eq!(
        positive,
        expected_buckets(&expect["positive"]),
        "{name}: positive buckets"
    );
    let negative = sparse(&histogram.negative_span, &histogram.negative_delta);
    assert_eq!(
        negative,
        expected_buckets(&expect["negative"]),
        "{name}: negative buckets"
    );
}

/// Whether `line` is `prefix` followed by a timestamp, as an exemplar line ends.
fn exemplar_line_matches(line: &str, prefix: &str) -> bool {
    line.strip_prefix(prefix)
        .is_some_and(|timestamp| timestamp.parse::<f64>().is_ok_and(|t| t > 1.0e9))
}

fn check_openmetrics(name: &str, text: &str, expect: &Value) {
    let lines: Vec<&str> = text.lines().collect();
    for wanted in str_list(&expect["openmetrics"]) {
        assert!(
            lines.contains(&wanted.as_str()),
            "{name}: no line {wanted:?} in\n{text}"
        );
    }
    for prefix in str_list(&expect["exemplars"]) {
        assert!(
            lines.iter().any(|line| exemplar_line_matches(line, &prefix)),
            "{name}: no exemplar line {prefix:?}<timestamp> in\n{text}"
        );
    }
    let carrying = lines.iter().filter(|line| line.contains(" # {")).count() as u64;
    assert_eq!(
        carrying,
        expect["exemplar_lines"].as_u64().unwrap(),
        "{name}: exemplar lines in\n{text}"
    );
}

#[test]
fn native_vectors() {
    for case in vectors("native.json") {
        let name = case["name"].as_str().unwrap();
        let registry = Registry::new();
        let declared = declare(&registry, &case["metric"]);
        let mut outcome = Ok(());
        for call in case["calls"].as_array().unwrap() {
            outcome = record(&declared, call);
        }
        let expect = &case["expect"];
        match expect["error"].as_str() {
            Some(kind) => assert_eq!(outcome.expect_err(name).kind().name(), kind, "{name}"),
            None => outcome.unwrap_or_else(|e| panic!("{name}: {e}")),
        }
        if let Some(native) = expect.get("native") {
            let mut body = Vec::new();
            registry.encode_with(Format::Protobuf, Escaping::AllowUtf8, &mut body);
            let families = decode_delimited(&body).unwrap();
            let family = families
                .iter()
                .find(|f| f.name.as_deref() == case["metric"]["name"].as_str())
                .unwrap_or_else(|| panic!("{name}: no family in the protobuf scrape"));
            check_native(name, family.metric[0].histogram.as_ref().unwrap(), native);
        }
        check_openmetrics(name, &registry.render(Format::OpenMetrics), expect);
    }
}

#[test]
fn native_settings_vectors() {
    for case in vectors("native_settings.json") {
        let name = case["name"].as_str().unwrap();
        let settings = &case["settings"];
        let declared = NativeBuckets::from_settings(
            settings["schema"].as_i64().map(|schema| schema as i32),
            settings["zero_threshold"].as_f64(),
            settings["max_buckets"].as_u64().map(|max| max as usize),
            settings["reset_after"].as_f64(),
        );
        let expect = &case["expect"];
        if let Some(kind) = expect["error"].as_str() {
            let error = declared.expect_err(name);
            assert_eq!(error.kind().name(), kind, "{name}");
            assert_eq!(error.to_string(), expect["message"].as_str().unwrap(), "{name}");
            continue;
        }
        let registry = Registry::new();
        let family = registry
            .native_histogram(
                Opts::new("job_seconds", "A metric from a vector."),
                declared.unwrap(),
                None,
            )
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        family.get().unwrap().observe(1.0).unwrap();
        let mut body = Vec::new();
        registry.encode_with(Format::Protobuf, Escaping::AllowUtf8, &mut body);
        let families = decode_delimited(&body).unwrap();
        let histogram = families[0].metric[0].histogram.as_ref().unwrap();
        assert_eq!(
            i64::from(histogram.schema.unwrap()),
            expect["schema"].as_i64().unwrap(),
            "{name}"
        );
        assert_eq!(
            histogram.zero_threshold,
            expect["zero_threshold"].as_f64(),
            "{name}"
        );
    }
}

#[cfg(feature = "axum")]
mod through_axum {
    //! The endpoint vectors through a real axum router with the metrics layer, whose
    //! routes answer `200 app` for every path.
    use super::*;
    use axum::routing::get;
    use gds_metrics::axum::MetricsLayer;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    fn app(endpoint: Arc<Endpoint>) -> axum::Router {
        axum::Router::new()
            .route("/users/{id}", get(|| async { "app" }))
            .fallback(|| async { "app" })
            .layer(MetricsLayer::new(endpoint))
    }

    async fn send(router: axum::Router, case: &Value) -> Answer {
        let mut request = http::Request::builder()
            .method(case["request"]["method"].as_str().unwrap())
            .uri(case["request"]["target"].as_str().unwrap());
        for (name, value) in headers(case) {
            request = request.header(name, value);
        }
        let response = router
            .oneshot(request.body(axum::body::Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
            .collect();
        let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
        Answer {
            status,
            headers,
            body,
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn endpoint_vectors_through_the_layer() {
        for case in vectors("endpoint.json") {
            let answer = send(app(endpoint(&case["settings"])), &case).await;
            check_answer(&case, &answer, "axum MetricsLayer");
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_layer_records_route_templates_and_unmatched_requests() {
        let endpoint = endpoint(&Value::Null);
        let get = |target: &str| serde_json::json!({"request": {"method": "GET", "target": target, "headers": [["Host", "app.local"]]}});
        send(app(endpoint.clone()), &get("/users/42")).await;
        send(app(endpoint.clone()), &get("/wp-login.php")).await;
        let text = endpoint.registry().render(Format::Text);
        for path in ["/users/{id}", "No endpoint"] {
            let labels = [
                ("method", "GET"),
                ("host", "app.local"),
                ("path", path),
                ("code", "200"),
            ];
            assert_eq!(
                sample(&text, "http_server_requests_total", &labels),
                Some(1.0),
                "{text}"
            );
        }
    }

    /// The traceparent vectors through the layer: the header as the client sent it, the
    /// exemplars of the routed request's count and bucket read back from OpenMetrics.
    #[tokio::test(flavor = "current_thread")]
    async fn traceparent_vectors_through_the_layer() {
        for case in vectors("traceparent.json") {
            let name = case["name"].as_str().unwrap();
            let endpoint = endpoint(&case["settings"]);
            let mut headers = vec![serde_json::json!(["Host", "app.local"])];
            if let Some(header) = case["traceparent"].as_str() {
                if http::HeaderValue::from_str(header).is_err() {
                    continue; // http refuses it before any layer sees it
                }
                headers.push(serde_json::json!(["traceparent", header]));
            }
            let request =
                serde_json::json!({"request": {"method": "GET", "target": "/users/7", "headers": headers}});
            send(app(endpoint.clone()), &request).await;
            let text = endpoint.registry().render(Format::OpenMetrics);
            let traced: Vec<&str> = exemplar_lines(&text)
                .into_iter()
                .map(|line| line.split('{').next().unwrap())
                .collect();
            let expected: &[&str] = match case["expect"].as_object() {
                Some(ids) => {
                    let exemplar = format!(
                        "# {{trace_id=\"{}\",span_id=\"{}\"}}",
                        ids["trace_id"].as_str().unwrap(),
                        ids["span_id"].as_str().unwrap()
                    );
                    assert!(
                        exemplar_lines(&text).iter().all(|line| line.contains(&exemplar)),
                        "{name}: {text}"
                    );
                    &[
                        "http_server_requests_total",
                        "http_server_request_duration_seconds_bucket",
                    ]
                }
                None => &[],
            };
            assert_eq!(traced, expected, "{name}: {text}");
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_repeated_traceparent_gives_no_exemplar() {
        let endpoint = endpoint(&Value::Null);
        let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let request = serde_json::json!({"request": {"method": "GET", "target": "/users/7",
            "headers": [["traceparent", header], ["traceparent", header]]}});
        send(app(endpoint.clone()), &request).await;
        let text = endpoint.registry().render(Format::OpenMetrics);
        assert_eq!(exemplar_lines(&text), Vec::<&str>::new(), "{text}");
    }
}

use crate::scrape_time;
use scrape_time::ScrapeTimeFamily;

fn pairs(value: &Value) -> Vec<(f64, f64)> {
    let pairs = value.as_array().expect("[a, b] pairs");
    pairs.iter().map(|p| (amount(&p[0]), amount(&p[1]))).collect()
}

/// A registry holding the summary of a `summaries.json` case, made as its `source` says.
fn summary_registry(case: &Value) -> Registry {
    let registry = Registry::new();
    let family = &case["family"];
    let opts = Opts::new(family["name"].as_str().unwrap(), family["help"].as_str().unwrap())
        .labels(str_list(&family["labels"]));
    match case["source"].as_str().unwrap() {
        "observed" => {
            let summary = registry.summary(opts).unwrap();
            for observation in case["observations"].as_array().unwrap() {
                let labels = str_list(&observation["labels"]);
                summary
                    .labels(&labels)
                    .unwrap()
                    .observe(amount(&observation["amount"]))
                    .unwrap();
            }
        }
        "scrape_time" => {
            let descriptor = gds_metrics::Descriptor::new(opts, gds_metrics::MetricType::Summary).unwrap();
            let series = case["series"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| gds_metrics::SeriesSnapshot {
                    labels: str_list(&s["labels"]),
                    value: gds_metrics::OwnedValue::Summary {
                        count: s["count"].as_u64().unwrap(),
                        sum: amount(&s["sum"]),
                        created: None,
                        quantiles: pairs(&s["quantiles"])
                            .into_iter()
                            .map(|(quantile, value)| gds_metrics::Quantile { quantile, value })
                            .collect(),
                    },
                });
            let snapshot = gds_metrics::FamilySnapshot::new(descriptor, series.collect()).unwrap();
            registry.register(Arc::new(ScrapeTimeFamily(snapshot))).unwrap();
        }
        other => panic!("unknown source {other}"),
    }
    registry
}

type DecodedFamily = prometheus_client::encoding::prometheus_protobuf::prometheus_data_model::MetricFamily;
type DecodedMetric = prometheus_client::encoding::prometheus_protobuf::prometheus_data_model::Metric;

/// Reads the protobuf scrape with prometheus-client's types, generated from
/// io.prometheus.client's metrics.proto (not the crate's own encoder structs), and checks
/// the family `expect` names has its type and one metric per expected series: each of
/// those is handed to `check` with its expectation after its labels are checked.
fn check_protobuf_family(name: &str, body: &[u8], expect: &Value, check: impl Fn(&DecodedMetric, &Value)) {
    use prometheus_client::encoding::prometheus_protobuf::prometheus_data_model::MetricType;
    use prost_decoder::Message;
    let mut rest = body;
    let mut families = Vec::new();
    while !rest.is_empty() {
        families.push(
            DecodedFamily::decode_length_delimited(&mut rest).unwrap_or_else(|e| panic!("{name}: {e}")),
        );
    }
    let family = families
        .iter()
        .find(|f| f.name == expect["name"].as_str().unwrap())
        .unwrap_or_else(|| panic!("{name}: no family {} in {families:?}", expect["name"]));
    assert_eq!(
        MetricType::try_from(family.r#type).unwrap().as_str_name(),
        expect["type"].as_str().unwrap(),
        "{name}"
    );
    let expected = expect["series"].as_array().unwrap();
    assert_eq!(family.metric.len(), expected.len(), "{name}: {family:?}");
    for (metric, want) in family.metric.iter().zip(expected) {
        let labels: Vec<(String, String)> = metric
            .label
            .iter()
            .map(|l| (l.name.clone(), l.value.clone()))
            .collect();
        let want_labels: Vec<(String, String)> = want["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p[0].as_str().unwrap().to_owned(),
                    p[1].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(labels, want_labels, "{name}");
        check(metric, want);
    }
}

fn check_summary_protobuf(name: &str, body: &[u8], expect: &Value) {
    check_protobuf_family(name, body, expect, |metric, want| {
        assert!(
            metric.gauge.is_none() && metric.counter.is_none() && metric.untyped.is_none(),
            "{name}: a summary series carries another kind's message: {metric:?}"
        );
        let summary = metric
            .summary
            .as_ref()
            .unwrap_or_else(|| panic!("{name}: no Summary in {metric:?}"));
        assert_eq!(
            summary.sample_count,
            want["sample_count"].as_u64().unwrap(),
            "{name}"
        );
        assert_eq!(summary.sample_sum, amount(&want["sample_sum"]), "{name}");
        let quantiles: Vec<(f64, f64)> = summary.quantile.iter().map(|q| (q.quantile, q.value)).collect();
        assert_eq!(quantiles, pairs(&want["quantiles"]), "{name}");
    });
}

#[test]
fn summary_vectors() {
    for case in vectors("summaries.json") {
        let name = case["name"].as_str().unwrap();
        let registry = summary_registry(&case);
        let text = registry.render(Format::Text);
        let lines = str_list(&case["expect"]["text"]).join("\n") + "\n";
        assert!(text.contains(&lines), "{name}: expected\n{lines}in\n{text}");
        let mut body = Vec::new();
        registry.encode(Format::Protobuf, &mut body);
        check_summary_protobuf(name, &body, &case["expect"]["protobuf"]);
    }
}

/// A registry holding the state set of a `statesets.json` case, handed over at scrape time.
fn state_set_registry(case: &Value) -> Registry {
    fn strs(value: &Value) -> Vec<&str> {
        value
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect()
    }
    let series = case["series"].as_array().unwrap().iter().map(|s| {
        let states = s["states"].as_array().unwrap().iter();
        let states = states.map(|state| (state[0].as_str().unwrap(), state[1].as_bool().unwrap()));
        (strs(&s["labels"]), states.collect())
    });
    let family = &case["family"];
    let state_set = scrape_time::state_set(
        family["name"].as_str().unwrap(),
        family["help"].as_str().unwrap(),
        &strs(&family["labels"]),
        series.collect(),
    );
    let registry = Registry::new();
    registry.register(Arc::new(state_set)).unwrap();
    registry
}

#[test]
fn state_set_vectors() {
    for case in vectors("statesets.json") {
        let name = case["name"].as_str().unwrap();
        assert_eq!(
            case["source"], "scrape_time",
            "{name}: a source this runner cannot make"
        );
        let registry = state_set_registry(&case);
        for (format, expect) in [(Format::Text, "text"), (Format::OpenMetrics, "openmetrics")] {
            let written = registry.render(format);
            let lines = str_list(&case["expect"][expect]).join("\n") + "\n";
            assert!(written.contains(&lines), "{name}: expected\n{lines}in\n{written}");
        }
        let mut body = Vec::new();
        registry.encode(Format::Protobuf, &mut body);
        check_protobuf_family(name, &body, &case["expect"]["protobuf"], |metric, want| {
            assert!(
                metric.counter.is_none()
                    && metric.summary.is_none()
                    && metric.untyped.is_none()
                    && metric.histogram.is_none(),
                "{name}: a state carries another kind's message: {metric:?}"
            );
            let gauge = metric
                .gauge
                .as_ref()
                .unwrap_or_else(|| panic!("{name}: no Gauge in {metric:?}"));
            assert_eq!(gauge.value, amount(&want["gauge"]), "{name}");
        });
    }
}
