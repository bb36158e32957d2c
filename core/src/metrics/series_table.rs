//! One shard of a family's series: kept in insertion order, their label values packed
//! into one buffer, and found through a hash index of their positions.
//!
//! Why this layout: a render walks `slots` front to back, so it reads the slots, the label
//! text and the series themselves (allocated in insertion order) at rising addresses, which
//! the hardware prefetcher streams. The hash table it replaced held a separate allocation per
//! label value and was walked in hash order, so once a family outgrew the L2 cache every
//! series cost several cache misses and a 100,000-series render took 14 to 46 times as long
//! as a 10,000-series one. A lookup, for its part, compares the caller's values against one
//! contiguous run of bytes instead of following a pointer per value.
//!
//! A removed series leaves a hole (its slot keeps no handle); the holes are squeezed out,
//! order kept, once they are as many as the series left, so removal stays amortised O(1).

use hashbrown::HashTable;

/// Holes tolerated before a compaction is considered, so small tables never churn.
const MIN_HOLES_TO_COMPACT: usize = 32;

pub(super) struct SeriesTable<M> {
    /// Label values per series (the family's label count).
    label_count: usize,
    /// Positions in `slots` of the live series, keyed by the hash of their values.
    index: HashTable<usize>,
    /// Every series in insertion order, holes included.
    slots: Vec<Slot<M>>,
    /// The label values of every slot, back to back in slot order.
    text: String,
    /// Where each value ends in `text`: `label_count` entries per slot.
    ends: Vec<usize>,
    /// Slots whose series was removed.
    holes: usize,
}

struct Slot<M> {
    /// The family-wide insertion number: rising along `slots`, so a family can merge its
    /// shards back into one insertion order.
    seq: u64,
    hash: u64,
    /// `None` once removed.
    series: Option<M>,
}

impl<M> SeriesTable<M> {
    pub(super) fn new(label_count: usize) -> Self {
        Self {
            label_count,
            index: HashTable::new(),
            slots: Vec::new(),
            text: String::new(),
            ends: Vec::new(),
            holes: 0,
        }
    }

    /// The live series.
    pub(super) fn len(&self) -> usize {
        self.slots.len() - self.holes
    }

    /// The series whose values are `values` (exactly `label_count` of them).
    #[inline]
    pub(super) fn find<V: AsRef<str>>(&self, hash: u64, values: &[V]) -> Option<&M> {
        let pos = *self.index.find(hash, |&pos| self.matches(pos, hash, values))?;
        self.slots[pos].series.as_ref()
    }

    /// Adds a series the table does not hold yet (the caller looked it up under the same
    /// write lock).
    pub(super) fn insert<V: AsRef<str>>(&mut self, seq: u64, hash: u64, values: &[V], series: M) {
        debug_assert!(self.slots.last().is_none_or(|last| last.seq < seq));
        debug_assert_eq!(values.len(), self.label_count);
        for value in values {
            let value = value.as_ref();
            grow_for(&mut self.text, value.len());
            self.text.push_str(value);
            grow_for(&mut self.ends, 1);
            self.ends.push(self.text.len());
        }
        let pos = self.slots.len();
        grow_for(&mut self.slots, 1);
        self.slots.push(Slot {
            seq,
            hash,
            series: Some(series),
        });
        let slots = &self.slots;
        self.index.insert_unique(hash, pos, |&p| slots[p].hash);
    }

    /// Removes the series for `values`; returns whether it was there.
    pub(super) fn remove<V: AsRef<str>>(&mut self, hash: u64, values: &[V]) -> bool {
        let slots = &self.slots;
        let (text, ends, n) = (&self.text, &self.ends, self.label_count);
        let found = self.index.find_entry(hash, |&pos| {
            slots[pos].hash == hash && values_match(text, ends, n, pos, values)
        });
        let Ok(entry) = found else {
            return false;
        };
        let (pos, _) = entry.remove();
        self.slots[pos].series = None;
        self.holes += 1;
        if self.holes >= MIN_HOLES_TO_COMPACT && self.holes * 2 >= self.slots.len() {
            self.compact();
        }
        true
    }

    /// Forgets every series.
    pub(super) fn clear(&mut self) {
        self.index.clear();
        self.slots.clear();
        self.text.clear();
        self.ends.clear();
        self.holes = 0;
    }

    /// Calls `f` with the values and series of every live slot, in insertion order.
    pub(super) fn for_each(&self, mut f: impl FnMut(&[&str], &M)) {
        let mut values: Vec<&str> = Vec::with_capacity(self.label_count);
        for pos in 0..self.slots.len() {
            self.visit(pos, &mut values, &mut f);
        }
    }

