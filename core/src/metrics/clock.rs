//! Clocks the metric kinds read: creation times and exemplar timestamps.

/// The time now to a few milliseconds (the kernel's tick), read without touching the
/// hardware clock, in nanoseconds since the Unix epoch: the timestamp of a request's
/// trace exemplar, taken on every traced request, where a millisecond-scale timestamp is
/// all Prometheus keeps anyway. Its value changes once per tick.
#[cfg(target_os = "linux")]
pub(crate) fn unix_nanos_coarse() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec to write into.
    if unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut now) } != 0 {
        return (unix_now() * 1e9) as u64;
    }
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}

/// See the Linux version; elsewhere the precise clock, to the millisecond.
#[cfg(not(target_os = "linux"))]
pub(crate) fn unix_nanos_coarse() -> u64 {
    (unix_now() * 1e3) as u64 * 1_000_000
}

pub(crate) use crate::model::unix_now;
