//! The default request metrics (CONTRACT section 4): the servlet filter reports the facts
//! of each finished request, and the core decides every label.

use crate::error::guard;
use crate::handle::borrow;
use crate::strings::{optional_string, string};
use gds_metrics::{Endpoint, FinishedRequest, RaisedException, Route};
use jni::objects::{JClass, JString};
use jni::sys::{jboolean, jdouble, jint, jlong, JNI_FALSE};
use jni::JNIEnv;

/// Records one finished request from its facts, exactly as the servlet layer saw them:
/// `host` is the `Host` header as sent (null when absent), `raw_path` the request URI
/// before decoding, `route` the framework's template or null, `exception_class` the simple
/// name of the exception raised (null when none, empty for an anonymous class) with its
/// nearest named ancestor's simple name and whether it escaped the app, and the
/// `traceparent` header as sent (null when absent).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_recordRequest(
    mut env: JNIEnv,
    _: JClass,
    endpoint: jlong,
    method: JString,
    host: JString,
    raw_path: JString,
    has_router: jboolean,
    route: JString,
    status: jint,
    seconds: jdouble,
    exception_class: JString,
    exception_ancestor: JString,
    escaped: jboolean,
    traceparent: JString,
) {
    guard(&mut env, (), |env| {
        let method = string(env, &method, "method")?;
        let host = optional_string(env, &host)?.unwrap_or_default();
        let raw_path = string(env, &raw_path, "raw path")?;
        let route = optional_string(env, &route)?;
        let class_name = optional_string(env, &exception_class)?;
        let ancestor = optional_string(env, &exception_ancestor)?;
        let traceparent = optional_string(env, &traceparent)?.unwrap_or_default();
        let exception = class_name.as_deref().map(|class_name| RaisedException {
            class_name: Some(class_name),
            named_ancestor: ancestor.as_deref(),
            escaped: escaped != JNI_FALSE,
        });
        let request = FinishedRequest {
            method: &method,
            host: host.as_bytes(),
            raw_path: &raw_path,
            route: Route::from_parts(has_router != JNI_FALSE, route.as_deref()),
            // Out of range only if a container reports nonsense; the core records it as 0.
            status: u16::try_from(status).unwrap_or(0),
            seconds,
            exception,
            traceparent: traceparent.as_bytes(),
        };
        // SAFETY: the Java caller passes a live endpoint handle.
        unsafe { borrow::<Endpoint>(endpoint) }.record(&request);
        Ok(())
    })
}
