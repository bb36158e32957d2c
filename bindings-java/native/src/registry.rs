//! `uk.gov.gds.metrics.Registry`: a set of metric families rendered together.

use crate::error::guard;
use crate::handle::{borrow, free, into_handle};
use crate::strings::{new_string, string};
use gds_metrics::{Format, Registry};
use jni::objects::{JClass, JString};
use jni::sys::{jboolean, jlong, jstring, JNI_FALSE};
use jni::JNIEnv;
use std::sync::Arc;

/// The value behind a registry handle. Endpoints share the same registry.
pub(crate) type RegistryHandle = Arc<Registry>;

/// A new, empty registry.
#[no_mangle]
pub extern "system" fn Java_uk_gov_gds_metrics_internal_Native_registryNew(
    mut env: JNIEnv,
    _: JClass,
) -> jlong {
    guard(&mut env, 0, |_| {
        Ok(into_handle::<RegistryHandle>(Arc::new(Registry::new())))
    })
}

/// Drops the Java object's share of a registry.
#[no_mangle]
pub extern "system" fn Java_uk_gov_gds_metrics_internal_Native_registryFree(
    _: JNIEnv,
    _: JClass,
    handle: jlong,
) {
    // SAFETY: called once per handle, by the Java object's cleaner.
    unsafe { free::<RegistryHandle>(handle) }
}

/// The whole exposition, in OpenMetrics or Prometheus text 0.0.4.
#[no_mangle]
pub extern "system" fn Java_uk_gov_gds_metrics_internal_Native_registryRender(
    mut env: JNIEnv,
    _: JClass,
    handle: jlong,
    open_metrics: jboolean,
) -> jstring {
    guard(&mut env, std::ptr::null_mut(), |env| {
        // SAFETY: the Java caller passes a live registry handle.
        let registry = unsafe { borrow::<RegistryHandle>(handle) };
        let format = if open_metrics == JNI_FALSE {
            Format::Text
        } else {
            Format::OpenMetrics
        };
        new_string(env, &registry.render(format))
    })
}

/// Removes the family `name`; returns whether it was registered.
#[no_mangle]
pub extern "system" fn Java_uk_gov_gds_metrics_internal_Native_registryUnregister(
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
pub extern "system" fn Java_uk_gov_gds_metrics_internal_Native_registrySetSeriesLimit(
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
