//! Labelled families: a series is found by its full label values, so two different label
//! sets never share a series, whatever the values (empty, long, hash-colliding or not).

use gds_metrics::{Format, Opts, Registry};
use proptest::collection::{hash_map, vec};
use proptest::prelude::*;
use std::collections::HashMap;

fn label_value() -> impl Strategy<Value = String> {
    // Few distinct characters, so that prefixes, splits (`a`+`bc` vs `ab`+`c`) and repeats
    // of label sets are common.
    prop_oneof!["[ab\"\\\\\n]{0,3}", any::<String>()]
}

proptest! {
    #[test]
    fn distinct_label_sets_never_share_a_series(
        updates in vec(((label_value(), label_value()), 1u64..1000), 1..60)
    ) {
        let registry = Registry::new();
        let family = registry.counter(Opts::new("c", "h").labels(["a", "b"])).unwrap();
        let mut expected: HashMap<(String, String), u64> = HashMap::new();
        for ((a, b), n) in &updates {
            family.with(&[a, b], |c| c.inc_by(*n)).unwrap();
            *expected.entry((a.clone(), b.clone())).or_default() += n;
        }
        for ((a, b), total) in &expected {
            prop_assert_eq!(family.labels(&[a, b]).unwrap().get(), *total as f64);
        }
        let mut seen = 0;
        family.for_each(|values, counter| {
            let key = (values[0].to_string(), values[1].to_string());
            assert_eq!(Some(counter.get()), expected.get(&key).map(|n| *n as f64), "{key:?}");
            seen += 1;
        });
        prop_assert_eq!(seen, expected.len());
        let samples = registry.render(Format::Text).split_terminator('\n').filter(|l| !l.starts_with('#')).count();
        prop_assert_eq!(samples, expected.len());
    }

    #[test]
    fn removing_a_series_leaves_the_others_untouched(
        series in hash_map(label_value(), 1u64..100, 1..30),
        removed in any::<prop::sample::Index>(),
    ) {
        let registry = Registry::new();
        let family = registry.gauge(Opts::new("g", "h").labels(["k"])).unwrap();
        for (k, v) in &series {
            family.labels(&[k]).unwrap().set(*v as f64);
        }
        let keys: Vec<&String> = series.keys().collect();
        let gone = keys[removed.index(keys.len())];
        prop_assert!(family.remove(&[gone]).unwrap());
        let mut left = HashMap::new();
        family.for_each(|values, gauge| {
            left.insert(values[0].to_string(), gauge.get());
        });
        let mut expected: HashMap<String, f64> = series.iter().map(|(k, v)| (k.clone(), *v as f64)).collect();
        expected.remove(gone);
        prop_assert_eq!(left, expected);
    }
}

#[test]
fn a_handle_kept_across_lookups_is_the_same_series() {
    let registry = Registry::new();
    let family = registry.counter(Opts::new("c", "h").labels(["a"])).unwrap();
    let handle = family.labels(&["x"]).unwrap();
    handle.inc();
    family.with(&["x"], |c| c.inc_by(2)).unwrap();
    family.labels(&[String::from("x")]).unwrap().inc();
    assert_eq!(handle.get(), 4.0);
}

#[test]
fn a_removed_series_starts_again_at_zero_while_old_handles_still_work() {
    let registry = Registry::new();
    let family = registry.counter(Opts::new("c", "h").labels(["a"])).unwrap();
    let old = family.labels(&["x"]).unwrap();
    old.inc_by(5);
    assert!(family.remove(&["x"]).unwrap());
    old.inc();
    assert_eq!(old.get(), 6.0);
    assert_eq!(family.labels(&["x"]).unwrap().get(), 0.0);
}

#[test]
fn clear_forgets_every_labelled_series() {
    let registry = Registry::new();
    let family = registry.gauge(Opts::new("g", "h").labels(["a"])).unwrap();
    for v in ["x", "y", "z"] {
        family.labels(&[v]).unwrap().set(1.0);
    }
    family.clear();
    assert_eq!(registry.render(Format::Text), "# HELP g h\n# TYPE g gauge\n");
}

#[test]
fn a_family_without_labels_is_exposed_at_zero_before_any_update() {
    let registry = Registry::new();
    registry.counter(Opts::new("c", "h")).unwrap();
    registry.histogram(Opts::new("h", "h"), Some(&[1.0])).unwrap();
    assert_eq!(
        registry.render(Format::Text),
        "# HELP c_total h\n# TYPE c_total counter\nc_total 0.0\n\
         # HELP h h\n# TYPE h histogram\n\
         h_bucket{le=\"1.0\"} 0.0\nh_bucket{le=\"+Inf\"} 0.0\nh_count 0.0\nh_sum 0.0\n"
    );
}
