//! Native fast entries for the calls an app makes on every request: `Counter#increment`
//! and `Histogram#observe` / `Summary#observe`.
//!
//! Every metric object is allocated by the extension (`MetricCell`), so an entry finds the
//! family it updates in the object itself, without an instance variable lookup; the
//! family object keeps its solo series and a cache of the series of frozen label Hashes
//! (`direct.rs`), so the common calls need no lookup in the core's label map.
//!
//! A Ruby method with optional positionals and keywords (kept for the 0.x call style) costs
//! more to enter than the whole update, and magnus's conversions (a protected type check,
//! an encoding scan per label value) cost as much again. These entries are plain C
//! functions on the metric classes that take the common call shapes straight from the
//! argument list: no Ruby frame, no allocation, label values borrowed from the caller's
//! Strings. Any other call (a view with preset labels, a 0.x metric before its first
//! update, a value that is not a plain Integer or Float, a label value that needs `to_s`,
//! a rejected amount, wrong labels) goes to the Ruby implementation (`increment_in_ruby`,
//! `observe_in_ruby`) with the arguments exactly as given, so every error and every
//! conversion is decided in one place and a fast entry never raises by itself.

use crate::direct::Direct;
use crate::metrics::{CounterFamily, HistogramFamily, SummaryFamily};
use gds_metrics::{Counter, Family, Metric};
use magnus::{Error, RArray, RClass, TypedData, Value};
use rb_sys::special_consts::Qnil;
use rb_sys::{ruby_value_type, ID, VALUE};
use smallvec::SmallVec;
use std::cell::Cell;
use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_long};
use std::sync::OnceLock;

/// Ruby names and encodings looked up once, when the extension loads.
struct Names {
    increment_in_ruby: ID,
    observe_in_ruby: ID,
    labels_keyword: VALUE,
    by_keyword: VALUE,
    utf8: c_int,
    us_ascii: c_int,
    binary: c_int,
}

static NAMES: OnceLock<Names> = OnceLock::new();

fn intern(name: &CStr) -> ID {
    // SAFETY: a NUL-terminated name; interned IDs are never collected.
    unsafe { rb_sys::rb_intern(name.as_ptr()) }
}

fn names() -> &'static Names {
    NAMES.get_or_init(|| {
        // SAFETY: called with the GVL, from `define` or a method it defined. Symbols of
        // interned IDs are static, so keeping their VALUEs needs no GC marking.
        unsafe {
            Names {
                increment_in_ruby: intern(c"increment_in_ruby"),
                observe_in_ruby: intern(c"observe_in_ruby"),
                labels_keyword: rb_sys::rb_id2sym(intern(c"labels")),
                by_keyword: rb_sys::rb_id2sym(intern(c"by")),
                utf8: rb_sys::rb_utf8_encindex(),
                us_ascii: rb_sys::rb_usascii_encindex(),
                binary: rb_sys::rb_ascii8bit_encindex(),
            }
        }
    })
}

/// Label values for up to this many labels live on the stack.
type Values<'a> = SmallVec<[&'a str; 8]>;

/// The Rust value wrapped by `value` if it is a `T`; None for anything else (nil included).
///
/// # Safety
/// `value` is a live Ruby object; the reference lives no longer than the call.
unsafe fn typed<'a, T: TypedData>(value: VALUE) -> Option<&'a T> {
    // SAFETY: the caller keeps this function's `# Safety` contract, which covers every call below.
    unsafe {
        // `DataType` is a transparent wrapper of `rb_data_type_t`.
        let data_type = T::data_type() as *const magnus::typed_data::DataType;
        let is_t = is_type(value, ruby_value_type::RUBY_T_DATA)
            && rb_sys::RTYPEDDATA_P(value)
            && std::ptr::eq(rb_sys::RTYPEDDATA_TYPE(value), data_type.cast());
        if !is_t {
            return None;
        }
        (rb_sys::RTYPEDDATA_GET_DATA(value) as *const T).as_ref()
    }
}

fn is_type(value: VALUE, kind: ruby_value_type) -> bool {
    // SAFETY: a type check reads only the object's flags (or the immediate's bits).
    unsafe { rb_sys::RB_TYPE_P(value, kind) }
}

/// A plain Integer or Float as f64; None for anything that needs a conversion.
fn plain_number(value: VALUE) -> Option<f64> {
    if rb_sys::FIXNUM_P(value) {
        return Some(((value as i64) >> 1) as f64);
    }
    // SAFETY: `rb_float_value` is only called on a Float.
    unsafe { rb_sys::RB_FLOAT_TYPE_P(value).then(|| rb_sys::rb_float_value(value)) }
}