    /// The position of the first slot inserted as number `seq` or later.
    pub(super) fn position_of(&self, seq: u64) -> usize {
        self.slots.partition_point(|slot| slot.seq < seq)
    }

    /// The insertion number of the slot at `pos`, if there is one.
    #[inline]
    pub(super) fn seq_at(&self, pos: usize) -> Option<u64> {
        self.slots.get(pos).map(|slot| slot.seq)
    }

    /// Calls `f` with the values and series of the slot at `pos`, unless it is a hole;
    /// `values` is scratch space for the values.
    #[inline]
    pub(super) fn visit<'t>(
        &'t self,
        pos: usize,
        values: &mut Vec<&'t str>,
        f: &mut impl FnMut(&[&str], &M),
    ) {
        if let Some(series) = &self.slots[pos].series {
            values.clear();
            values.extend(self.values(pos));
            f(values, series);
        }
    }

    /// The label values of the slot at `pos`.
    fn values(&self, pos: usize) -> impl Iterator<Item = &str> + '_ {
        let n = self.label_count;
        let mut begin = start_of(&self.ends, n, pos);
        self.ends[pos * n..pos * n + n].iter().map(move |&end| {
            let value = &self.text[begin..end];
            begin = end;
            value
        })
    }

    #[inline]
    fn matches<V: AsRef<str>>(&self, pos: usize, hash: u64, values: &[V]) -> bool {
        let slot = &self.slots[pos];
        slot.hash == hash && values_match(&self.text, &self.ends, self.label_count, pos, values)
    }

    /// Squeezes out the holes, keeping the order, and rebuilds the index.
    fn compact(&mut self) {
        let n = self.label_count;
        let old_text = std::mem::take(&mut self.text);
        let old_ends = std::mem::take(&mut self.ends);
        let old_slots = std::mem::take(&mut self.slots);
        self.text.reserve(old_text.len());
        self.ends.reserve(old_ends.len());
        self.slots.reserve(old_slots.len() - self.holes);
        for (pos, slot) in old_slots.into_iter().enumerate() {
            let Some(series) = slot.series else { continue };
            let mut begin = start_of(&old_ends, n, pos);
            for &end in &old_ends[pos * n..pos * n + n] {
                self.text.push_str(&old_text[begin..end]);
                self.ends.push(self.text.len());
                begin = end;
            }
            self.slots.push(Slot {
                seq: slot.seq,
                hash: slot.hash,
                series: Some(series),
            });
        }
        self.holes = 0;
        self.rebuild_index();
    }

    fn rebuild_index(&mut self) {
        self.index.clear();
        let slots = &self.slots;
        for (pos, slot) in slots.iter().enumerate() {
            self.index.insert_unique(slot.hash, pos, |&p| slots[p].hash);
        }
    }
}

/// Where the values of the slot at `pos` start in the text: where the previous slot's
/// last value ends (the text holds every slot's values back to back, holes' included).
#[inline]
fn start_of(ends: &[usize], label_count: usize, pos: usize) -> usize {
    match (pos * label_count).checked_sub(1) {
        Some(last_of_previous) => ends[last_of_previous],
        None => 0,
    }
}

/// Makes room for `more` items, growing by half rather than doubling: these buffers hold
/// most of a family's memory, and a buffer that just doubled is half empty.
fn grow_for<B: Growable>(buffer: &mut B, more: usize) {
    let (len, capacity) = (buffer.len(), buffer.capacity());
    if len + more > capacity {
        buffer.reserve_exact((capacity / 2).max(more).max(4));
    }
}

trait Growable {
    fn len(&self) -> usize;
    fn capacity(&self) -> usize;
    fn reserve_exact(&mut self, additional: usize);
}

impl<T> Growable for Vec<T> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn capacity(&self) -> usize {
        Vec::capacity(self)
    }
    fn reserve_exact(&mut self, additional: usize) {
        Vec::reserve_exact(self, additional)
    }
}

impl Growable for String {
    fn len(&self) -> usize {
        String::len(self)
    }
    fn capacity(&self) -> usize {
        String::capacity(self)
    }
    fn reserve_exact(&mut self, additional: usize) {
        String::reserve_exact(self, additional)
    }
}

