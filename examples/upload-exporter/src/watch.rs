//! Listings refreshed on an interval and shared by every scrape: however many Prometheus
//! servers scrape the exporter, each source is listed once per interval.

use crate::source::{Listing, Source};
use futures_util::StreamExt;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One source and what its last listing found.
#[derive(Debug)]
pub struct Watched {
    pub source: Source,
    /// The `source` label.
    pub label: String,
    state: RwLock<ListingState>,
}

/// The outcome of a source's listings so far.
#[derive(Debug, Default, Clone)]
pub struct ListingState {
    /// The last listing, `None` when it failed (or none has finished): never stale values.
    pub listing: Option<Listing>,
    /// When the last successful listing finished, Unix seconds.
    pub last_success: Option<f64>,
}

impl Watched {
    pub fn new(source: Source, label: String) -> Watched {
        Watched {
            source,
            label,
            state: RwLock::new(ListingState::default()),
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
                state.listing = Some(listing);
                state.last_success = Some(unix_now());
            }
            Err(error) => {
                // Never an app GUID or a credential here: the error names the location.
                eprintln!("upload-exporter: listing {} failed: {error}", self.label);
                state.listing = None;
            }
        }
    }
}

/// Lists every source once, at most `concurrency` at a time.
pub async fn refresh_all(watched: &[Arc<Watched>], timeout: Duration, concurrency: usize) {
    futures_util::stream::iter(watched)
        .for_each_concurrent(concurrency, |source| source.refresh(timeout))
        .await;
}

/// Lists every source every `interval`, forever.
pub async fn refresh_forever(
    watched: Vec<Arc<Watched>>,
    interval: Duration,
    timeout: Duration,
    concurrency: usize,
) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        refresh_all(&watched, timeout, concurrency).await;
    }
}

pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |elapsed| elapsed.as_secs_f64())
}