/// The text of a String the core can take as it is: UTF-8, or plain ASCII in US-ASCII or
/// binary. The same Strings magnus's `as_str` accepts; anything else takes the slow path.
///
/// # Safety
/// `value` is reachable from the caller's arguments, and no Ruby code runs (so nothing
/// moves or frees it) while the borrow lives.
unsafe fn borrowed_str<'a>(value: VALUE) -> Option<&'a str> {
    // SAFETY: the caller keeps this function's `# Safety` contract, which covers every call below.
    unsafe {
        if !is_type(value, ruby_value_type::RUBY_T_STRING) {
            return None;
        }
        let bytes = std::slice::from_raw_parts(
            rb_sys::RSTRING_PTR(value) as *const u8,
            rb_sys::RSTRING_LEN(value) as usize,
        );
        let names = names();
        let encoding = encoding_index(value);
        let ascii = bytes.is_ascii();
        if ascii && (encoding == names.utf8 || encoding == names.us_ascii || encoding == names.binary) {
            return Some(std::str::from_utf8_unchecked(bytes));
        }
        if encoding == names.utf8 {
            return std::str::from_utf8(bytes).ok();
        }
        None
    }
}

/// A String's encoding index, read from its flags as Ruby's `ENCODING_GET` does (the
/// index is kept apart only when it does not fit there).
///
/// # Safety
/// `value` is a live String.
unsafe fn encoding_index(value: VALUE) -> c_int {
    // SAFETY: the caller keeps this function's `# Safety` contract, which covers every call below.
    unsafe {
        use rb_sys::ruby_encoding_consts::{
            RUBY_ENCODING_INLINE_MAX, RUBY_ENCODING_MASK, RUBY_ENCODING_SHIFT,
        };
        let flags = (*(value as *const rb_sys::RBasic)).flags;
        let inline = ((flags & RUBY_ENCODING_MASK as VALUE) >> RUBY_ENCODING_SHIFT as u32) as c_int;
        if inline == RUBY_ENCODING_INLINE_MAX as c_int {
            return rb_sys::rb_enc_get_index(value);
        }
        inline
    }
}

/// A label value as text: a String borrowed, a Symbol through its (frozen, interned) name.
///
/// # Safety
/// As for [`borrowed_str`].
unsafe fn label_text<'a>(value: VALUE) -> Option<&'a str> {
    // SAFETY: the caller keeps this function's `# Safety` contract, which covers every call below.
    unsafe {
        if rb_sys::RB_SYMBOL_P(value) {
            return borrowed_str(rb_sys::rb_sym2str(value));
        }
        borrowed_str(value)
    }
}

/// The value of `key` in `hash`, or None. Only Symbol keys are looked up: Ruby compares a
/// Symbol with the stored keys by identity and hashes it without calling Ruby code, so the
/// lookup cannot raise and needs no `rb_protect`.
///
/// # Safety
/// `hash` is a live Hash and `key` a Symbol.
unsafe fn lookup(hash: VALUE, key: VALUE) -> Option<VALUE> {
    // SAFETY: the caller keeps this function's `# Safety` contract, which covers every call below.
    unsafe {
        let undefined = rb_sys::special_consts::Qundef as VALUE;
        let value = rb_sys::rb_hash_lookup2(hash, key, undefined);
        (value != undefined).then_some(value)
    }
}

/// Fills `values` from `labels` (nil or a Hash) in the order of `keys` (the metric's label
/// names). None when the labels are not exactly those or a value is not plain text; else
/// whether every value is frozen (a Symbol or a frozen String), so the label values of a
/// frozen Hash can never change.
///
/// # Safety
/// `keys` and `labels` are live objects reachable from the caller's arguments.
unsafe fn fill<'a>(keys: VALUE, labels: VALUE, values: &mut Values<'a>) -> Option<bool> {
    // SAFETY: the caller keeps this function's `# Safety` contract, which covers every call below.
    unsafe {
        let given = match labels {
            _ if labels == Qnil as VALUE => 0,
            _ if is_type(labels, ruby_value_type::RUBY_T_HASH) => rb_sys::RHASH_SIZE(labels),
            _ => return None,
        };
        if !is_type(keys, ruby_value_type::RUBY_T_ARRAY) || rb_sys::RARRAY_LEN(keys) as usize != given {
            return None;
        }
        let mut frozen = true;
        for index in 0..given {
            let key = rb_sys::rb_ary_entry(keys, index as c_long);
            if !rb_sys::RB_SYMBOL_P(key) {
                return None;
            }
            let value = lookup(labels, key)?;
            values.push(label_text(value)?);
            frozen &= rb_sys::RB_SYMBOL_P(value) || is_frozen(value);
        }
        Some(frozen)
    }
}

