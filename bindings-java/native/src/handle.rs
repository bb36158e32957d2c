//! Native state owned by Java objects, passed to Java as opaque `long` handles.
//!
//! A handle is a `Box<T>` turned into a pointer. Boxes hold cheap clones (`Arc`s) of core
//! objects, so freeing a handle drops only the Java object's share: a family stays in its
//! registry, and a series stays in its family, for as long as they hold it. The Java side
//! frees each handle exactly once, from a `Cleaner` action, so a handle is never freed while
//! a Java object that could still pass it in is reachable.

use std::sync::atomic::{AtomicI64, Ordering::Relaxed};

/// Handles allocated and not yet freed, so tests can see forgotten objects being collected.
static LIVE: AtomicI64 = AtomicI64::new(0);

/// Moves `value` to the heap and returns its handle.
pub(crate) fn into_handle<T>(value: T) -> i64 {
    LIVE.fetch_add(1, Relaxed);
    Box::into_raw(Box::new(value)) as i64
}

/// Borrows the value behind a handle.
///
/// # Safety
/// `handle` came from [`into_handle`] with the same `T` and has not been freed.
#[inline(always)]
pub(crate) unsafe fn borrow<'a, T>(handle: i64) -> &'a T {
    // SAFETY: the caller promises a live handle made by `into_handle` for this `T`.
    unsafe { &*(handle as *const T) }
}

/// Drops the value behind a handle.
///
/// # Safety
/// `handle` came from [`into_handle`] with the same `T` and is freed only this once.
pub(crate) unsafe fn free<T>(handle: i64) {
    if handle != 0 {
        // SAFETY: the caller promises a live handle made by `into_handle` for this `T`,
        // freed only this once.
        drop(unsafe { Box::from_raw(handle as *mut T) });
        LIVE.fetch_sub(1, Relaxed);
    }
}

/// The number of live handles.
pub(crate) fn live() -> i64 {
    LIVE.load(Relaxed)
}

/// `Native.liveHandles()`: how many handles are allocated, for lifetime tests.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_liveHandles(
    _: jni::JNIEnv,
    _: jni::objects::JClass,
) -> jni::sys::jlong {
    live()
}
