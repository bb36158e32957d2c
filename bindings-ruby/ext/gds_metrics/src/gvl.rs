//! Running Rust work with the GVL released, so other Ruby threads (puma's request threads)
//! keep serving while a scrape renders or compresses.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

struct Call<F, R> {
    work: Option<F>,
    result: Option<std::thread::Result<R>>,
}

unsafe extern "C" fn trampoline<F: FnOnce() -> R, R>(data: *mut c_void) -> *mut c_void {
    // SAFETY: `data` is the `Call` that `without_gvl` keeps alive for the whole call.
    let call = unsafe { &mut *(data as *mut Call<F, R>) };
    if let Some(work) = call.work.take() {
        call.result = Some(catch_unwind(AssertUnwindSafe(work)));
    }
    std::ptr::null_mut()
}

/// Runs `work` without the GVL. `work` must not touch any Ruby object: give it owned Rust
/// data only. A panic inside is caught and returned as `Err`, never unwound through Ruby.
pub(crate) fn without_gvl<F: FnOnce() -> R, R>(work: F) -> std::thread::Result<R> {
    let mut call = Call {
        work: Some(work),
        result: None,
    };
    // SAFETY: the trampoline only runs `work`, which touches no Ruby state; no unblocking
    // function is needed because the work is short and never waits on I/O.
    unsafe {
        rb_sys::rb_thread_call_without_gvl(
            Some(trampoline::<F, R>),
            &mut call as *mut Call<F, R> as *mut c_void,
            None,
            std::ptr::null_mut(),
        );
    }
    call.result
        .unwrap_or_else(|| Err(Box::new("the work did not run")))
}
