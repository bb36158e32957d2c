//! The exact bytes of both expositions (CONTRACT section 3), and escaping that survives any
//! label value or HELP text.

use gds_metrics::{Format, Opts, Registry};
use proptest::prelude::*;

fn one_of_each() -> Registry {
    let registry = Registry::new();
    let c = registry
        .counter(Opts::new("jobs_total", "Jobs \"done\".\nBy queue \\ kind.").labels(["queue"]))
        .unwrap();
    c.labels(&["a\"b\\c\nd"]).unwrap().inc_by(2);
    let g = registry
        .gauge(Opts::new("temperature_celsius", "Temperature.").unit("celsius"))
        .unwrap();
    g.get().unwrap().set(-1.5);
    let h = registry
        .histogram(Opts::new("latency_seconds", "Latency."), Some(&[0.1, 1.0]))
        .unwrap();
    h.get().unwrap().observe(0.5).unwrap();
    h.get().unwrap().observe(2.0).unwrap();
    registry
        .summary(Opts::new("payload_bytes", "Payload."))
        .unwrap()
        .get()
        .unwrap()
        .observe(3.0)
        .unwrap();
    registry
        .info(Opts::new("build", "Build.").labels(["version"]))
        .unwrap()
        .labels(&["1.0"])
        .unwrap();
    registry
}

#[test]
fn text_format_is_exact() {
    assert_eq!(
        one_of_each().render(Format::Text),
        "# HELP jobs_total Jobs \"done\".\\nBy queue \\\\ kind.\n\
         # TYPE jobs_total counter\n\
         jobs_total{queue=\"a\\\"b\\\\c\\nd\"} 2.0\n\
         # HELP temperature_celsius Temperature.\n\
         # TYPE temperature_celsius gauge\n\
         temperature_celsius -1.5\n\
         # HELP latency_seconds Latency.\n\
         # TYPE latency_seconds histogram\n\
         latency_seconds_bucket{le=\"0.1\"} 0.0\n\
         latency_seconds_bucket{le=\"1.0\"} 1.0\n\
         latency_seconds_bucket{le=\"+Inf\"} 2.0\n\
         latency_seconds_count 2.0\n\
         latency_seconds_sum 2.5\n\
         # HELP payload_bytes Payload.\n\
         # TYPE payload_bytes summary\n\
         payload_bytes_count 1.0\n\
         payload_bytes_sum 3.0\n\
         # HELP build_info Build.\n\
         # TYPE build_info gauge\n\
         build_info{version=\"1.0\"} 1.0\n"
    );
}

#[test]
fn openmetrics_format_is_exact() {
    assert_eq!(
        one_of_each().render(Format::OpenMetrics),
        "# HELP jobs Jobs \\\"done\\\".\\nBy queue \\\\ kind.\n\
         # TYPE jobs counter\n\
         jobs_total{queue=\"a\\\"b\\\\c\\nd\"} 2.0\n\
         # HELP temperature_celsius Temperature.\n\
         # TYPE temperature_celsius gauge\n\
         # UNIT temperature_celsius celsius\n\
         temperature_celsius -1.5\n\
         # HELP latency_seconds Latency.\n\
         # TYPE latency_seconds histogram\n\
         latency_seconds_bucket{le=\"0.1\"} 0.0\n\
         latency_seconds_bucket{le=\"1.0\"} 1.0\n\
         latency_seconds_bucket{le=\"+Inf\"} 2.0\n\
         latency_seconds_count 2.0\n\
         latency_seconds_sum 2.5\n\
         # HELP payload_bytes Payload.\n\
         # TYPE payload_bytes summary\n\
         payload_bytes_count 1.0\n\
         payload_bytes_sum 3.0\n\
         # HELP build Build.\n\
         # TYPE build info\n\
         build_info{version=\"1.0\"} 1.0\n\
         # EOF\n"
    );
}

