//! Renders a counter family of N series (two labels) once, as text: the render path alone,
//! for instruction and cache profiles of how its cost grows with N.
//!
//! ```text
//! cargo build --release -p gds-metrics --example render_profile
//! valgrind --tool=cachegrind --cache-sim=yes target/release/examples/render_profile 100000
//! ```

use gds_metrics::{Format, Opts, Registry};

fn main() {
    let series: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let registry = Registry::new();
    registry.set_series_limit(series);
    let requests = registry
        .counter(Opts::new("requests", "Requests.").labels(["method", "path"]))
        .expect("a valid family");
    for i in 0..series {
        let path = format!("/route/{i}");
        requests
            .labels(&["GET", path.as_str()])
            .expect("two labels")
            .inc();
    }
    let mut out = Vec::new();
    registry.encode(Format::Text, &mut out);
    println!("{series} series, {} bytes", out.len());
}
