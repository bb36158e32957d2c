//! The hottest calls answered by plain C functions, around pyo3's call machinery.
//!
//! pyo3 wraps every method in a trampoline (attach bookkeeping, argument parsing into an
//! output array, panic catching) that costs about 200 instructions: more than the rest of a
//! `counter.inc()` together, CPython's dispatch included. So the commonest calls, `inc()`
//! without arguments and `observe(x)` with one float, are answered by a C function that
//! [`install`] puts over pyo3's method on the class. Such a function handles only its one
//! shape of call, with an operation that cannot fail or panic (an atomic update), and
//! passes every other call (keywords, another amount, a labelled parent's error) to pyo3's
//! method unchanged through [`delegate`], so each method's behaviour is defined once, by
//! its `#[pymethods]` definition, and its signature and docstring are that method's.

use pyo3::exceptions::PyBaseException;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::pyclass::boolean_struct::True;
use pyo3::pyclass::PyClass;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyString, PyTuple, PyType};
use std::ffi::{CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// CPython's `METH_FASTCALL | METH_KEYWORDS` calling convention: `self`, the positional
/// arguments, their count, and the names of the keyword arguments that follow them.
pub(crate) type FastCall = unsafe extern "C" fn(
    *mut ffi::PyObject,
    *const *mut ffi::PyObject,
    ffi::Py_ssize_t,
    *mut ffi::PyObject,
) -> *mut ffi::PyObject;

/// Replaces the method `name` of `class` with `fast`, keeping pyo3's method in `original`
/// for the calls `fast` passes on. The new method has the old one's signature and
/// docstring, so `help()`, `inspect.signature` and the stub check see no difference.
pub(crate) fn install(
    class: &Bound<'_, PyType>,
    name: &'static CStr,
    fast: FastCall,
    original: &'static PyOnceLock<Py<PyAny>>,
) -> PyResult<()> {
    let py = class.py();
    let attribute = name.to_str().expect("method names are ASCII");
    let method = original.get_or_try_init(py, || class.getattr(attribute).map(Bound::unbind))?;
    let method = method.bind(py);
    let signature: String = method.getattr("__text_signature__")?.extract()?;
    let doc: String = method.getattr("__doc__")?.extract()?;
    let doc = CString::new(format!("{attribute}{signature}\n--\n\n{doc}"))?;
    // CPython keeps a pointer to the definition for as long as the class lives, which is
    // until the process ends: leaked once per method.
    let definition = Box::leak(Box::new(ffi::PyMethodDef {
        ml_name: name.as_ptr(),
        ml_meth: ffi::PyMethodDefPointer {
            PyCFunctionFastWithKeywords: fast,
        },
        ml_flags: ffi::METH_FASTCALL | ffi::METH_KEYWORDS,
        ml_doc: Box::leak(doc.into_boxed_c_str()).as_ptr(),
    }));
    // SAFETY: the definition outlives the descriptor (it is never freed).
    let descriptor =
        unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyDescr_NewMethod(class.as_type_ptr(), definition))? };
    class.setattr(attribute, descriptor)
}

/// Runs `answer` on the instance `slf` of the frozen class `T`.
///
/// # Safety
/// `slf` must be an instance of `T` and the thread attached to the interpreter, as they
/// are in a method installed by [`install`] on `T`'s class: CPython checks the type of
/// `self` before it calls a method descriptor's function.
#[inline(always)]
pub(crate) unsafe fn with_instance<T, R>(slf: *mut ffi::PyObject, answer: impl FnOnce(&T) -> R) -> R
where
    T: PyClass<Frozen = True> + Sync,
{
    // SAFETY: as the caller promises; nothing of Python's outlives this call.
    let instance = unsafe { Borrowed::from_ptr(Python::assume_attached(), slf).cast_unchecked::<T>() };
    answer(instance.get())
}

/// A new reference to `None`, what a method that returns nothing returns.
///
/// # Safety
/// The thread must be attached to the interpreter.
#[inline(always)]
pub(crate) unsafe fn none() -> *mut ffi::PyObject {
    // SAFETY: as the caller promises.
    unsafe { ffi::Py_NewRef(ffi::Py_None()) }
}

