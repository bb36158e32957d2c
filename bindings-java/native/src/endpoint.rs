//! `uk.gov.gds.metrics.Endpoint`: the configured metrics endpoint, answering requests that
//! the servlet filter hands over as plain strings.

use crate::error::{guard, JResult};
use crate::handle::{borrow, free, into_handle};
use crate::registry::RegistryHandle;
use crate::strings::{new_string_array, optional_string, string, string_array};
use gds_metrics::{ConfigBuilder, Endpoint, Request, Response};
use jni::objects::{JClass, JObject, JObjectArray, JString, JValue};
use jni::sys::{jboolean, jint, jlong, jobject, jobjectArray, JNI_FALSE};
use jni::JNIEnv;

const RESPONSE_CLASS: &str = "uk/gov/gds/metrics/EndpointResponse";
const RESPONSE_CONSTRUCTOR: &str = "(I[Ljava/lang/String;[B)V";

/// Settings given in code; each one unset (null, or negative for numbers) comes from the
/// environment, as the core reads it. `routes` stands for
/// `VCAP_APPLICATION.application_uris` (the hosts the `host` label keeps).
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_endpointNew(
    mut env: JNIEnv,
    _: JClass,
    registry: jlong,
    application_id: JString,
    auth_enabled: jint,
    metrics_path: JString,
    instance_index: jlong,
    routes: JObjectArray,
    trace_exemplars: jint,
    request_native_histogram: jint,
) -> jlong {
    guard(&mut env, 0, |env| {
        let config = ConfigBuilder {
            application_id: optional_string(env, &application_id)?,
            auth_enabled: (auth_enabled >= 0).then_some(auth_enabled != 0),
            metrics_path: optional_string(env, &metrics_path)?,
            instance_index: u32::try_from(instance_index).ok(),
            routes: (!routes.is_null())
                .then(|| string_array(env, &routes, "routes"))
                .transpose()?,
            trace_exemplars: tristate(trace_exemplars),
            request_native_histogram: tristate(request_native_histogram),
            ..ConfigBuilder::default()
        }
        .build()?;
        // SAFETY: the Java caller passes a live registry handle.
        let registry = unsafe { borrow::<RegistryHandle>(registry) }.clone();
        Ok(into_handle(Endpoint::new(config, registry)?))
    })
}

#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_endpointFree(
    _: JNIEnv,
    _: JClass,
    endpoint: jlong,
) {
    // SAFETY: called once per handle, by the Java object's cleaner.
    unsafe { free::<Endpoint>(endpoint) }
}

/// The configured path, for the Java side to describe the endpoint.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_endpointPath<'local>(
    mut env: JNIEnv<'local>,
    _: JClass,
    endpoint: jlong,
) -> jni::sys::jstring {
    guard(&mut env, std::ptr::null_mut(), |env| {
        // SAFETY: the Java caller passes a live endpoint handle.
        let endpoint = unsafe { borrow::<Endpoint>(endpoint) };
        crate::strings::new_string(env, endpoint.config().metrics_path())
    })
}

/// A yes/no setting from the Java side: negative when unset (from the environment).
fn tristate(setting: jint) -> Option<bool> {
    (setting >= 0).then_some(setting != 0)
}

/// A yes/no setting of the endpoint's configuration, for the Java side.
fn config_flag(endpoint: jlong, flag: fn(&gds_metrics::Config) -> bool) -> jboolean {
    // SAFETY: the Java caller passes a live endpoint handle.
    flag(unsafe { borrow::<Endpoint>(endpoint) }.config()).into()
}

/// Whether auth is on, so the app can log how it is configured (never the token).
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_endpointAuthEnabled(
    _: JNIEnv,
    _: JClass,
    endpoint: jlong,
) -> jboolean {
    config_flag(endpoint, gds_metrics::Config::auth_enabled)
}

/// Whether a sampled `traceparent` becomes the exemplar of a request's metrics.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_endpointTraceExemplars(
    _: JNIEnv,
    _: JClass,
    endpoint: jlong,
) -> jboolean {
    config_flag(endpoint, gds_metrics::Config::trace_exemplars)
}

/// Whether the request duration keeps native buckets beside its classic ones.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_endpointRequestNativeHistogram(
    _: JNIEnv,
    _: JClass,
    endpoint: jlong,
) -> jboolean {
    config_flag(endpoint, gds_metrics::Config::request_native_histogram)
}

/// Configuration warnings (an ignored `CF_INSTANCE_INDEX`), for the Java side to log.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_endpointWarnings<'local>(
    mut env: JNIEnv<'local>,
    _: JClass,
    endpoint: jlong,
) -> jobjectArray {
    guard(&mut env, std::ptr::null_mut(), |env| {
        // SAFETY: the Java caller passes a live endpoint handle.
        let endpoint = unsafe { borrow::<Endpoint>(endpoint) };
        let warnings: Vec<String> = endpoint
            .config()
            .warnings()
            .iter()
            .map(ToString::to_string)
            .collect();
        Ok(new_string_array(env, &warnings)?.into_raw())
    })
}

/// Whether `target`, as the client sent it, is the endpoint's path below `mount` (the
/// servlet context path).
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_endpointMatches(
    mut env: JNIEnv,
    _: JClass,
    endpoint: jlong,
    mount: JString,
    target: JString,
) -> jboolean {
    guard(&mut env, JNI_FALSE, |env| {
        let mount = string(env, &mount, "mount")?;
        let target = string(env, &target, "target")?;
        // SAFETY: the Java caller passes a live endpoint handle.
        Ok(unsafe { borrow::<Endpoint>(endpoint) }
            .matches_below(&mount, &target)
            .into())
    })
}

/// Answers a request for the endpoint's path: `target` as the client sent it, below
/// `mount`. `headers` alternates names and values, one pair per header line as received.
/// Returns an `EndpointResponse`.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_endpointHandle<'local>(
    mut env: JNIEnv<'local>,
    _: JClass,
    endpoint: jlong,
    method: JString,
    mount: JString,
    target: JString,
    headers: JObjectArray,
) -> jobject {
    guard(&mut env, std::ptr::null_mut(), |env| {
        let method = string(env, &method, "method")?;
        let mount = string(env, &mount, "mount")?;
        let target = string(env, &target, "target")?;
        let headers = string_array(env, &headers, "headers")?;
        let mut request = Request::new(&method, &target).mounted_at(&mount);
        for pair in headers.chunks_exact(2) {
            request = request.header(&pair[0], pair[1].as_bytes());
        }
        // SAFETY: the Java caller passes a live endpoint handle.
        let response = unsafe { borrow::<Endpoint>(endpoint) }.handle(&request);
        Ok(java_response(env, response)?.into_raw())
    })
}

fn java_response<'local>(env: &mut JNIEnv<'local>, response: Response) -> JResult<JObject<'local>> {
    let flat: Vec<String> = response
        .headers
        .into_iter()
        .flat_map(|(name, value)| [name.to_owned(), value])
        .collect();
    let headers = new_string_array(env, &flat)?;
    let body = env.byte_array_from_slice(&response.body)?;
    Ok(env.new_object(
        RESPONSE_CLASS,
        RESPONSE_CONSTRUCTOR,
        &[
            JValue::Int(jint::from(response.status)),
            JValue::Object(&headers),
            JValue::Object(&body),
        ],
    )?)
}