/// Whether a heap object is frozen, read from its flags as Ruby's `OBJ_FROZEN` does.
///
/// # Safety
/// `value` is a live heap object (not an immediate).
unsafe fn is_frozen(value: VALUE) -> bool {
    // SAFETY: the caller keeps this function's `# Safety` contract, which covers every call below.
    unsafe {
        let flags = (*(value as *const rb_sys::RBasic)).flags;
        flags & rb_sys::ruby_fl_type::RUBY_FL_FREEZE as VALUE != 0
    }
}

/// Whether `labels` is a frozen Hash (its label values checked once, when it is cached).
///
/// # Safety
/// `labels` is a live object.
unsafe fn frozen_hash(labels: VALUE) -> bool {
    // SAFETY: the caller keeps this function's `# Safety` contract, which covers every call below.
    unsafe { is_type(labels, ruby_value_type::RUBY_T_HASH) && is_frozen(labels) }
}

/// The keyword Hash of a call, if the call was given keywords.
///
/// # Safety
/// `args` are the call's arguments, called from a method entry.
unsafe fn keywords(args: &[VALUE]) -> Option<VALUE> {
    // SAFETY: the caller keeps this function's `# Safety` contract, which covers every call below.
    unsafe {
        let last = *args.last()?;
        (rb_sys::rb_keyword_given_p() != 0 && is_type(last, ruby_value_type::RUBY_T_HASH)).then_some(last)
    }
}

/// The arguments of an entry as a slice.
///
/// # Safety
/// `argv` points at `argc` VALUEs, as Ruby passes them to a method of arity -1.
unsafe fn arguments<'a>(argc: c_int, argv: *const VALUE) -> &'a [VALUE] {
    // SAFETY: the caller keeps this function's `# Safety` contract, which covers every call below.
    unsafe {
        if argc <= 0 || argv.is_null() {
            return &[];
        }
        std::slice::from_raw_parts(argv, argc as usize)
    }
}

/// `[labels, by]` of an increment call in the shapes the fast entry takes: none,
/// `(labels: h, by: n)` (either keyword, nothing else) or `(h)` / `(h, n)` (0.x).
///
/// # Safety
/// As for [`keywords`].
unsafe fn increment_arguments(args: &[VALUE]) -> Option<(VALUE, VALUE)> {
    // SAFETY: the caller keeps this function's `# Safety` contract, which covers every call below.
    unsafe {
        let nil = Qnil as VALUE;
        if let Some(options) = keywords(args) {
            if args.len() != 1 {
                return None;
            }
            let names = names();
            let labels = lookup(options, names.labels_keyword);
            let given = rb_sys::RHASH_SIZE(options);
            // Most calls give `labels:` alone: one lookup tells it.
            if labels.is_some() && given == 1 {
                return labels.map(|labels| (labels, nil));
            }
            let by = lookup(options, names.by_keyword);
            let known = labels.is_some() as usize + by.is_some() as usize;
            return (given == known).then(|| (labels.unwrap_or(nil), by.unwrap_or(nil)));
        }
        match args {
            [] => Some((nil, nil)),
            [labels] if is_type(*labels, ruby_value_type::RUBY_T_HASH) => Some((*labels, nil)),
            [labels, by] if is_type(*labels, ruby_value_type::RUBY_T_HASH) => Some((*labels, *by)),
            _ => None,
        }
    }
}

/// `[labels, value]` of an observe call in the shapes the fast entry takes: `(v)`,
/// `(v, labels: h)` (no other keyword) or `(h, v)` (0.x).
///
/// # Safety
/// As for [`keywords`].
unsafe fn observe_arguments(args: &[VALUE]) -> Option<(VALUE, VALUE)> {
    // SAFETY: the caller keeps this function's `# Safety` contract, which covers every call below.
    unsafe {
        if let Some(options) = keywords(args) {
            let [value, _] = args else { return None };
            let labels = lookup(options, names().labels_keyword)?;
            return (rb_sys::RHASH_SIZE(options) == 1).then_some((labels, *value));
        }
        match args {
            [value] => Some((Qnil as VALUE, *value)),
            [labels, value] if is_type(*labels, ruby_value_type::RUBY_T_HASH) => Some((*labels, *value)),
            _ => None,
        }
    }
}

