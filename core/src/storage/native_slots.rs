//! Native histogram buckets in a series' slots (layout in [`crate::storage::layout`]): the writer
//! mirrors its in-memory buckets there under a seqlock, readers of any process take a
//! consistent copy.

use super::Slots;
use crate::model::{NativeSnapshot, SparseBuckets};
use crate::storage::layout::{
    NATIVE_NEGATIVE_USED, NATIVE_PAIRS, NATIVE_POSITIVE_USED, NATIVE_SCHEMA, NATIVE_SEQ, NATIVE_ZERO_COUNT,
    NATIVE_ZERO_THRESHOLD,
};
use std::sync::atomic::{fence, Ordering};

/// Where a series' native region is and how many buckets per sign it holds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NativeRegion {
    pub(crate) start: usize,
    pub(crate) capacity: usize,
}

impl NativeRegion {
    fn pair(&self, negative: bool, i: usize) -> usize {
        self.start + NATIVE_PAIRS + 2 * (i + if negative { self.capacity } else { 0 })
    }

    /// Rewrites the whole region from `snapshot` (after a new bucket, a schema change or a
    /// reset). Buckets beyond the capacity are dropped: the writer lowers its schema to
    /// stay within the bucket limit, which is the capacity.
    pub(crate) fn write(&self, slots: &Slots, snapshot: &NativeSnapshot) {
        slots.write_begin(self.start + NATIVE_SEQ);
        slots.set_u64(self.start + NATIVE_SCHEMA, i64::from(snapshot.schema) as u64);
        slots.set_f64(self.start + NATIVE_ZERO_THRESHOLD, snapshot.zero_threshold);
        slots.set_u64(self.start + NATIVE_ZERO_COUNT, snapshot.zero_count);
        for (negative, buckets, used_at) in [
            (false, &snapshot.positive, NATIVE_POSITIVE_USED),
            (true, &snapshot.negative, NATIVE_NEGATIVE_USED),
        ] {
            let mut used = 0;
            for (index, count) in buckets.iter().take(self.capacity) {
                let at = self.pair(negative, used);
                slots.set_u64(at, i64::from(index) as u64);
                slots.set_u64(at + 1, count);
                used += 1;
            }
            slots.set_u64(self.start + used_at, used as u64);
        }
        slots.write_end(self.start + NATIVE_SEQ);
    }

    /// Adds one observation to an existing bucket (`None`: the zero bucket) without
    /// rewriting the region. Returns false when the bucket is not in the region, so the
    /// caller rewrites it.
    pub(crate) fn add(&self, slots: &Slots, bucket: Option<(bool, i32)>) -> bool {
        let Some((negative, index)) = bucket else {
            slots.write_begin(self.start + NATIVE_SEQ);
            slots.add_u64(self.start + NATIVE_ZERO_COUNT, 1);
            slots.write_end(self.start + NATIVE_SEQ);
            return true;
        };
        let used_at = if negative {
            NATIVE_NEGATIVE_USED
        } else {
            NATIVE_POSITIVE_USED
        };
        let used = slots.get_u64(self.start + used_at) as usize;
        let (mut low, mut high) = (0, used.min(self.capacity));
        while low < high {
            let mid = (low + high) / 2;
            let at_mid = slots.get_u64(self.pair(negative, mid)) as i64 as i32;
            if at_mid < index {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        if low == used || slots.get_u64(self.pair(negative, low)) as i64 as i32 != index {
            return false;
        }
        slots.write_begin(self.start + NATIVE_SEQ);
        slots.add_u64(self.pair(negative, low) + 1, 1);
        slots.write_end(self.start + NATIVE_SEQ);
        true
    }
}

/// The words of a native region holding `snapshot` (lowered to fit `capacity`), for
/// files written whole such as the archive.
pub(crate) fn words(snapshot: &NativeSnapshot, capacity: usize) -> Vec<u64> {
    let mut snapshot = snapshot.clone();
    snapshot.fit(capacity);
    let mut words = vec![0; super::layout::native_len(capacity)];
    words[NATIVE_SCHEMA] = i64::from(snapshot.schema) as u64;
    words[NATIVE_ZERO_THRESHOLD] = snapshot.zero_threshold.to_bits();
    words[NATIVE_ZERO_COUNT] = snapshot.zero_count;
    let region = NativeRegion { start: 0, capacity };
    for (negative, buckets, used_at) in [
        (false, &snapshot.positive, NATIVE_POSITIVE_USED),
        (true, &snapshot.negative, NATIVE_NEGATIVE_USED),
    ] {
        let mut used = 0;
        for (index, count) in buckets.iter().take(capacity) {
            let at = region.pair(negative, used);
            words[at] = i64::from(index) as u64;
            words[at + 1] = count;
            used += 1;
        }
        words[used_at] = used as u64;
    }
    words
}

/// Reads a native region through `load` (an atomic load of slot `i`), retrying while a
/// writer is inside it. A writer that died mid-write leaves the sequence odd for ever;
/// after a bounded number of tries the region is read as it is.
pub(crate) fn read(load: &dyn Fn(usize) -> u64, region: NativeRegion) -> NativeSnapshot {
    let mut tries = 0;
    loop {
        let before = load(region.start + NATIVE_SEQ);
        fence(Ordering::Acquire);
        let snapshot = read_once(load, region);
        fence(Ordering::Acquire);
        let after = load(region.start + NATIVE_SEQ);
        tries += 1;
        if (before.is_multiple_of(2) && before == after) || tries >= 1000 {
            return snapshot;
        }
        std::hint::spin_loop();
    }
}

fn read_once(load: &dyn Fn(usize) -> u64, region: NativeRegion) -> NativeSnapshot {
    let sign = |negative: bool, used_at: usize| {
        let used = (load(region.start + used_at) as usize).min(region.capacity);
        let mut buckets = SparseBuckets::default();
        for i in 0..used {
            let at = region.pair(negative, i);
            buckets.merge_one(load(at) as i64 as i32, load(at + 1));
        }
        buckets
    };
    NativeSnapshot {
        schema: (load(region.start + NATIVE_SCHEMA) as i64).clamp(-4, 8) as i32,
        zero_threshold: f64::from_bits(load(region.start + NATIVE_ZERO_THRESHOLD)),
        zero_count: load(region.start + NATIVE_ZERO_COUNT),
        positive: sign(false, NATIVE_POSITIVE_USED),
        negative: sign(true, NATIVE_NEGATIVE_USED),
    }
}
