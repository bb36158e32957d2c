//! Direct buffers over a series' value cells, so Java updates them with no native call.
//!
//! The core exports each series' cells and the atomic operations that update them
//! ([`gds_metrics::cells`]); here each run of cells becomes a direct `ByteBuffer` over that
//! memory (no copy), which Java updates with `VarHandle` atomics. Java keeps the series
//! handle (a clone of the core series) for as long as it keeps the buffers, and frees it
//! only from a `Cleaner` once unreachable, so the memory under a buffer is never freed
//! while Java can still reach it. A series that exports no cells gets `null`, and Java
//! calls the natives of `metrics.rs` for it instead.

use crate::error::{guard, JResult, Thrown};
use crate::handle::borrow;
use crate::metrics::{HISTOGRAM, SUMMARY};
use gds_metrics::cells::{CellRun, DistributionCells};
use gds_metrics::{Counter, Gauge, Histogram, Summary};
use jni::objects::{JByteBuffer, JClass, JIntArray};
use jni::sys::{jdoubleArray, jint, jlong, jobject, jobjectArray};
use jni::JNIEnv;

/// A direct buffer over `run`, from its first cell to the end of its last.
fn buffer<'local>(env: &mut JNIEnv<'local>, run: CellRun) -> JResult<JByteBuffer<'local>> {
    // SAFETY: the core guarantees the run is valid memory for as long as the series lives,
    // and the Java object holding the buffer keeps the series handle alive (module docs).
    Ok(unsafe { env.new_direct_byte_buffer(run.ptr as *mut u8, run.byte_len())? })
}

/// `counterBase(series)`: the base cell of a counter, added to by compare-and-swap.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_counterBase(
    mut env: JNIEnv,
    _: JClass,
    series: jlong,
) -> jobject {
    guard(&mut env, std::ptr::null_mut(), |env| {
        // SAFETY: the Java caller passes a live counter series handle.
        let counter = unsafe { borrow::<Counter>(series) };
        Ok(buffer(env, counter.base_cell())?.into_raw())
    })
}

/// `counterStripes(series, countAndStride)`: the stripes of a counter, made now if need
/// be; their number and the bytes between them go into `countAndStride`.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_counterStripes(
    mut env: JNIEnv,
    _: JClass,
    series: jlong,
    count_and_stride: JIntArray,
) -> jobject {
    guard(&mut env, std::ptr::null_mut(), |env| {
        // SAFETY: the Java caller passes a live counter series handle.
        let stripes = unsafe { borrow::<Counter>(series) }.stripe_cells();
        let shape = [to_jint(stripes.count)?, to_jint(stripes.stride)?];
        env.set_int_array_region(&count_and_stride, 0, &shape)?;
        Ok(buffer(env, stripes)?.into_raw())
    })
}

/// `gaugeCell(series)`: the cell of a gauge's value bits, or null when the core must see
/// every write itself.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_gaugeCell(
    mut env: JNIEnv,
    _: JClass,
    series: jlong,
) -> jobject {
    guard(&mut env, std::ptr::null_mut(), |env| {
        // SAFETY: the Java caller passes a live gauge series handle.
        match unsafe { borrow::<Gauge>(series) }.value_cell() {
            Some(cell) => Ok(buffer(env, cell)?.into_raw()),
            None => Ok(std::ptr::null_mut()),
        }
    })
}

/// `distributionCells(kind, series)`: a histogram's or summary's cells as five buffers,
/// `{started_and_hot, then per shard: buckets, sum}`, or null when it exports none.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_distributionCells(
    mut env: JNIEnv,
    _: JClass,
    kind: jint,
    series: jlong,
) -> jobjectArray {
    guard(&mut env, std::ptr::null_mut(), |env| {
        let cells = match kind {
            // SAFETY: the Java caller passes a live series handle of `kind`.
            HISTOGRAM => unsafe { borrow::<Histogram>(series) }.cells(),
            // SAFETY: the Java caller passes a live series handle of `kind`.
            SUMMARY => unsafe { borrow::<Summary>(series) }.cells(),
            other => {
                return Err(Thrown::illegal_argument(format!(
                    "kind {other} has no distribution cells"
                )))
            }
        };
        let Some(cells) = cells else {
            return Ok(std::ptr::null_mut());
        };
        let runs = runs(&cells);
        let array = env.new_object_array(
            runs.len() as jint,
            "java/nio/ByteBuffer",
            jni::objects::JObject::null(),
        )?;
        for (i, run) in runs.into_iter().enumerate() {
            let buffer = buffer(env, run)?;
            env.set_object_array_element(&array, i as jint, &buffer)?;
            env.delete_local_ref(buffer)?;
        }
        Ok(array.into_raw())
    })
}

/// The runs in the order `DistributionCells.java` reads them.
fn runs(cells: &DistributionCells) -> [CellRun; 5] {
    let [a, b] = &cells.shards;
    [cells.started_and_hot, a.buckets, a.sum, b.buckets, b.sum]
}

/// `histogramBounds(series)`: the finite classic bounds a histogram series counts by.
#[no_mangle]
pub(crate) extern "system" fn Java_uk_gov_gds_metrics_internal_Native_histogramBounds(
    mut env: JNIEnv,
    _: JClass,
    series: jlong,
) -> jdoubleArray {
    guard(&mut env, std::ptr::null_mut(), |env| {
        // SAFETY: the Java caller passes a live histogram series handle.
        let bounds = unsafe { borrow::<Histogram>(series) }.bounds();
        let array = env.new_double_array(to_jint(bounds.len())?)?;
        env.set_double_array_region(&array, 0, bounds)?;
        Ok(array.into_raw())
    })
}

fn to_jint(n: usize) -> JResult<jint> {
    jint::try_from(n).map_err(|_| Thrown::illegal_argument(format!("{n} does not fit a Java int")))
}
