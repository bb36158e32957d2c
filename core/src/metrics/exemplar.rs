//! Where a series keeps its newest exemplars (the exemplar itself is a
//! [`model`](crate::model) value).

use crate::model::Exemplar;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::OnceLock;

/// The newest exemplar of each of `len` slots (one per classic bucket, or one for a
/// counter), allocated on first use so series without exemplars pay one pointer; and the
/// clock tick of the last trace exemplar a request gave the series.
#[derive(Debug, Default)]
pub(crate) struct ExemplarSlots(OnceLock<Mutex<Vec<Option<Exemplar>>>>, AtomicU64);

impl ExemplarSlots {
    /// Whether a request's trace may be the series' exemplar in clock tick `tick`: the
    /// first traced request of each tick is, later ones in the same tick are not.
    pub(crate) fn claim_tick(&self, tick: u64) -> bool {
        if self.1.load(Relaxed) == tick {
            return false;
        }
        self.1.store(tick, Relaxed);
        true
    }

    /// Gives back a claimed tick whose request turned out to carry no trace.
    pub(crate) fn release_tick(&self, tick: u64) {
        let _ = self.1.compare_exchange(tick, 0, Relaxed, Relaxed);
    }

    /// Keeps `exemplar` as the newest of slot `index` of `len`.
    pub(crate) fn record(&self, len: usize, index: usize, exemplar: Exemplar) {
        let slots = self.0.get_or_init(|| Mutex::new(vec![None; len]));
        if let Some(slot) = slots.lock().get_mut(index) {
            *slot = Some(exemplar);
        }
    }

    /// A copy of every slot into `out` (empty when none was ever recorded).
    pub(crate) fn copy_into(&self, out: &mut Vec<Option<Exemplar>>) {
        out.clear();
        if let Some(slots) = self.0.get() {
            out.extend(slots.lock().iter().cloned());
        }
    }

    /// The exemplar of slot `index`, if any.
    pub(crate) fn get(&self, index: usize) -> Option<Exemplar> {
        self.0.get()?.lock().get(index)?.clone()
    }

    /// Forgets every exemplar (a reset of the series).
    pub(crate) fn clear(&self) {
        if let Some(slots) = self.0.get() {
            slots.lock().iter_mut().for_each(|slot| *slot = None);
        }
    }
}
