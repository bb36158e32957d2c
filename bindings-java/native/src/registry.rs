//! `uk.gov.gds.metrics.Registry`: a set of metric families rendered together.

use crate::error::guard;
use crate::handle::{borrow, free, into_handle};
use crate::strings::string;
use gds_metrics::{Format, NameValidation, Registry};
use jni::objects::{JClass, JString};
use jni::sys::{jboolean, jint, jlong, JNI_FALSE};
use jni::JNIEnv;
use std::sync::Arc;

/// The value behind a registry handle. Endpoints share the same registry.
pub(crate) type RegistryHandle = Arc<Registry>;

/// A new, empty registry.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_registryNew(
    mut env: JNIEnv,
    _: JClass,
) -> jlong {
    guard(&mut env, 0, |_| {
        Ok(into_handle::<RegistryHandle>(Arc::new(Registry::new())))
    })
}

/// Drops the Java object's share of a registry.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_registryFree(
    _: JNIEnv,
    _: JClass,
    handle: jlong,
) {
    // SAFETY: called once per handle, by the Java object's cleaner.
    unsafe { free::<RegistryHandle>(handle) }
}

/// Removes the family `name`; returns whether it was registered.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_registryUnregister(
    mut env: JNIEnv,
    _: JClass,
    handle: jlong,
    name: JString,
) -> jboolean {
    guard(&mut env, JNI_FALSE, |env| {
        // SAFETY: the Java caller passes a live registry handle.
        let registry = unsafe { borrow::<RegistryHandle>(handle) };
        let name = string(env, &name, "name")?;
        Ok(registry.unregister(&name).into())
    })
}

/// The series limit of families registered from now on that set none themselves.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_registrySetSeriesLimit(
    mut env: JNIEnv,
    _: JClass,
    handle: jlong,
    limit: jlong,
) {
    guard(&mut env, (), |_| {
        let limit = crate::metrics::series_limit_of(limit)?;
        // SAFETY: the Java caller passes a live registry handle.
        unsafe { borrow::<RegistryHandle>(handle) }.set_series_limit(limit);
        Ok(())
    })
}

/// Families registered from now on accept only the legacy names.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_registryUseLegacyNames(
    mut env: JNIEnv,
    _: JClass,
    handle: jlong,
) {
    guard(&mut env, (), |_| {
        // SAFETY: the Java caller passes a live registry handle.
        unsafe { borrow::<RegistryHandle>(handle) }.set_name_validation(NameValidation::Legacy);
        Ok(())
    })
}

/// The formats by the ordinal of the Java enum `Format`; `Native.formatNames()` gives these
/// names by number, and a Java test checks the two agree.
const FORMATS: [(Format, &str); 3] = [
    (Format::Text, "TEXT"),
    (Format::OpenMetrics, "OPENMETRICS"),
    (Format::Protobuf, "PROTOBUF"),
];

/// `Native.formatNames()`: each format's name at its number.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_formatNames<'local>(
    mut env: JNIEnv<'local>,
    _: JClass,
) -> jni::sys::jobjectArray {
    guard(&mut env, std::ptr::null_mut(), |env| {
        let names: Vec<String> = FORMATS.iter().map(|(_, name)| (*name).to_owned()).collect();
        Ok(crate::strings::new_string_array(env, &names)?.into_raw())
    })
}

/// The whole exposition as the bytes a scrape in `format` (a `Format` ordinal) is served:
/// one copy from the core's buffer into the Java array, no text conversion.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_registryEncode(
    mut env: JNIEnv,
    _: JClass,
    handle: jlong,
    format: jint,
) -> jni::sys::jbyteArray {
    guard(&mut env, std::ptr::null_mut(), |env| {
        let Some((format, _)) = usize::try_from(format).ok().and_then(|i| FORMATS.get(i)) else {
            return Err(crate::error::Thrown::illegal_argument(format!(
                "unknown format {format}"
            )));
        };
        // SAFETY: the Java caller passes a live registry handle.
        let registry = unsafe { borrow::<RegistryHandle>(handle) };
        ENCODED.with_borrow_mut(|out| {
            out.clear();
            registry.encode(*format, out);
            let bytes = env.byte_array_from_slice(out)?;
            out.shrink_to(KEEP_BYTES);
            Ok(bytes.into_raw())
        })
    })
}

/// Scrape buffers up to this size are kept for the thread's next scrape.
const KEEP_BYTES: usize = 4 << 20;

thread_local! {
    static ENCODED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}