/// The native state of every metric object (`GDS::Metrics::Metric` and its subclasses
/// are allocated with it): the family object its fast entries update and its label names,
/// once bound. Unbound (a view with preset labels, a 0.x metric before its first update, a
/// copy made by `clone`), the entries hand every call to the Ruby implementation.
#[derive(Default, magnus::TypedData)]
#[magnus(class = "GDS::Metrics::Metric", free_immediately, size, mark)]
pub(crate) struct MetricCell {
    /// `(family object, frozen Array of label-name Symbols)`.
    bound: Cell<Option<(VALUE, VALUE)>>,
}

impl magnus::DataTypeFunctions for MetricCell {
    fn mark(&self, _: &magnus::gc::Marker) {
        if let Some((family, keys)) = self.bound.get() {
            // SAFETY: called from this object's mark function, during GC.
            unsafe {
                rb_sys::rb_gc_mark(family);
                rb_sys::rb_gc_mark(keys);
            }
        }
    }
}

/// `metric.bind_fast_entries(family, label_names)`: from now on the fast entries update
/// `family` with the caller's labels as they are (no preset labels to merge in).
fn bind_fast_entries(cell: &MetricCell, family: Value, keys: RArray) {
    use magnus::{prelude::*, rb_sys::AsRawValue};
    keys.freeze();
    cell.bound.set(Some((family.as_raw(), keys.as_raw())));
}

/// The family object of `metric`, if it is a `T`, and the metric's label names.
///
/// # Safety
/// `metric` is a live object; the family object is marked by it, so it outlives the call.
unsafe fn bound<'a, T: TypedData>(metric: VALUE) -> Option<(&'a T, VALUE)> {
    // SAFETY: the caller keeps this function's `# Safety` contract, which covers every call below.
    unsafe {
        let (family, keys) = typed::<MetricCell>(metric)?.bound.get()?;
        Some((typed::<T>(family)?, keys))
    }
}

/// Runs `update` on the series of `family` named by `labels`: the solo series, a frozen
/// Hash's cached series, or the core's lookup. None when the fast path does not apply (the
/// Ruby implementation then decides, and raises if it must).
///
/// # Safety
/// As for [`fill`].
unsafe fn update_series<M: Metric, R>(
    family: &Family<M>,
    direct: &Direct<M>,
    keys: VALUE,
    labels: VALUE,
    update: impl FnOnce(&M) -> Option<R>,
) -> Option<R> {
    // SAFETY: the caller keeps this function's `# Safety` contract, which covers every call below.
    unsafe {
        if let Some(series) = direct.solo() {
            let empty = labels == Qnil as VALUE
                || (is_type(labels, ruby_value_type::RUBY_T_HASH) && rb_sys::RHASH_SIZE(labels) == 0);
            return if empty { update(series) } else { None };
        }
        let frozen = frozen_hash(labels);
        if frozen {
            if let Some(series) = direct.cached(labels) {
                return update(&series);
            }
        }
        let mut values = Values::new();
        let cacheable = fill(keys, labels, &mut values)? && frozen;
        if cacheable {
            if let Some(series) = direct.resolve_and_cache(family, labels, &values) {
                return update(&series);
            }
        }
        family.with(&values, update).ok()?
    }
}

/// Adds `by` (nil for one) to `counter`; None when the core refuses the amount or it is not
/// a plain number.
fn add(counter: &Counter, by: VALUE) -> Option<()> {
    if by == Qnil as VALUE {
        counter.inc();
        return Some(());
    }
    if rb_sys::FIXNUM_P(by) {
        // SAFETY: `by` is a Fixnum.
        if let Ok(whole) = u64::try_from(unsafe { rb_sys::FIX2LONG(by) }) {
            counter.inc_by(whole);
            return Some(());
        }
    }
    counter.inc_by_f64(plain_number(by)?).ok()
}

/// Whether `by` is an amount that finding (and so creating) a series before the core has
/// checked it cannot go wrong with: nil (one) or a Fixnum of at least zero. Any other
/// amount goes through the family's own checked increment unless its series is cached.
fn whole(by: VALUE) -> bool {
    // SAFETY: FIX2LONG is only read from a Fixnum.
    by == Qnil as VALUE || (rb_sys::FIXNUM_P(by) && unsafe { rb_sys::FIX2LONG(by) } >= 0)
}

/// # Safety
/// Called by Ruby as a method of arity -1.
unsafe fn try_increment(args: &[VALUE], metric: VALUE) -> Option<()> {
    // SAFETY: the caller keeps this function's `# Safety` contract, which covers every call below.
    unsafe {
        let (counter, keys) = bound::<CounterFamily>(metric)?;
        let (labels, by) = increment_arguments(args)?;
        if whole(by)
            || counter.1.solo().is_some()
            || (frozen_hash(labels) && counter.1.cached(labels).is_some())
        {
            return update_series(&counter.0, &counter.1, keys, labels, |c| add(c, by));
        }
        // The core checks the amount before it finds the series; a rejection is raised by the
        // Ruby implementation, which repeats the same check.
        let mut values = Values::new();
        fill(keys, labels, &mut values)?;
        counter.0.inc_by_f64(&values, plain_number(by)?).ok()
    }
}

