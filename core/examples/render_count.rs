//! Renders 10,000 counter series (two labels) as text and as protobuf, 20 times each: a
//! fixed amount of work to count instructions of (valgrind/perf), unlike a timed bench.
fn main() {
    let registry = gds_metrics::Registry::new();
    let requests = registry
        .counter(gds_metrics::Opts::new("requests", "Requests.").labels(["method", "path"]))
        .unwrap();
    for i in 0..10_000 {
        requests.labels(&["GET", &format!("/path/{i}")]).unwrap().inc();
    }
    let format = match std::env::args().nth(1).as_deref() {
        Some("protobuf") => gds_metrics::Format::Protobuf,
        _ => gds_metrics::Format::Text,
    };
    let mut buf = Vec::new();
    let mut total = 0;
    for _ in 0..20 {
        buf.clear();
        registry.encode(format, &mut buf);
        total += buf.len();
    }
    println!("{total}");
}
