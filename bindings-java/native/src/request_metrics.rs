//! The default request metrics (CONTRACT section 4), recorded by the servlet filter for
//! every request the app serves.

use crate::error::guard;
use crate::handle::borrow;
use crate::strings::{new_string, optional_string, string};
use gds_metrics::{collapse_ids, Endpoint};
use jni::objects::{JClass, JString};
use jni::sys::{jdouble, jint, jlong, jstring};
use jni::JNIEnv;

/// Counts one request: `route` is the framework's route template, or null for a request no
/// route matched (recorded as `No endpoint`).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_uk_gov_gds_metrics_internal_Native_recordRequest(
    mut env: JNIEnv,
    _: JClass,
    endpoint: jlong,
    method: JString,
    host: JString,
    route: JString,
    status: jint,
    seconds: jdouble,
) {
    guard(&mut env, (), |env| {
        let method = string(env, &method, "method")?;
        let host = optional_string(env, &host)?.unwrap_or_default();
        let route = optional_string(env, &route)?;
        let status = u16::try_from(status).unwrap_or(0);
        // SAFETY: the Java caller passes a live endpoint handle.
        let metrics = unsafe { borrow::<Endpoint>(endpoint) }.request_metrics();
        metrics.record(&method, &host, route.as_deref(), status, seconds);
        Ok(())
    })
}

/// Counts one unhandled exception by its class name.
#[no_mangle]
pub extern "system" fn Java_uk_gov_gds_metrics_internal_Native_recordException(
    mut env: JNIEnv,
    _: JClass,
    endpoint: jlong,
    class_name: JString,
) {
    guard(&mut env, (), |env| {
        let class_name = string(env, &class_name, "exception class name")?;
        // SAFETY: the Java caller passes a live endpoint handle.
        unsafe { borrow::<Endpoint>(endpoint) }
            .request_metrics()
            .exception(&class_name);
        Ok(())
    })
}

/// The path with numeric ids and UUIDs collapsed, for apps without a router.
#[no_mangle]
pub extern "system" fn Java_uk_gov_gds_metrics_internal_Native_collapseIds(
    mut env: JNIEnv,
    _: JClass,
    path: JString,
) -> jstring {
    guard(&mut env, std::ptr::null_mut(), |env| {
        let path = string(env, &path, "path")?;
        new_string(env, &collapse_ids(&path))
    })
}
