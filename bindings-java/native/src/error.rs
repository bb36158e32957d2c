//! Core errors and panics as Java exceptions, thrown where the Java caller made the call.
//!
//! [`exception_class`] is the one table from the core's [`ErrorKind`]s to Java exception
//! classes; metric mistakes, configuration errors and anything else the core reports go
//! through it, so a kind is always thrown as the same class.

use gds_metrics::ErrorKind;
use jni::objects::{JObject, JThrowable, JValue};
use jni::JNIEnv;
use std::panic::{catch_unwind, AssertUnwindSafe};

const ILLEGAL_ARGUMENT: &str = "java/lang/IllegalArgumentException";
const ILLEGAL_STATE: &str = "java/lang/IllegalStateException";
const CONFIGURATION: &str = "uk/gov/gds/metrics/ConfigurationException";
const UNCHECKED_IO: &str = "java/io/UncheckedIOException";

/// The Java exception class for each kind of core error.
pub(crate) fn exception_class(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidArgument | ErrorKind::Duplicate | ErrorKind::InvalidData => ILLEGAL_ARGUMENT,
        ErrorKind::Configuration => CONFIGURATION,
        ErrorKind::Io => UNCHECKED_IO,
        // A lost race, and any kind added later: the call cannot go on as things stand.
        _ => ILLEGAL_STATE,
    }
}

/// A failure to report to the Java caller: the exception class and its message.
pub(crate) struct Thrown {
    class: &'static str,
    message: String,
}

impl Thrown {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            class: exception_class(kind),
            message: message.into(),
        }
    }

    /// A bad argument found by the glue itself (a null where a value is needed).
    pub(crate) fn illegal_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }

    fn internal(message: String) -> Self {
        Self {
            class: ILLEGAL_STATE,
            message,
        }
    }
}

impl From<gds_metrics::Error> for Thrown {
    fn from(e: gds_metrics::Error) -> Self {
        Self::new(e.kind(), e.to_string())
    }
}

impl From<gds_metrics::ConfigError> for Thrown {
    fn from(e: gds_metrics::ConfigError) -> Self {
        Self::new(e.kind(), e.to_string())
    }
}

/// A JNI call that failed has usually left its own exception pending; keep that one.
impl From<jni::errors::Error> for Thrown {
    fn from(e: jni::errors::Error) -> Self {
        Self::internal(format!("gds-metrics: JNI call failed: {e}"))
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
        Err(panic) => Thrown::internal(format!("gds-metrics: internal error: {}", panic_text(&panic))),
    };
    if !env.exception_check().unwrap_or(true) {
        // Throwing can only fail if the JVM is out of memory, which leaves an error pending.
        let _ = throw(env, &thrown);
    }
    fallback
}

fn throw(env: &mut JNIEnv<'_>, thrown: &Thrown) -> jni::errors::Result<()> {
    if thrown.class != UNCHECKED_IO {
        return env.throw_new(thrown.class, &thrown.message);
    }
    // `UncheckedIOException` wraps an `IOException`; it has no message-only constructor.
    let message = JObject::from(env.new_string(&thrown.message)?);
    let cause = env.new_object(
        "java/io/IOException",
        "(Ljava/lang/String;)V",
        &[JValue::Object(&message)],
    )?;
    let exception = env.new_object(
        UNCHECKED_IO,
        "(Ljava/lang/String;Ljava/io/IOException;)V",
        &[JValue::Object(&message), JValue::Object(&cause)],
    )?;
    env.throw(JThrowable::from(exception))
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message")
}

/// `Native.exceptionClassOf(kind)`: the class a kind's name maps to, so the Java tests run
/// the shared error vectors against this table rather than a copy of it.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_exceptionClassOf<'local>(
    mut env: JNIEnv<'local>,
    _: jni::objects::JClass,
    kind: jni::objects::JString,
) -> jni::sys::jstring {
    guard(&mut env, std::ptr::null_mut(), |env| {
        let name = crate::strings::string(env, &kind, "kind")?;
        let kind = ALL_KINDS
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| Thrown::illegal_argument(format!("unknown error kind `{name}`")))?;
        crate::strings::new_string(env, &exception_class(kind).replace('/', "."))
    })
}

const ALL_KINDS: [ErrorKind; 6] = [
    ErrorKind::InvalidArgument,
    ErrorKind::Duplicate,
    ErrorKind::Configuration,
    ErrorKind::InvalidData,
    ErrorKind::Io,
    ErrorKind::Conflict,
];
