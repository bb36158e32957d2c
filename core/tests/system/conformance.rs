//! Conformance against the real tools (CONTRACT section 3): for every metric type (a state
//! set handed over at scrape time among them), with hostile label values and HELP text, the
//! text 0.0.4 exposition passes `promtool check metrics`, and the OpenMetrics exposition is
//! accepted by the strict parser of the Python `prometheus_client` package and parses back
//! to exactly what was registered.
//!
//! Built only with `--features system-tests` (`make test-core` installs the tools first).
//! A missing tool fails these tests: a conformance check that silently skips proves nothing.
//! `PROMTOOL` names the promtool binary (default `promtool`), `GDS_METRICS_TOOLS_PYTHON` a
//! Python with `prometheus_client` installed.
#![cfg(feature = "system-tests")]

use gds_metrics::{Escaping, Format, Opts, Registry};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use crate::scrape_time;

const HOSTILE: &str = "quote \" backslash \\ newline \n tab \t cr \r unicode é ☃ 𝄞 \\n end";
const HELP: &str = "Help with \"quotes\", a \\ backslash,\na newline and unicode é ☃.";

/// One family of every type, each with a plain series and one labelled with [`HOSTILE`].
fn registry() -> Registry {
    let registry = Registry::new();
    registry.set_emit_created(true);
    let labels = ["kind", "value"];

    let counter = registry
        .counter(Opts::new("demo_events_total", HELP).labels(labels))
        .unwrap();
    counter.labels(&["plain", "a"]).unwrap().inc_by(3);
    counter
        .labels(&["hostile", HOSTILE])
        .unwrap()
        .inc_by_f64(2.5)
        .unwrap();

    let gauge = registry
        .gauge(
            Opts::new("demo_temperature_celsius", HELP)
                .unit("celsius")
                .labels(labels),
        )
        .unwrap();
    gauge.labels(&["plain", "a"]).unwrap().set(-4.25);
    gauge.labels(&["hostile", HOSTILE]).unwrap().set(f64::INFINITY);
    gauge.labels(&["nan", ""]).unwrap().set(f64::NAN);

    let histogram = registry
        .histogram(
            Opts::new("demo_latency_seconds", HELP)
                .unit("seconds")
                .labels(labels),
            None,
        )
        .unwrap();
    for v in [0.001, 0.2, 3.0, 50.0] {
        histogram
            .labels(&["hostile", HOSTILE])
            .unwrap()
            .observe(v)
            .unwrap();
    }
    let custom = registry
        .histogram(Opts::new("demo_size_bytes", HELP), Some(&[1.0, 10.0, 100.0]))
        .unwrap();
    custom.get().unwrap().observe(7.0).unwrap();
    custom
        .get()
        .unwrap()
        .observe_with_exemplar(
            0.5,
            &[("trace_id", "4bf92f3577b34da6"), ("span_id", "00f067aa0ba902b7")],
        )
        .unwrap();
    counter
        .labels(&["plain", "a"])
        .unwrap()
        .inc_with_exemplar(1.0, &[("trace_id", "00f067aa0ba902b7")])
        .unwrap();
    let native = registry
        .native_histogram(
            Opts::new("demo_native_seconds", HELP),
            gds_metrics::NativeBuckets::new(),
            None,
        )
        .unwrap();
    native.get().unwrap().observe(0.3).unwrap();

    let summary = registry
        .summary(Opts::new("demo_payload", HELP).labels(labels))
        .unwrap();
    summary
        .labels(&["hostile", HOSTILE])
        .unwrap()
        .observe(12.5)
        .unwrap();

    let info = registry
        .info(Opts::new("demo_build", HELP).labels(["version", "note"]))
        .unwrap();
    info.labels(&["1.2.3", HOSTILE]).unwrap();

    // The core has no state-set metric: bridges hand state sets over at scrape time.
    let states = scrape_time::state_set(
        "demo_state",
        HELP,
        &labels,
        vec![
            (vec!["plain", "a"], vec![("idle", true), (HOSTILE, false)]),
            (vec!["hostile", HOSTILE], vec![("idle", false), (HOSTILE, true)]),
        ],
    );
    registry.register(Arc::new(states)).unwrap();
    registry
}