/// Passes a call that a fast function does not answer to pyo3's method in `original`.
///
/// # Safety
/// The arguments must be those CPython gave the fast function: `args` holds `nargs`
/// positional arguments followed by one value per name in the tuple `kwnames` (or
/// `kwnames` is null).
#[cold]
#[inline(never)]
pub(crate) unsafe fn delegate(
    original: &PyOnceLock<Py<PyAny>>,
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    Python::attach(|py| {
        // SAFETY: CPython passes live objects; `call` keeps the vectorcall contract.
        let call = AssertUnwindSafe(|| unsafe { call(py, original, slf, args, nargs, kwnames) });
        let error = match catch_unwind(call) {
            Ok(Ok(result)) => return result.into_ptr(),
            Ok(Err(error)) => error,
            Err(_) => pyo3::panic::PanicException::new_err("panic in gds_metrics while passing on a call"),
        };
        error.restore(py);
        std::ptr::null_mut()
    })
}

/// pyo3's method called with `self`, the positional arguments and the keyword arguments
/// of a vectorcall.
unsafe fn call<'py>(
    py: Python<'py>,
    original: &PyOnceLock<Py<PyAny>>,
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> PyResult<Bound<'py, PyAny>> {
    let method = original.get(py).ok_or_else(|| {
        PyBaseException::new_err("gds_metrics: a fast method was called before it was installed")
    })?;
    // SAFETY: as `delegate`'s caller promises.
    let names =
        (!kwnames.is_null()).then(|| unsafe { Borrowed::from_ptr(py, kwnames).cast_unchecked::<PyTuple>() });
    let keyword_count = names.as_ref().map_or(0, |names| names.len());
    let count = usize::try_from(nargs).unwrap_or(0) + keyword_count;
    let values: &[*mut ffi::PyObject] = if count == 0 {
        &[]
    } else {
        // SAFETY: CPython passes `nargs` positional values and one value per keyword name.
        unsafe { std::slice::from_raw_parts(args, count) }
    };
    // SAFETY: every pointer comes from CPython's argument vector, alive for the call.
    let value = |ptr: *mut ffi::PyObject| unsafe { Borrowed::from_ptr(py, ptr) };
    let (positional, keyword) = values.split_at(count - keyword_count);
    // SAFETY: `self` is a live object for the duration of the call.
    let mut all_positional = vec![unsafe { Borrowed::from_ptr(py, slf) }];
    all_positional.extend(positional.iter().map(|&ptr| value(ptr)));
    let kwargs = PyDict::new(py);
    if let Some(names) = names {
        for (name, &ptr) in names.iter().zip(keyword) {
            kwargs.set_item(name.cast_into::<PyString>()?, value(ptr))?;
        }
    }
    method
        .bind(py)
        .call(PyTuple::new(py, all_positional)?, Some(&kwargs))
}

/// The value under the key `args` in `cache`, as a new reference, when the `nargs`
/// arguments are all exact `str` (the only keys [`crate::metrics`]' child cache holds);
/// null when they are not or the key is absent, with no Python error set either way.
///
/// # Safety
/// The thread must be attached to the interpreter and `args` hold `nargs` arguments.
#[inline(always)]
pub(crate) unsafe fn cached(
    cache: &Py<PyDict>,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
) -> *mut ffi::PyObject {
    let count = usize::try_from(nargs).unwrap_or(0);
    if count == 0 {
        return std::ptr::null_mut();
    }
    // SAFETY: as the caller promises.
    let values = unsafe { std::slice::from_raw_parts(args, count) };
    // SAFETY: each value is a live object; the key is a new tuple that only this function
    // sees, and `PyTuple_SetItem` takes the reference given to it.
    unsafe {
        if values.iter().any(|&value| ffi::PyUnicode_CheckExact(value) == 0) {
            return std::ptr::null_mut();
        }
        let key = ffi::PyTuple_New(nargs);
        if key.is_null() {
            ffi::PyErr_Clear();
            return std::ptr::null_mut();
        }
        for (index, &value) in (0..).zip(values) {
            ffi::PyTuple_SetItem(key, index, ffi::Py_NewRef(value));
        }
        let hit = ffi::PyDict_GetItemWithError(cache.as_ptr(), key);
        ffi::Py_DecRef(key);
        if hit.is_null() {
            ffi::PyErr_Clear();
            return std::ptr::null_mut();
        }
        ffi::Py_NewRef(hit)
    }
}
