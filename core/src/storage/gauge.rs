//! Where a gauge's value is kept: the only place a gauge branches on storage mode.

use super::cells::CellRun;
use super::layout::{GAUGE_STAMP, GAUGE_VALUE};
use super::{AtomicF64, Slots};
use crate::model::unix_now;

/// A gauge's storage.
#[derive(Debug)]
pub(crate) enum GaugeStore {
    /// In memory.
    InProcess(AtomicF64),
    /// In this process's mapped file, with when it was last written for `mostrecent`
    /// modes.
    Mapped(Slots),
}

impl Default for GaugeStore {
    fn default() -> Self {
        Self::InProcess(AtomicF64::default())
    }
}

impl GaugeStore {
    /// Storage in `slots` of the mapped file, or in memory without them.
    pub(crate) fn new(slots: Option<Slots>) -> Self {
        slots.map_or_else(Self::default, Self::Mapped)
    }

    /// Sets the value.
    #[inline]
    pub(crate) fn set(&self, v: f64) {
        match self {
            Self::InProcess(value) => value.set(v),
            Self::Mapped(slots) => {
                slots.set_f64(GAUGE_VALUE, v);
                stamp(slots);
            }
        }
    }

    /// Adds `delta`.
    #[inline]
    pub(crate) fn add(&self, delta: f64) {
        match self {
            Self::InProcess(value) => value.add(delta),
            Self::Mapped(slots) => {
                slots.add_f64(GAUGE_VALUE, delta);
                stamp(slots);
            }
        }
    }

    /// The value.
    pub(crate) fn get(&self) -> f64 {
        match self {
            Self::InProcess(value) => value.get(),
            Self::Mapped(slots) => slots.get_f64(GAUGE_VALUE),
        }
    }

    /// The cell holding the value's `f64` bits (see [`crate::storage::cells`]); `None` when mapped
    /// in a mode that stamps the time of writes, which a bare cell write would skip.
    pub(crate) fn value_cell(&self) -> Option<CellRun> {
        match self {
            Self::InProcess(value) => Some(CellRun::one(value.cell())),
            Self::Mapped(slots) if !slots.stamps_time() => Some(CellRun::one(slots.cell(GAUGE_VALUE))),
            Self::Mapped(_) => None,
        }
    }
}

/// Records when a `mostrecent` gauge was written, so the newest write wins across
/// processes. Other modes skip the clock read.
#[inline]
fn stamp(slots: &Slots) {
    if slots.stamps_time() {
        slots.set_f64(GAUGE_STAMP, unix_now());
    }
}