fn run_with_stdin(command: &mut Command, input: &[u8]) -> Output {
    let program = format!("{command:?}");
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program} ({e}); `make test-core` installs it"));
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn python() -> Command {
    let python = std::env::var("GDS_METRICS_TOOLS_PYTHON").expect(
        "GDS_METRICS_TOOLS_PYTHON must name a Python with prometheus_client (`make test-core` sets it)",
    );
    let mut command = Command::new(python);
    command.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/parse_exposition.py"
    ));
    command
}

/// What `prometheus_client` parsed from `exposition`, failing the test if it refused it.
fn parsed_by_prometheus_client(format: &str, exposition: &str) -> Vec<Value> {
    let out = run_with_stdin(python().arg(format), exposition.as_bytes());
    assert!(
        out.status.success(),
        "prometheus_client rejected the {format} exposition:\n{}\n---\n{exposition}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A sample as `(name, labels, value)` with the value parsed back to `f64`.
type Sample = (String, BTreeMap<String, String>, f64);

fn samples_of(families: &[Value]) -> Vec<Sample> {
    let mut samples: Vec<Sample> = families
        .iter()
        .flat_map(|f| f["samples"].as_array().unwrap())
        .map(|s| {
            let labels = s["labels"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect();
            let value = s["value"].as_str().unwrap().parse::<f64>().unwrap();
            (s["name"].as_str().unwrap().to_owned(), labels, value)
        })
        .collect();
    samples.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    samples
}

fn sample(name: &str, labels: &[(&str, &str)], value: f64) -> Sample {
    let labels = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (name.to_owned(), labels, value)
}

/// Every sample the registry holds, except `_created` (its value is a clock reading).
fn expected_samples() -> Vec<Sample> {
    let hostile = [("kind", "hostile"), ("value", HOSTILE)];
    let plain = [("kind", "plain"), ("value", "a")];
    let le = |bound: &'static str| [("kind", "hostile"), ("value", HOSTILE), ("le", bound)];
    let default_buckets = [
        ("0.005", 1.0),
        ("0.01", 1.0),
        ("0.025", 1.0),
        ("0.05", 1.0),
        ("0.075", 1.0),
        ("0.1", 1.0),
        ("0.25", 2.0),
        ("0.5", 2.0),
        ("0.75", 2.0),
        ("1.0", 2.0),
        ("2.5", 2.0),
        ("5.0", 3.0),
        ("7.5", 3.0),
        ("10.0", 3.0),
        ("+Inf", 4.0),
    ];
    let mut samples = vec![
        sample("demo_events_total", &plain, 4.0),
        sample("demo_events_total", &hostile, 2.5),
        sample("demo_temperature_celsius", &plain, -4.25),
        sample("demo_temperature_celsius", &hostile, f64::INFINITY),
        sample(
            "demo_temperature_celsius",
            &[("kind", "nan"), ("value", "")],
            f64::NAN,
        ),
        sample("demo_latency_seconds_count", &hostile, 4.0),
        sample("demo_latency_seconds_sum", &hostile, 0.001 + 0.2 + 3.0 + 50.0),
        sample("demo_size_bytes_bucket", &[("le", "1.0")], 1.0),
        sample("demo_size_bytes_bucket", &[("le", "10.0")], 2.0),
        sample("demo_size_bytes_bucket", &[("le", "100.0")], 2.0),
        sample("demo_size_bytes_bucket", &[("le", "+Inf")], 2.0),
        sample("demo_size_bytes_count", &[], 2.0),
        sample("demo_size_bytes_sum", &[], 7.5),
        sample("demo_native_seconds_bucket", &[("le", "+Inf")], 1.0),
        sample("demo_native_seconds_count", &[], 1.0),
        sample("demo_native_seconds_sum", &[], 0.3),
        sample("demo_payload_count", &hostile, 1.0),
        sample("demo_payload_sum", &hostile, 12.5),
        sample("demo_build_info", &[("version", "1.2.3"), ("note", HOSTILE)], 1.0),
    ];
    for (values, state, value) in [
        (plain, "idle", 1.0),
        (plain, HOSTILE, 0.0),
        (hostile, "idle", 0.0),
        (hostile, HOSTILE, 1.0),
    ] {
        let labels = [values[0], values[1], ("demo_state", state)];
        samples.push(sample("demo_state", &labels, value));
    }
    for (bound, count) in default_buckets {
        samples.push(sample("demo_latency_seconds_bucket", &le(bound), count));
    }
    samples.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    samples
}

fn assert_same_samples(got: Vec<Sample>, expected: Vec<Sample>) {
    assert_eq!(got.len(), expected.len(), "got {got:#?}");
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!((&g.0, &g.1), (&e.0, &e.1));
        assert!(
            g.2 == e.2 || (g.2.is_nan() && e.2.is_nan()),
            "{} {:?}: got {}, expected {}",
            g.0,
            g.1,
            g.2,
            e.2
        );
    }
}

#[test]
fn text_exposition_passes_promtool_check_metrics() {
    let text = registry().render(Format::Text);
    let promtool = std::env::var("PROMTOOL").unwrap_or_else(|_| "promtool".into());
    let out = run_with_stdin(Command::new(promtool).args(["check", "metrics"]), text.as_bytes());
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}\n---\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn openmetrics_exposition_passes_the_strict_parser_and_round_trips() {
    let om = registry().render(Format::OpenMetrics);
    let families = parsed_by_prometheus_client("openmetrics", &om);

    let headers: Vec<(String, String, String, String)> = families
        .iter()
        .map(|f| {
            let field = |k: &str| f[k].as_str().unwrap().to_owned();
            (field("name"), field("type"), field("help"), field("unit"))
        })
        .collect();
    let header = |name: &str, kind: &str, unit: &str| (name.into(), kind.into(), HELP.into(), unit.into());
    assert_eq!(
        headers,
        [
            header("demo_events", "counter", ""),
            header("demo_temperature_celsius", "gauge", "celsius"),
            header("demo_latency_seconds", "histogram", "seconds"),
            header("demo_size_bytes", "histogram", ""),
            header("demo_native_seconds", "histogram", ""),
            header("demo_payload", "summary", ""),
            header("demo_build", "info", ""),
            header("demo_state", "stateset", ""),
        ]
    );

    let (created, samples): (Vec<Sample>, Vec<Sample>) = samples_of(&families)
        .into_iter()
        .partition(|s| s.0.ends_with("_created"));
    assert_same_samples(samples, expected_samples());
    // One `_created` per counter, histogram and summary series, each a plausible clock.
    assert_eq!(created.len(), 2 + 1 + 1 + 1 + 1);
    assert!(created.iter().all(|s| s.2 > 1.6e9), "{created:?}");
}

#[test]
fn text_exposition_round_trips_through_the_prometheus_text_parser() {
    let text = registry().render(Format::Text);
    let families = parsed_by_prometheus_client("text", &text);
    let helps: Vec<&str> = families.iter().map(|f| f["help"].as_str().unwrap()).collect();
    assert_eq!(helps, [HELP; 8]);
    assert_same_samples(samples_of(&families), expected_samples());
}

/// Histograms and summaries that saw negative values: OpenMetrics forbids a `_sum` with
/// negative bucket thresholds and any negative `_sum`, so those series show buckets (and a
/// summary its count) only; the Prometheus text format keeps every sample.
fn negative_registry() -> Registry {
    let registry = Registry::new();
    let below_zero = registry
        .histogram(Opts::new("demo_offset_seconds", HELP), Some(&[-1.0, 0.0, 1.0]))
        .unwrap();
    for v in [-2.0, -0.5, 0.5] {
        below_zero.get().unwrap().observe(v).unwrap();
    }
    let drifted = registry
        .histogram(Opts::new("demo_drift_seconds", HELP), Some(&[1.0]))
        .unwrap();
    drifted.get().unwrap().observe(-3.0).unwrap();
    let positive = registry
        .histogram(Opts::new("demo_wait_seconds", HELP), Some(&[1.0]))
        .unwrap();
    positive.get().unwrap().observe(0.5).unwrap();
    let summary = registry.summary(Opts::new("demo_delta", HELP)).unwrap();
    summary.get().unwrap().observe(-4.0).unwrap();
    registry
}

#[test]
fn negative_observations_leave_openmetrics_without_a_sum_the_parser_would_refuse() {
    let om = negative_registry().render(Format::OpenMetrics);
    let samples = samples_of(&parsed_by_prometheus_client("openmetrics", &om));
    let names: Vec<&str> = samples.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "demo_delta_count",
            "demo_drift_seconds_bucket",
            "demo_drift_seconds_bucket",
            "demo_offset_seconds_bucket",
            "demo_offset_seconds_bucket",
            "demo_offset_seconds_bucket",
            "demo_offset_seconds_bucket",
            "demo_wait_seconds_bucket",
            "demo_wait_seconds_bucket",
            "demo_wait_seconds_count",
            "demo_wait_seconds_sum",
        ],
        "{om}"
    );
}

