//! The series a fast entry reaches without asking the core's label map: a family's solo
//! series, and the series of the frozen labels Hashes the app passes again and again.
//!
//! A Ruby app often names a label set with a constant (`LABELS = { method: "GET" }.freeze`)
//! or a literal of frozen Strings. A frozen Hash whose values are frozen Strings or Symbols
//! always means the same label values, so its identity is enough to find its series: one
//! probe of a small table, no label values read, no hashing of their text. The table keeps
//! the Hashes it holds alive (marked and so pinned: their addresses are never reused while
//! they are here), and is emptied whenever the family forgets a series, so a removed series
//! is never updated through it.

use gds_metrics::{Family, Metric};
use rb_sys::VALUE;
use std::cell::{Cell, Ref, RefCell};

/// Entries of a family's table (a power of two); a Hash's address picks its one slot.
const SLOTS: usize = 16;

/// What a family object keeps beside its core family for the fast entries.
pub(crate) struct Direct<M: Metric> {
    /// The series of a family without labels.
    solo: Option<M>,
    /// The Hash of each slot (0 when empty), apart from the series so that GC marking
    /// reads them whatever else holds the table.
    hashes: [Cell<VALUE>; SLOTS],
    series: RefCell<[Option<M>; SLOTS]>,
}

fn slot(labels: VALUE) -> usize {
    // Heap slots are 40 bytes apart: multiply, then keep the high bits.
    (labels.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - SLOTS.trailing_zeros())) as usize
}

impl<M: Metric> Direct<M> {
    pub(crate) fn new(family: &Family<M>) -> Self {
        Self {
            solo: family.get().ok(),
            hashes: std::array::from_fn(|_| Cell::new(0)),
            series: RefCell::new(std::array::from_fn(|_| None)),
        }
    }

    /// The series of a family without labels.
    pub(crate) fn solo(&self) -> Option<&M> {
        self.solo.as_ref()
    }

    /// The series cached for the frozen labels Hash `labels`.
    pub(crate) fn cached(&self, labels: VALUE) -> Option<Ref<'_, M>> {
        let index = slot(labels);
        if self.hashes[index].get() != labels {
            return None;
        }
        Ref::filter_map(self.series.try_borrow().ok()?, |series| series[index].as_ref()).ok()
    }

    /// The series for `values`, kept for the frozen Hash `labels` unless the family refused
    /// the label set into its overflow series: a refusal is never cached, so the core
    /// counts every later use of that label set as a refusal too.
    pub(crate) fn resolve_and_cache<V: AsRef<str>>(
        &self,
        family: &Family<M>,
        labels: VALUE,
        values: &[V],
    ) -> Option<M> {
        let (series, kept) = family.labels_kept(values).ok()?;
        if let (true, Ok(mut cached)) = (kept, self.series.try_borrow_mut()) {
            let index = slot(labels);
            cached[index] = Some(series.clone());
            self.hashes[index].set(labels);
        }
        Some(series)
    }

    /// Forgets every cached series (the family removed one).
    pub(crate) fn clear(&self) {
        self.hashes.iter().for_each(|hash| hash.set(0));
        if let Ok(mut series) = self.series.try_borrow_mut() {
            series.iter_mut().for_each(|entry| *entry = None);
        }
    }

    /// Marks the cached Hashes for Ruby's GC (pinning them).
    pub(crate) fn mark(&self) {
        for hash in self.hashes.iter().map(Cell::get).filter(|hash| *hash != 0) {
            // SAFETY: called from the family object's mark function, during GC.
            unsafe { rb_sys::rb_gc_mark(hash) };
        }
    }
}
