//! Where a series' values are kept: in this process's memory, or in slots of this
//! process's mapped file (multi-process mode), laid out as the one [`layout`] table says.
//!
//! Each kind's store (`CounterStore`, `GaugeStore`, `HistogramStore`, `SummaryStore`) has
//! an in-process and a mapped backend and is the only place that kind branches on the
//! storage mode. The multi-process aggregate reads the mapped files through the same
//! table, so the layout is written down once.

mod atomic;
pub mod cells;
mod counter;
pub(crate) mod exemplar_slots;
mod gauge;
mod generation;
mod histogram;
mod hot_cold;
pub(crate) mod layout;
pub(crate) mod native_slots;
mod native_state;
mod slots;
mod summary;

pub(crate) use atomic::{add_f64, AtomicF64, StripedU64};
pub(crate) use counter::CounterStore;
pub(crate) use gauge::GaugeStore;
pub(crate) use generation::count_fork_in_child;
pub(crate) use histogram::HistogramStore;
pub(crate) use native_slots::NativeRegion;
pub(crate) use slots::Slots;
pub(crate) use summary::SummaryStore;
