//! Java strings and arrays in, Rust values out, and back.

use crate::error::{JResult, Thrown};
use jni::objects::{JObjectArray, JString};
use jni::sys::jstring;
use jni::JNIEnv;

/// A Java `String`, which must not be null (`what` names it in the error).
pub(crate) fn string(env: &mut JNIEnv<'_>, s: &JString<'_>, what: &str) -> JResult<String> {
    if s.is_null() {
        return Err(Thrown::illegal_argument(format!("{what} must not be null")));
    }
    Ok(env.get_string(s)?.into())
}

/// A Java `String` that may be null.
pub(crate) fn optional_string(env: &mut JNIEnv<'_>, s: &JString<'_>) -> JResult<Option<String>> {
    if s.is_null() {
        return Ok(None);
    }
    Ok(Some(env.get_string(s)?.into()))
}

/// A Java `String[]` whose elements must not be null (`what` names them in the error).
pub(crate) fn string_array(
    env: &mut JNIEnv<'_>,
    array: &JObjectArray<'_>,
    what: &str,
) -> JResult<Vec<String>> {
    if array.is_null() {
        return Err(Thrown::illegal_argument(format!("{what} must not be null")));
    }
    let len = env.get_array_length(array)?;
    let mut out = Vec::with_capacity(len as usize);
    for i in 0..len {
        let element = JString::from(env.get_object_array_element(array, i)?);
        out.push(string(env, &element, what)?);
        env.delete_local_ref(element)?;
    }
    Ok(out)
}

/// A new Java `String`.
pub(crate) fn new_string(env: &mut JNIEnv<'_>, s: &str) -> JResult<jstring> {
    Ok(env.new_string(s)?.into_raw())
}

/// A new Java `String[]`.
pub(crate) fn new_string_array<'local>(
    env: &mut JNIEnv<'local>,
    items: &[String],
) -> JResult<JObjectArray<'local>> {
    let array = env.new_object_array(
        items.len() as jni::sys::jint,
        "java/lang/String",
        jni::objects::JObject::null(),
    )?;
    for (i, item) in items.iter().enumerate() {
        let s = env.new_string(item)?;
        env.set_object_array_element(&array, i as jni::sys::jint, &s)?;
        env.delete_local_ref(s)?;
    }
    Ok(array)
}