#[test]
fn created_samples_follow_their_series_in_openmetrics_only() {
    let registry = Registry::new();
    registry.set_emit_created(true);
    let c = registry.counter(Opts::new("jobs", "h")).unwrap().get().unwrap();
    let om = registry.render(Format::OpenMetrics);
    let created = format!("jobs_created {}", ryu::Buffer::new().format(c.created()));
    let lines: Vec<&str> = om.lines().collect();
    assert_eq!(lines[2], "jobs_total 0.0");
    assert_eq!(lines[3], created);
    assert!(!registry.render(Format::Text).contains("_created"));
}

#[test]
fn numbers_are_canonical() {
    let registry = Registry::new();
    let g = registry.gauge(Opts::new("g", "h").labels(["v"])).unwrap();
    for (label, value) in [
        ("inf", f64::INFINITY),
        ("ninf", f64::NEG_INFINITY),
        ("nan", f64::NAN),
    ] {
        g.labels(&[label]).unwrap().set(value);
    }
    g.labels(&["big"]).unwrap().set(1e21);
    g.labels(&["small"]).unwrap().set(0.005);
    let mut samples: Vec<String> = registry
        .render(Format::Text)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    samples.sort();
    assert_eq!(
        samples,
        [
            "g{v=\"big\"} 1e21",
            "g{v=\"inf\"} +Inf",
            "g{v=\"nan\"} NaN",
            "g{v=\"ninf\"} -Inf",
            "g{v=\"small\"} 0.005",
        ]
    );
}

#[test]
fn encoding_appends_to_a_reused_buffer() {
    let registry = one_of_each();
    let mut buf = b"prefix\n".to_vec();
    registry.encode(Format::Text, &mut buf);
    assert_eq!(&buf[..7], b"prefix\n");
    assert_eq!(&buf[7..], registry.render(Format::Text).as_bytes());
}

/// Reverses escaping of `\\`, `\n` and (when `quotes`) `\"`, failing on anything else
/// after `\` and on a raw newline or an unescaped quote.
fn unescape(escaped: &str, quotes: bool) -> Option<String> {
    let mut out = String::new();
    let mut chars = escaped.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                '\\' => out.push('\\'),
                '"' if quotes => out.push('"'),
                'n' => out.push('\n'),
                _ => return None,
            },
            '"' if quotes => return None,
            '\n' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// The label value of a one-label sample line `name{l="value"} 1.0`.
fn label_value_of(line: &str) -> &str {
    let start = line.find("=\"").unwrap() + 2;
    let end = line.rfind("\"}").unwrap();
    &line[start..end]
}

proptest! {
    #[test]
    fn any_label_value_round_trips_through_both_formats(value in any::<String>()) {
        let registry = Registry::new();
        registry.gauge(Opts::new("g", "h").labels(["l"])).unwrap().labels(&[value.as_str()]).unwrap().set(1.0);
        for format in [Format::Text, Format::OpenMetrics] {
            let out = registry.render(format);
            // Split on `\n` only: `\r` is an ordinary character in both formats.
            let lines: Vec<&str> = out.split_terminator('\n').collect();
            let expected_lines = if format == Format::Text { 3 } else { 4 };
            prop_assert_eq!(lines.len(), expected_lines, "a raw newline leaked: {:?}", out);
            prop_assert!(lines[2].ends_with("\"} 1.0"), "{}", lines[2]);
            prop_assert_eq!(unescape(label_value_of(lines[2]), true), Some(value.clone()));
        }
    }

    #[test]
    fn any_help_text_stays_on_its_line(help in any::<String>()) {
        let registry = Registry::new();
        registry.gauge(Opts::new("g", help.clone())).unwrap();
        let text = registry.render(Format::Text);
        let line = text.split('\n').next().unwrap().strip_prefix("# HELP g ").unwrap();
        // Text 0.0.4 escapes only `\` and newline in HELP.
        prop_assert_eq!(unescape(line, false), Some(help.clone()));
        let om = registry.render(Format::OpenMetrics);
        let line = om.split('\n').next().unwrap().strip_prefix("# HELP g ").unwrap();
        prop_assert_eq!(unescape(line, true), Some(help));
        prop_assert_eq!(text.split_terminator('\n').count(), 3);
    }
}
