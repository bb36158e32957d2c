//! Labelled lookup + increment (two labels, 1,000 series), ours or `fastmetrics`'s, for
//! instruction counts of one operation on a machine too noisy for wall time:
//!
//! ```text
//! cargo build --release -p gds-metrics --example lookup_profile
//! for n in 0 1000000; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/lookup_profile ours $n 2>&1 | grep refs
//! done
//! ```
//!
//! The difference of the two counts divided by 1,000,000 is the cost of one operation,
//! setup excluded. `fastmetrics` in place of `ours` counts the peer the same way.

use std::hint::black_box;

const SERIES: usize = 1_000;

fn main() {
    let mut args = std::env::args().skip(1);
    let library = args.next().unwrap_or_else(|| "ours".to_owned());
    let ops: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
    let labels = label_values();
    match library.as_str() {
        "ours" => ours(&labels, ops),
        "fastmetrics" => fastmetrics(&labels, ops),
        other => eprintln!("unknown library {other}: ours or fastmetrics"),
    }
}

fn label_values() -> Vec<(String, String)> {
    const METHODS: [&str; 4] = ["GET", "POST", "PUT", "DELETE"];
    (0..SERIES)
        .map(|i| (METHODS[i % 4].to_owned(), format!("/api/v1/resource/{}", i / 4)))
        .collect()
}

/// Creates every series first, so the counted operations are all lookups of existing ones.
fn ours(labels: &[(String, String)], ops: usize) {
    let registry = gds_metrics::Registry::new();
    let family = registry
        .counter(gds_metrics::Opts::new("c", "h").labels(["method", "path"]))
        .expect("a valid family");
    let inc = |i: usize| {
        let (m, p) = &labels[i % SERIES];
        family.with(&[m.as_str(), p.as_str()], |c| c.inc()).unwrap();
    };
    (0..SERIES).for_each(inc);
    (0..ops).for_each(|i| inc(black_box(i)));
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct FastLabels<'a> {
    method: &'a str,
    path: &'a str,
}

impl fastmetrics::raw::LabelSetSchema for FastLabels<'_> {
    fn names() -> Option<&'static [&'static str]> {
        Some(&["method", "path"])
    }
}

impl fastmetrics::encoder::EncodeLabelSet for FastLabels<'_> {
    fn encode(
        &self,
        encoder: &mut dyn fastmetrics::encoder::LabelSetEncoder,
    ) -> fastmetrics::error::Result<()> {
        encoder.encode(&("method", self.method))?;
        encoder.encode(&("path", self.path))
    }
}

fn fastmetrics(labels: &[(String, String)], ops: usize) {
    use fastmetrics::metrics::{counter::Counter, family::Family};
    let family = Family::<FastLabels<'_>, Counter>::default();
    let inc = |i: usize| {
        let (m, p) = &labels[i % SERIES];
        family.with_or_new(&FastLabels { method: m, path: p }, |c| c.inc());
    };
    (0..SERIES).for_each(inc);
    (0..ops).for_each(|i| inc(black_box(i)));
}
