//! Where a series' values are kept: in this process's memory, or in slots of this
//! process's mapped file (multi-process mode), laid out as the one [`layout`] table says.
//!
//! The metric kinds write through this layer; the multi-process aggregate reads the
//! mapped files through the same table, so the layout is written down once.

mod atomic;
pub mod cells;
mod counter;
pub(crate) mod exemplar_slots;
mod gauge;
pub(crate) mod layout;
pub(crate) mod native_slots;
mod slots;

pub(crate) use atomic::{add_f64, AtomicF64, StripedU64};
pub(crate) use counter::CounterStore;
pub(crate) use gauge::GaugeStore;
pub(crate) use native_slots::NativeRegion;
#[doc(hidden)]
pub use slots::Slots;