/// # Safety
/// Called by Ruby as a method of arity -1.
unsafe fn try_observe(args: &[VALUE], metric: VALUE) -> Option<()> {
    // SAFETY: the caller keeps this function's `# Safety` contract, which covers every call below.
    unsafe {
        let (labels, value) = observe_arguments(args)?;
        let value = plain_number(value)?;
        if let Some((histogram, keys)) = bound::<HistogramFamily>(metric) {
            return update_series(&histogram.0, &histogram.1, keys, labels, |h| {
                h.observe(value).ok()
            });
        }
        let (summary, keys) = bound::<SummaryFamily>(metric)?;
        update_series(&summary.0, &summary.1, keys, labels, |s| s.observe(value).ok())
    }
}

/// Calls the Ruby implementation `method` with the arguments exactly as given. No Rust
/// value with a destructor is alive here, so an exception may unwind through this frame.
///
/// # Safety
/// Called from a method entry with its own arguments.
unsafe fn in_ruby(metric: VALUE, method: ID, argc: c_int, argv: *const VALUE) -> VALUE {
    // SAFETY: the caller keeps this function's `# Safety` contract, which covers every call below.
    unsafe { rb_sys::rb_funcallv_kw(metric, method, argc, argv, rb_sys::rb_keyword_given_p()) }
}

/// Ruby's entry for `Counter#increment`.
unsafe extern "C" fn increment(argc: c_int, argv: *const VALUE, metric: VALUE) -> VALUE {
    // SAFETY: the caller keeps this function's `# Safety` contract, which covers every call below.
    unsafe {
        let done = std::panic::catch_unwind(|| try_increment(arguments(argc, argv), metric));
        match done {
            Ok(Some(())) => Qnil as VALUE,
            _ => in_ruby(metric, names().increment_in_ruby, argc, argv),
        }
    }
}

/// Ruby's entry for `Histogram#observe` and `Summary#observe`.
unsafe extern "C" fn observe(argc: c_int, argv: *const VALUE, metric: VALUE) -> VALUE {
    // SAFETY: the caller keeps this function's `# Safety` contract, which covers every call below.
    unsafe {
        let done = std::panic::catch_unwind(|| try_observe(arguments(argc, argv), metric));
        match done {
            Ok(Some(())) => Qnil as VALUE,
            _ => in_ruby(metric, names().observe_in_ruby, argc, argv),
        }
    }
}

type Entry = unsafe extern "C" fn(c_int, *const VALUE, VALUE) -> VALUE;

fn define_entry(class: RClass, name: &CStr, entry: Entry) {
    use magnus::rb_sys::AsRawValue;
    // SAFETY: Ruby calls a method of arity -1 as `entry`'s signature says; `rb_define_method`
    // takes it as an untyped function pointer.
    unsafe {
        let function: unsafe extern "C" fn() -> VALUE = std::mem::transmute(entry as *const ());
        rb_sys::rb_define_method(class.as_raw(), name.as_ptr() as *const c_char, Some(function), -1);
    }
}

/// `Native.define_fast_increment(Counter)`: the native entry becomes `Counter#increment`.
fn define_fast_increment(class: RClass) {
    names();
    define_entry(class, c"increment", increment);
}

/// `Native.define_fast_observe(Histogram)`: the native entry becomes `#observe`.
fn define_fast_observe(class: RClass) {
    names();
    define_entry(class, c"observe", observe);
}

/// `Native.define_metric_cell(Metric)`: metric objects are allocated with a `MetricCell`,
/// and `bind_fast_entries` binds one.
fn define_metric_cell(class: RClass) -> Result<(), Error> {
    use magnus::{method, prelude::*};
    class.define_alloc_func::<MetricCell>();
    class.define_private_method("bind_fast_entries", method!(bind_fast_entries, 2))
}

pub(crate) fn define(native: magnus::RModule) -> Result<(), Error> {
    use magnus::{function, prelude::*};
    native.define_singleton_method("define_metric_cell", function!(define_metric_cell, 1))?;
    native.define_singleton_method("define_fast_increment", function!(define_fast_increment, 1))?;
    native.define_singleton_method("define_fast_observe", function!(define_fast_observe, 1))?;
    Ok(())
}
