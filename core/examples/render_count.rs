//! Renders one family of 10,000 series (two labels) 20 times, as text or protobuf: a
//! fixed amount of work to count the instructions of, unlike a timed bench. The family
//! holds counters, or gauges or classic histograms (the default buckets) when asked:
//!
//! ```text
//! cargo build --release -p gds-metrics --example render_count
//! valgrind --tool=callgrind --toggle-collect='*Registry*encode*' \
//!     target/release/examples/render_count [text|protobuf] [counter|gauge|histogram]
//! ```
//!
//! `--toggle-collect` counts only the renders, not the series' creation. The program
//! prints the bytes rendered, so a change in output shows as a change in that total.
use gds_metrics::{Format, Opts, Registry};

const SERIES: usize = 10_000;
const RENDERS: usize = 20;

fn main() {
    let mut args = std::env::args().skip(1);
    let format = match args.next().as_deref() {
        Some("protobuf") => Format::Protobuf,
        _ => Format::Text,
    };
    let registry = Registry::new();
    registry.set_series_limit(SERIES);
    let opts = Opts::new("requests", "Requests.").labels(["method", "path"]);
    let path = |i: usize| ["GET".to_owned(), format!("/path/{i}")];
    match args.next().as_deref() {
        Some("gauge") => {
            let family = registry.gauge(opts).unwrap();
            (0..SERIES).for_each(|i| family.labels(&path(i)).unwrap().set(i as f64));
        }
        Some("histogram") => {
            let family = registry.histogram(opts, None).unwrap();
            (0..SERIES).for_each(|i| {
                family
                    .labels(&path(i))
                    .unwrap()
                    .observe(i as f64 / 1000.0)
                    .unwrap()
            });
        }
        _ => {
            let family = registry.counter(opts).unwrap();
            (0..SERIES).for_each(|i| family.labels(&path(i)).unwrap().inc());
        }
    }
    let mut buf = Vec::new();
    let mut total = 0;
    for _ in 0..RENDERS {
        buf.clear();
        registry.encode(format, &mut buf);
        total += buf.len();
    }
    println!("{total}");
}
