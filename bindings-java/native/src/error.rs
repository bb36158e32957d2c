//! Core errors and panics as Java exceptions, thrown where the Java caller made the call.

use jni::JNIEnv;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The exception classes the library throws.
pub(crate) const ILLEGAL_ARGUMENT: &str = "java/lang/IllegalArgumentException";
pub(crate) const ILLEGAL_STATE: &str = "java/lang/IllegalStateException";

/// A failure to report to the Java caller: the exception class and its message.
pub(crate) struct Thrown {
    class: &'static str,
    message: String,
}

impl Thrown {
    pub(crate) fn new(class: &'static str, message: impl Into<String>) -> Self {
        Self {
            class,
            message: message.into(),
        }
    }

    pub(crate) fn illegal_argument(message: impl Into<String>) -> Self {
        Self::new(ILLEGAL_ARGUMENT, message)
    }
}

/// Mistakes in metric definitions or use are the caller's bad arguments.
impl From<gds_metrics::Error> for Thrown {
    fn from(e: gds_metrics::Error) -> Self {
        Self::illegal_argument(e.to_string())
    }
}

/// A JNI call that failed has usually left its own exception pending; keep that one.
impl From<jni::errors::Error> for Thrown {
    fn from(e: jni::errors::Error) -> Self {
        Self::new(ILLEGAL_STATE, format!("gds-metrics: JNI call failed: {e}"))
    }
}

pub(crate) type JResult<T> = Result<T, Thrown>;

/// Runs `body`, turning an error into a pending Java exception and a panic into an
/// `IllegalStateException`; returns `fallback` to Java in both cases (the JVM ignores the
/// return value while an exception is pending).
pub(crate) fn guard<'local, T>(
    env: &mut JNIEnv<'local>,
    fallback: T,
    body: impl FnOnce(&mut JNIEnv<'local>) -> JResult<T>,
) -> T {
    let outcome = catch_unwind(AssertUnwindSafe(|| body(env)));
    let thrown = match outcome {
        Ok(Ok(value)) => return value,
        Ok(Err(thrown)) => thrown,
        Err(panic) => Thrown::new(
            ILLEGAL_STATE,
            format!("gds-metrics: internal error: {}", panic_text(&panic)),
        ),
    };
    if !env.exception_check().unwrap_or(true) {
        // Throwing can only fail if the JVM is out of memory, which leaves an error pending.
        let _ = env.throw_new(thrown.class, thrown.message);
    }
    fallback
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message")
}
