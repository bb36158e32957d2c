//! Where a counter's total is kept: the only place a counter branches on storage mode.

use super::cells::CellRun;
use super::exemplar_slots;
use super::layout::{SeriesLayout, COUNTER_FRACTION, COUNTER_WHOLE};
use super::{AtomicF64, Slots, StripedU64};
use crate::model::{Exemplar, MetricType};

/// A counter's storage.
#[derive(Debug)]
pub(crate) enum CounterStore {
    /// In memory: whole increments in a striped integer (exact, contention-friendly),
    /// fractional ones in a float, so a whole increment never pays for floating point.
    InProcess { whole: StripedU64, fraction: AtomicF64 },
    /// The same two values in this process's mapped file, and the newest exemplar when
    /// the family keeps exemplars across processes.
    Mapped {
        slots: Slots,
        exemplar_at: Option<usize>,
    },
}

impl CounterStore {
    /// Storage in `slots` of the mapped file, or in memory without them.
    pub(crate) fn new(slots: Option<Slots>, exemplars_across_processes: bool) -> Self {
        match slots {
            None => Self::InProcess {
                whole: StripedU64::default(),
                fraction: AtomicF64::default(),
            },
            Some(slots) => Self::Mapped {
                slots,
                exemplar_at: SeriesLayout::new(MetricType::Counter, 0, 0, exemplars_across_processes)
                    .exemplar_start(),
            },
        }
    }

    /// Adds `n` whole.
    #[inline]
    pub(crate) fn add(&self, n: u64) {
        match self {
            Self::InProcess { whole, .. } => whole.add(n),
            Self::Mapped { slots, .. } => slots.add_u64(COUNTER_WHOLE, n),
        }
    }

    /// Adds an amount with a fractional part.
    #[inline]
    pub(crate) fn add_fraction(&self, amount: f64) {
        match self {
            Self::InProcess { fraction, .. } => fraction.add(amount),
            Self::Mapped { slots, .. } => slots.add_f64(COUNTER_FRACTION, amount),
        }
    }

    /// The total.
    pub(crate) fn get(&self) -> f64 {
        match self {
            Self::InProcess { whole, fraction } => whole.get() as f64 + fraction.get(),
            Self::Mapped { slots, .. } => {
                slots.get_u64(COUNTER_WHOLE) as f64 + slots.get_f64(COUNTER_FRACTION)
            }
        }
    }

    /// Back to zero.
    pub(crate) fn reset(&self) {
        match self {
            Self::InProcess { whole, fraction } => {
                whole.reset();
                fraction.set(0.0);
            }
            Self::Mapped { slots, .. } => {
                slots.set_u64(COUNTER_WHOLE, 0);
                slots.set_f64(COUNTER_FRACTION, 0.0);
            }
        }
    }

    /// Keeps `exemplar` where other processes read it, if this storage shares exemplars.
    pub(crate) fn share_exemplar(&self, exemplar: &Exemplar) {
        if let Self::Mapped {
            slots,
            exemplar_at: Some(at),
        } = self
        {
            exemplar_slots::write(slots, *at, 0, exemplar);
        }
    }

    /// The base cell (see [`crate::storage::cells`]): in memory, add to it by one compare-and-swap
    /// and take [`CounterStore::stripe_cells`] when that fails; mapped, the file slot.
    pub(crate) fn base_cell(&self) -> CellRun {
        match self {
            Self::InProcess { whole, .. } => whole.base_cell(),
            Self::Mapped { slots, .. } => CellRun::one(slots.cell(COUNTER_WHOLE)),
        }
    }

    /// Cells any of which `fetch_add` may add to: the stripes in memory (made on first
    /// call), the one file slot when mapped.
    pub(crate) fn stripe_cells(&self) -> CellRun {
        match self {
            Self::InProcess { whole, .. } => whole.stripe_cells(),
            Self::Mapped { slots, .. } => CellRun::one(slots.cell(COUNTER_WHOLE)),
        }
    }
}
