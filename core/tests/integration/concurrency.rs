//! Updates from many threads while scrapes run: no increment is lost, and every scrape sees
//! a consistent histogram (CONTRACT section 3; the Go client's hot/cold guarantee).

use gds_metrics::{Format, Opts, Registry};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

const THREADS: u64 = 4;
const PER_THREAD: u64 = 100_000;

#[test]
fn no_increment_is_lost_through_one_shared_handle() {
    let registry = Registry::new();
    let counter = registry.counter(Opts::new("c", "h")).unwrap().get().unwrap();
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| (0..PER_THREAD).for_each(|_| counter.inc()));
        }
    });
    assert_eq!(counter.get(), (THREADS * PER_THREAD) as f64);
}

#[test]
fn no_increment_is_lost_through_label_lookups_that_create_series() {
    let registry = Registry::new();
    let family = registry.counter(Opts::new("c", "h").labels(["n"])).unwrap();
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for i in 0..PER_THREAD {
                    let label = (i % 100).to_string();
                    family.with(&[label], |c| c.inc()).unwrap();
                }
            });
        }
    });
    let mut total = 0.0;
    let mut series = 0;
    family.for_each(|_, c| {
        assert_eq!(c.get(), (THREADS * PER_THREAD / 100) as f64);
        total += c.get();
        series += 1;
    });
    assert_eq!((series, total), (100, (THREADS * PER_THREAD) as f64));
}

#[test]
fn whole_and_fractional_increments_add_up_exactly() {
    let registry = Registry::new();
    let counter = registry.counter(Opts::new("c", "h")).unwrap().get().unwrap();
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for _ in 0..PER_THREAD {
                    counter.inc();
                    counter.inc_by_f64(0.5).unwrap();
                }
            });
        }
    });
    assert_eq!(counter.get(), (THREADS * PER_THREAD) as f64 * 1.5);
}

/// Observations are 0.25 (bucket `le="0.25"`) or 3.0 (bucket `le="5.0"`), so a scrape can
/// work out from its own buckets what `_sum` must be, exactly.
const SMALL: f64 = 0.25;
const LARGE: f64 = 3.0;

#[derive(Debug, Default)]
struct Scraped {
    buckets: Vec<f64>,
    count: f64,
    sum: f64,
}

/// Reads the histogram `h` from a text exposition.
fn parse_histogram(text: &str) -> Scraped {
    let mut scraped = Scraped::default();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (name, value) = line.rsplit_once(' ').unwrap();
        let value: f64 = value.parse().unwrap();
        if name.starts_with("h_bucket") {
            scraped.buckets.push(value);
        } else if name == "h_count" {
            scraped.count = value;
        } else if name == "h_sum" {
            scraped.sum = value;
        }
    }
    scraped
}

fn assert_consistent(s: &Scraped) {
    assert_eq!(s.buckets.last(), Some(&s.count), "+Inf must equal _count: {s:?}");
    assert!(
        s.buckets.windows(2).all(|w| w[0] <= w[1]),
        "buckets must be cumulative: {s:?}"
    );
    let small = s.buckets[0];
    let large = s.count - small;
    assert_eq!(
        s.sum,
        small * SMALL + large * LARGE,
        "_sum must cover the counted observations: {s:?}"
    );
}

#[test]
fn every_scrape_sees_a_consistent_histogram_while_threads_observe() {
    let registry = Arc::new(Registry::new());
    let histogram = registry
        .histogram(Opts::new("h", "h"), Some(&[SMALL, 1.0, 5.0]))
        .unwrap()
        .get()
        .unwrap();
    let observing = AtomicBool::new(true);
    let scrapes = thread::scope(|s| {
        let observers: Vec<_> = (0..THREADS)
            .map(|t| {
                let h = &histogram;
                s.spawn(move || {
                    for i in 0..PER_THREAD {
                        h.observe(if (i + t) % 3 == 0 { LARGE } else { SMALL }).unwrap();
                    }
                })
            })
            .collect();
        let scraper = s.spawn(|| {
            let mut scrapes = 0;
            let mut last_count = 0.0;
            while observing.load(Ordering::Relaxed) {
                let scraped = parse_histogram(&registry.render(Format::Text));
                assert_consistent(&scraped);
                assert!(scraped.count >= last_count, "_count went backwards");
                last_count = scraped.count;
                let snapshot = histogram.snapshot();
                assert_eq!(snapshot.cumulative.last(), Some(&snapshot.count()));
                scrapes += 1;
            }
            scrapes
        });
        observers.into_iter().for_each(|o| o.join().unwrap());
        observing.store(false, Ordering::Relaxed);
        scraper.join().unwrap()
    });
    assert!(scrapes > 0);
    let last = parse_histogram(&registry.render(Format::Text));
    assert_consistent(&last);
    assert_eq!(last.count, (THREADS * PER_THREAD) as f64);
}

#[test]
fn every_summary_scrape_pairs_count_and_sum_of_the_same_observations() {
    let registry = Registry::new();
    let summary = registry.summary(Opts::new("s", "h")).unwrap().get().unwrap();
    let observing = AtomicBool::new(true);
    thread::scope(|s| {
        let observers: Vec<_> = (0..THREADS)
            .map(|_| s.spawn(|| (0..PER_THREAD).for_each(|_| summary.observe(2.0).unwrap())))
            .collect();
        s.spawn(|| {
            while observing.load(Ordering::Relaxed) {
                let (count, sum) = summary.get();
                assert_eq!(sum, count as f64 * 2.0);
            }
        });
        observers.into_iter().for_each(|o| o.join().unwrap());
        observing.store(false, Ordering::Relaxed);
    });
    assert_eq!(
        summary.get(),
        (THREADS * PER_THREAD, (THREADS * PER_THREAD) as f64 * 2.0)
    );
}

/// Scrapes while other threads add and remove series (across many of the render's lock
/// chunks): a scrape never shows a label set twice, and always shows every series that
/// lives through it.
#[test]
fn scrapes_during_churn_show_each_series_once_and_every_stable_one() {
    const STABLE: usize = 10_000;
    let registry = Registry::new();
    registry.set_series_limit(usize::MAX);
    let family = registry.counter(Opts::new("c", "h").labels(["k"])).unwrap();
    (0..STABLE).for_each(|i| family.labels(&[format!("s{i}")]).unwrap().inc());
    let done = AtomicBool::new(false);
    thread::scope(|s| {
        for t in 0..2 {
            let (family, done) = (&family, &done);
            s.spawn(move || {
                let mut i = 0u64;
                while !done.load(Ordering::Relaxed) {
                    let key = [format!("churn{t}-{}", i % 5_000)];
                    if (i / 5_000).is_multiple_of(2) {
                        family.labels(&key).unwrap().inc();
                    } else {
                        family.remove(&key).unwrap();
                    }
                    i += 1;
                }
            });
        }
        for _ in 0..20 {
            let text = registry.render(Format::Text);
            let mut seen = std::collections::HashSet::new();
            let mut stable = 0;
            for line in text.lines().filter(|l| l.starts_with("c_total{")) {
                let labels = line.split(' ').next().unwrap();
                assert!(seen.insert(labels.to_owned()), "{labels} twice in one scrape");
                stable += usize::from(labels.starts_with("c_total{k=\"s"));
            }
            assert_eq!(stable, STABLE);
        }
        done.store(true, Ordering::Relaxed);
    });
}
