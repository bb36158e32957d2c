//! Renders a counter family of N series (two labels) R times (default once), as text: for
//! instruction and cache profiles of how the render's cost grows with N. The difference
//! between R = 1 and R = 0 is one render, setup excluded:
//!
//! ```text
//! cargo build --release -p gds-metrics --example render_profile
//! valgrind --tool=cachegrind --cache-sim=yes --LL=4194304,16,64 \
//!     target/release/examples/render_profile 100000 1
//! ```
//!
//! (`--LL` models this machine's 4 MiB L2 as the last level: its L3 is reported as
//! 480 MiB, which would hide every miss.)

use gds_metrics::{Format, Opts, Registry};

fn main() {
    let arg = |i: usize, default: usize| {
        std::env::args()
            .nth(i)
            .and_then(|n| n.parse().ok())
            .unwrap_or(default)
    };
    let (series, renders) = (arg(1, 10_000), arg(2, 1));
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
    for _ in 0..renders {
        out.clear();
        registry.encode(Format::Text, &mut out);
    }
    println!("{series} series, {renders} renders, {} bytes", out.len());
}
