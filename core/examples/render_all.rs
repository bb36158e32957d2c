//! Prints one family of every metric type, with hostile label values and help text, in
//! the format named by the first argument (`text` or `openmetrics`). The conformance
//! checks in `make test` feed this output to `promtool` and `prometheus_client`.

use gds_metrics::{Format, Opts, Registry};

const HOSTILE: &str = "quote \" backslash \\ newline \n unicode é ☃ end";

fn main() -> Result<(), gds_metrics::Error> {
    let format = match std::env::args().nth(1).as_deref() {
        Some("openmetrics") => Format::OpenMetrics,
        _ => Format::Text,
    };
    let registry = Registry::new();
    registry.set_emit_created(true);
    let help = format!("Help with {HOSTILE}");
    let labels = ["kind", "value"];

    let counter = registry.counter(Opts::new("demo_events_total", help.clone()).labels(labels))?;
    counter.labels(&["plain", "a"])?.inc_by(3);
    counter.labels(&["hostile", HOSTILE])?.inc_by_f64(2.5)?;

    let gauge = registry.gauge(
        Opts::new("demo_temperature_celsius", help.clone())
            .unit("celsius")
            .labels(labels),
    )?;
    gauge.labels(&["plain", "a"])?.set(-4.25);
    gauge.labels(&["hostile", HOSTILE])?.set(f64::INFINITY);
    gauge.labels(&["nan", ""])?.set(f64::NAN);

    let histogram = registry.histogram(
        Opts::new("demo_latency_seconds", help.clone()).labels(labels),
        None,
    )?;
    for v in [0.001, 0.2, 3.0, 50.0] {
        histogram.labels(&["hostile", HOSTILE])?.observe(v)?;
    }
    let custom = registry.histogram(
        Opts::new("demo_size_bytes", help.clone()),
        Some(&[1.0, 10.0, 100.0]),
    )?;
    custom.get()?.observe(7.0)?;

    let summary = registry.summary(Opts::new("demo_payload", help.clone()).labels(labels))?;
    summary.labels(&["hostile", HOSTILE])?.observe(12.5)?;

    let info = registry.info(Opts::new("demo_build", help).labels(["version", "note"]))?;
    info.labels(&["1.2.3", HOSTILE])?;

    print!("{}", registry.render(format));
    Ok(())
}
