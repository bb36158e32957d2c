//! Where a series keeps its newest exemplars (the exemplar itself is a
//! [`model`](crate::model) value).

use crate::model::Exemplar;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::OnceLock;

/// The newest exemplar of each of `len` slots (one per classic bucket, or one for a
/// counter), allocated on first use so series without exemplars pay one pointer; and the
/// clock tick of the last trace exemplars requests gave the series, with the slots they
/// claimed in it.
#[derive(Debug, Default)]
pub(crate) struct ExemplarSlots(OnceLock<Mutex<Vec<Option<Exemplar>>>>, AtomicU64);

impl ExemplarSlots {
    /// Whether a request's trace may be the series' exemplar for `slot` (its duration's
    /// bucket) in clock tick `tick`: the first traced request of each slot in each tick
    /// is, later ones of the same slot in the same tick are not. So a series under load
    /// parses one header per bucket per tick, and a slow request still marks its own
    /// bucket when a fast one claimed the tick first. Slots from 15 up share one claim.
    ///
    /// The claim word holds the tick with its low 16 bits replaced by one bit per
    /// claimed slot: coarse clock ticks are at least a millisecond apart, far more than
    /// the 65 µs those bits span, so two ticks never share a word. A race between two
    /// requests may let both claim, which only records one more exemplar.
    pub(crate) fn claim_tick(&self, tick: u64, slot: usize) -> bool {
        let (tick, bit) = claim_parts(tick, slot);
        let word = self.1.load(Relaxed);
        if word & !CLAIMED_SLOTS != tick {
            self.1.store(tick | bit, Relaxed);
            return true;
        }
        if word & bit != 0 {
            return false;
        }
        self.1.fetch_or(bit, Relaxed);
        true
    }

    /// Gives back the claim of `slot` in `tick`, for a request that turned out to carry
    /// no trace.
    pub(crate) fn release_tick(&self, tick: u64, slot: usize) {
        let (tick, bit) = claim_parts(tick, slot);
        let _ = self.1.fetch_update(Relaxed, Relaxed, |word| {
            (word & !CLAIMED_SLOTS == tick).then_some(word & !bit)
        });
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

/// The low bits of a claim word: one per claimed slot (see [`ExemplarSlots::claim_tick`]).
const CLAIMED_SLOTS: u64 = 0xffff;

/// The tick part of a claim word for `tick`, and the bit of `slot`.
fn claim_parts(tick: u64, slot: usize) -> (u64, u64) {
    (tick & !CLAIMED_SLOTS, 1 << slot.min(15))
}