#[test]
fn negative_observations_keep_every_sample_in_the_text_format() {
    let text = negative_registry().render(Format::Text);
    let promtool = std::env::var("PROMTOOL").unwrap_or_else(|_| "promtool".into());
    let out = run_with_stdin(Command::new(promtool).args(["check", "metrics"]), text.as_bytes());
    assert!(
        out.status.success(),
        "{}\n---\n{text}",
        String::from_utf8_lossy(&out.stdout)
    );
    for line in [
        "demo_offset_seconds_sum -2.0\n",
        "demo_drift_seconds_sum -3.0\n",
        "demo_delta_sum -4.0\n",
    ] {
        assert!(text.contains(line), "{line} in\n{text}");
    }
}

/// Names outside the legacy set that the registry accepts (none meets another once
/// escaped), so every escaping a scraper can ask for gives an exposition promtool and the
/// OpenMetrics parser accept, with each family once.
fn utf8_registry() -> Registry {
    let registry = Registry::new();
    let requests = registry
        .counter(Opts::new("http.requests", HELP).labels(["http.method", "http_path"]))
        .unwrap();
    requests.labels(&["GET", "/"]).unwrap().inc();
    registry
        .gauge(Opts::new("http.inflight", HELP))
        .unwrap()
        .get()
        .unwrap()
        .set(2.0);
    let latency = registry
        .histogram(Opts::new("rpc-latency", HELP).labels(["peer.name"]), Some(&[1.0]))
        .unwrap();
    latency.labels(&["db"]).unwrap().observe(0.5).unwrap();
    registry
}

#[test]
fn accepted_utf8_names_stay_valid_under_every_escaping() {
    let registry = utf8_registry();
    let promtool = std::env::var("PROMTOOL").unwrap_or_else(|_| "promtool".into());
    for escaping in [Escaping::Underscores, Escaping::Dots, Escaping::Values] {
        let text = registry.render_with(Format::Text, escaping);
        let out = run_with_stdin(
            Command::new(&promtool).args(["check", "metrics"]),
            text.as_bytes(),
        );
        assert!(
            out.status.success(),
            "{escaping:?}: {}\n---\n{text}",
            String::from_utf8_lossy(&out.stdout)
        );
        let om = registry.render_with(Format::OpenMetrics, escaping);
        let families = parsed_by_prometheus_client("openmetrics", &om);
        assert_eq!(families.len(), 3, "{escaping:?}:\n{om}");
    }
}
