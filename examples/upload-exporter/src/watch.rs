//! Listings refreshed on an interval and shared by every scrape: however many Prometheus
//! servers scrape the exporter, each source is listed once per interval.

use crate::source::{Listing, Source};
use crate::state::{note_arrival, Arrivals, StateStore};
use futures_util::StreamExt;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One source and what its last listing found.
#[derive(Debug)]
pub struct Watched {
    /// Where the files are listed from.
    pub source: Source,
    /// The `source` label.
    pub label: String,
    state: RwLock<ListingState>,
    /// Listings that failed, timed out or were cut, since the exporter started.
    failures: AtomicU64,
}

/// The outcome of a source's listings so far.
#[derive(Debug, Default, Clone)]
pub struct ListingState {
    /// The last listing, `None` when it failed (or none has finished): never stale values.
    pub listing: Option<Listing>,
    /// When the last successful listing finished, Unix seconds.
    pub last_success: Option<f64>,
    /// Per prefix, the newest modification time any listing has seen: a file that
    /// arrived and was then deleted (processed) still counts for its deadline period.
    pub arrivals: BTreeMap<String, f64>,
}

impl Watched {
    /// A source not listed yet: no listing, no arrivals, no failures.
    pub fn new(source: Source, label: String) -> Watched {
        Watched {
            source,
            label,
            state: RwLock::new(ListingState::default()),
            failures: AtomicU64::new(0),
        }
    }

    /// Listings of this source that failed, timed out or were cut.
    pub fn failures(&self) -> u64 {
        self.failures.load(Relaxed)
    }

    /// Remembers arrivals read back from the state (newer ones already seen win).
    fn remember(&self, arrivals: &BTreeMap<String, f64>) {
        let mut state = self
            .state
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for (prefix, seconds) in arrivals {
            note_arrival(&mut state.arrivals, prefix.clone(), *seconds);
        }
    }

    /// A copy of the current state.
    pub fn state(&self) -> ListingState {
        self.state
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Lists the source once, within `timeout`, and records the outcome.
    async fn refresh(&self, timeout: Duration) {
        let result = match tokio::time::timeout(timeout, self.source.list()).await {
            Ok(result) => result,
            Err(_) => Err(format!("listing took longer than {}s", timeout.as_secs())),
        };
        let mut state = self
            .state
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match result {
            Ok(listing) => {
                for (prefix, stats) in &listing.prefixes {
                    if let Some(newest) = stats.newest_mtime {
                        note_arrival(&mut state.arrivals, prefix.clone(), newest);
                    }
                }
                state.listing = Some(listing);
                state.last_success = Some(unix_now());
            }
            Err(error) => {
                // Never an app GUID or a credential here: the error names the location.
                eprintln!("upload-exporter: listing {} failed: {error}", self.label);
                self.failures.fetch_add(1, Relaxed);
                state.listing = None;
            }
        }
    }
}

/// How the sources are listed: timeout, concurrency, and where arrivals are kept across
/// restarts (`None`: in memory only).
#[derive(Debug, Clone)]
pub struct Refresh {
    /// How long one source's listing may take before it counts as failed.
    pub timeout: Duration,
    /// How many sources are listed at once.
    pub concurrency: usize,
    /// Where arrivals are saved after every refresh and read back at start.
    pub state: Option<Arc<StateStore>>,
}

/// Lists every source once, at most `concurrency` at a time, then saves the arrivals
/// (and remembers those other instances saved).
pub async fn refresh_all(watched: &[Arc<Watched>], refresh: &Refresh) {
    futures_util::stream::iter(watched)
        .for_each_concurrent(refresh.concurrency, |source| source.refresh(refresh.timeout))
        .await;
    if let Some(state) = &refresh.state {
        let arrivals: Arrivals = watched
            .iter()
            .map(|source| (source.label.clone(), source.state().arrivals))
            .collect();
        match state.save(&arrivals).await {
            Ok(stored) => remember_all(watched, &stored),
            Err(error) => eprintln!("upload-exporter: {error}"),
        }
    }
}

/// Lists every source every `interval`, forever.
pub async fn refresh_forever(watched: Vec<Arc<Watched>>, interval: Duration, refresh: Refresh) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        refresh_all(&watched, &refresh).await;
    }
}

/// Reads the arrivals a previous run saved into `watched`; nothing saved is a first run.
pub async fn load_arrivals(state: &StateStore, watched: &[Arc<Watched>]) -> Result<(), String> {
    remember_all(watched, &state.load().await?);
    Ok(())
}

fn remember_all(watched: &[Arc<Watched>], arrivals: &Arrivals) {
    for source in watched {
        if let Some(arrivals) = arrivals.get(&source.label) {
            source.remember(arrivals);
        }
    }
}

/// The current time in Unix seconds, as Prometheus timestamps are given (0 if the clock
/// is before 1970).
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |elapsed| elapsed.as_secs_f64())
}