/// Whether the values stored for the slot at `pos` are `values`, compared byte for byte.
#[inline]
fn values_match<V: AsRef<str>>(
    text: &str,
    ends: &[usize],
    label_count: usize,
    pos: usize,
    values: &[V],
) -> bool {
    let text = text.as_bytes();
    let mut begin = start_of(ends, label_count, pos);
    for (&end, value) in ends[pos * label_count..pos * label_count + label_count]
        .iter()
        .zip(values)
    {
        if !same_bytes(&text[begin..end], value.as_ref().as_bytes()) {
            return false;
        }
        begin = end;
    }
    true
}

/// `a == b`, without a call to `memcmp` for the short strings label values mostly are:
/// up to 32 bytes are compared as (overlapping) 8-byte words, under 8 as two overlapping
/// halves or bytes.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let len = a.len();
    if len != b.len() {
        return false;
    }
    match len {
        0 => true,
        1..=3 => a.iter().zip(b).all(|(x, y)| x == y),
        4..=7 => word4(a, 0) == word4(b, 0) && word4(a, len - 4) == word4(b, len - 4),
        8..=32 => {
            let mut at = 0;
            while at + 8 < len {
                if word8(a, at) != word8(b, at) {
                    return false;
                }
                at += 8;
            }
            word8(a, len - 8) == word8(b, len - 8)
        }
        _ => a == b,
    }
}

#[inline]
fn word4(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_ne_bytes(word)
}

#[inline]
fn word8(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_ne_bytes(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(values: &[&str]) -> u64 {
        use std::hash::BuildHasher;
        foldhash::fast::FixedState::default().hash_one(values)
    }

    fn table(keys: &[[&str; 2]]) -> SeriesTable<usize> {
        let mut t = SeriesTable::new(2);
        for (i, k) in keys.iter().enumerate() {
            t.insert(i as u64, hash(k), k, i);
        }
        t
    }

    fn listed(t: &SeriesTable<usize>) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        t.for_each(|v, s| out.push((v.join("|"), *s)));
        out
    }

    #[test]
    fn walks_in_insertion_order() {
        let t = table(&[["b", "2"], ["a", "1"], ["c", ""]]);
        let expected = [("b|2", 0), ("a|1", 1), ("c|", 2)].map(|(k, v)| (k.to_owned(), v));
        assert_eq!(listed(&t), expected);
    }

    #[test]
    fn values_are_told_apart_by_their_boundaries() {
        let t = table(&[["ab", "c"], ["a", "bc"]]);
        assert_eq!(t.find(hash(&["ab", "c"]), &["ab", "c"]), Some(&0));
        assert_eq!(t.find(hash(&["a", "bc"]), &["a", "bc"]), Some(&1));
        assert_eq!(t.find(hash(&["abc", ""]), &["abc", ""]), None);
    }

    #[test]
    fn bytes_compare_equal_exactly_when_equal() {
        let texts: Vec<String> = (0..40).map(|n| "abcdefghij".repeat(4)[..n].to_owned()).collect();
        for a in &texts {
            for b in &texts {
                assert_eq!(same_bytes(a.as_bytes(), b.as_bytes()), a == b, "{a:?} {b:?}");
            }
            for i in 0..a.len() {
                let mut changed = a.clone().into_bytes();
                changed[i] ^= 1;
                assert!(!same_bytes(a.as_bytes(), &changed), "{a:?} at {i}");
            }
        }
    }

    #[test]
    fn compaction_keeps_order_and_lookups() {
        let keys: Vec<[String; 2]> = (0..200)
            .map(|i| [format!("k{i}"), format!("{}", i * 7)])
            .collect();
        let mut t = SeriesTable::new(2);
        let pair = |i: usize| [keys[i][0].as_str(), keys[i][1].as_str()];
        for i in 0..keys.len() {
            t.insert(i as u64, hash(&pair(i)), &pair(i), i);
        }
        for i in (0..200).filter(|i| i % 3 != 2) {
            assert!(t.remove(hash(&pair(i)), &pair(i)));
        }
        assert!(t.slots.len() < keys.len(), "the holes were squeezed out");
        let left: Vec<usize> = (0..200).filter(|i| i % 3 == 2).collect();
        assert_eq!(listed(&t).into_iter().map(|(_, s)| s).collect::<Vec<_>>(), left);
        for &i in &left {
            assert_eq!(t.find(hash(&pair(i)), &pair(i)), Some(&i));
        }
        assert_eq!(t.len(), left.len());
        assert_eq!(
            t.position_of(150),
            t.slots.iter().position(|s| s.seq >= 150).unwrap()
        );
        assert!(!t.remove(hash(&["k0", "0"]), &["k0", "0"]));
    }
}
