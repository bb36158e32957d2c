//! What every metric class holds: the core family, the series it updates, and a labelled
//! parent's cache of children.

use super::args::label_value;
use crate::error::OrRaise;
use gds_metrics::{Family, Metric};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pyclass::PyClass;
use pyo3::pyclass_init::PyClassInitializer;
use pyo3::types::{PyDict, PyString, PyTuple};
use std::sync::{Arc, Weak};

/// What one Python metric object refers to: its family, and the series it updates when
/// it has one (a child, or a parent without labels).
pub(super) struct Handle<M: Metric> {
    family: Family<M>,
    pub(super) series: Option<M>,
    is_child: bool,
    /// The registry the family is in, for gauges whose value a function computes.
    pub(super) registry: Weak<gds_metrics::Registry>,
    /// A labelled parent's children by their label values, as `prometheus_client` keeps
    /// them: `labels("GET", "200")` in a hot path is then one dict lookup.
    pub(super) children: Option<Py<PyDict>>,
}

impl<M: Metric> Handle<M> {
    pub(super) fn parent(py: Python<'_>, family: Family<M>, registry: &Arc<gds_metrics::Registry>) -> Self {
        let series = family.get().ok();
        Self {
            children: series.is_none().then(|| PyDict::new(py).unbind()),
            series,
            family,
            is_child: false,
            registry: Arc::downgrade(registry),
        }
    }

    /// The child object for these label values, from the cache when the values are all
    /// exact `str` (other values are converted with `str()`, and `1`, `1.0` and `True`
    /// are equal dict keys with different label values, so they are never cached).
    pub(super) fn labels<'py, T>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, ::pyo3::types::PyTuple>,
        kwargs: Option<&Bound<'py, ::pyo3::types::PyDict>>,
        wrap: fn(Self) -> T,
    ) -> PyResult<Bound<'py, PyAny>>
    where
        T: PyClass + Into<PyClassInitializer<T>>,
    {
        let cacheable = kwargs.is_none_or(|kw| kw.is_empty())
            && args.iter().all(|v| v.is_exact_instance_of::<PyString>());
        let cache = self.children.as_ref().map(|c| c.bind(py)).filter(|_| cacheable);
        if let Some(hit) = cache.map(|c| c.get_item(args)).transpose()?.flatten() {
            return Ok(hit);
        }
        let (child, kept) = self.child(args, kwargs)?;
        let child = Bound::new(py, wrap(child))?.into_any();
        // A label set the full family refused is never cached: the cache stays within the
        // series limit and the core counts each later use of it as a refusal too.
        if let (Some(cache), true) = (cache, kept) {
            cache.set_item(args, &child)?;
        }
        Ok(child)
    }

    /// Forgets every child.
    pub(super) fn clear(&self, py: Python<'_>) {
        self.family.clear();
        self.forget_children(py);
    }

    fn forget_children(&self, py: Python<'_>) {
        if let Some(children) = &self.children {
            children.bind(py).clear();
        }
    }

    /// The series to update, or the error `prometheus_client` gives for updating a
    /// labelled parent.
    #[inline(always)]
    pub(super) fn series(&self, action: &str) -> PyResult<&M> {
        match &self.series {
            Some(series) => Ok(series),
            None => Err(self.needs_labels(action)),
        }
    }

    /// Kept out of line so that the update methods, which call [`Handle::series`] on every
    /// increment, inline only the check.
    #[cold]
    #[inline(never)]
    fn needs_labels(&self, action: &str) -> PyErr {
        PyValueError::new_err(format!(
            "metric `{}` has labels ({}): call .labels(...) before .{action}()",
            self.family.descriptor().name(),
            self.label_names().join(", ")
        ))
    }

    fn label_names(&self) -> Vec<&str> {
        self.family
            .descriptor()
            .label_names()
            .iter()
            .map(|l| l.as_str())
            .collect()
    }

    /// The child for the label values in `args` (positional, in label order) or
    /// `kwargs` (by name), created at zero if new, and whether its series is theirs (not
    /// the overflow series of a full family).
    fn child(&self, args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<(Self, bool)> {
        let name = self.family.descriptor().name();
        if self.is_child {
            return Err(PyValueError::new_err(format!(
                "metric `{name}` already has its labels set; call .labels(...) on the metric itself, not on its child"
            )));
        }
        if self.series.is_some() {
            return Err(PyValueError::new_err(format!(
                "metric `{name}` was defined without label names, so it takes no .labels(...)"
            )));
        }
        let values = self.label_values(args, kwargs)?;
        let (series, kept) = self.family.labels_kept(&values).or_raise()?;
        let child = Self {
            family: self.family.clone(),
            series: Some(series),
            is_child: true,
            children: None,
            registry: self.registry.clone(),
        };
        Ok((child, kept))
    }

    fn label_values(
        &self,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Vec<String>> {
        match kwargs.filter(|kw| !kw.is_empty()) {
            None => args.iter().map(|value| label_value(&value)).collect(),
            Some(_) if !args.is_empty() => Err(PyValueError::new_err(
                "give label values either by position or by name, not both",
            )),
            Some(kwargs) => self.label_values_by_name(kwargs),
        }
    }

    fn label_values_by_name(&self, kwargs: &Bound<'_, PyDict>) -> PyResult<Vec<String>> {
        let names = self.label_names();
        let wrong_names = || {
            let given: Vec<String> = kwargs.keys().iter().map(|k| k.to_string()).collect();
            PyValueError::new_err(format!(
                "metric `{}` has the labels ({}) but was given ({})",
                self.family.descriptor().name(),
                names.join(", "),
                given.join(", ")
            ))
        };
        if kwargs.len() != names.len() {
            return Err(wrong_names());
        }
        names
            .iter()
            .map(|name| match kwargs.get_item(name)? {
                Some(value) => label_value(&value),
                None => Err(wrong_names()),
            })
            .collect()
    }

    /// Forgets the child for the given label values.
    pub(super) fn remove(&self, args: &Bound<'_, PyTuple>) -> PyResult<()> {
        self.forget_children(args.py());
        let values: Vec<String> = args
            .iter()
            .map(|value| label_value(&value))
            .collect::<PyResult<_>>()?;
        self.family.remove(&values).or_raise().map(drop)
    }

    pub(super) fn repr(&self, kind: &str) -> String {
        let desc = self.family.descriptor();
        let role = if self.is_child { " child" } else { "" };
        format!("<gds_metrics {kind}{role} {}>", desc.name())
    }
}

/// The methods every metric class shares, in a `#[pymethods]` block of their own: pyo3
/// classes cannot inherit Rust methods, and the logic itself lives once, in [`Handle`].
/// It expands in each class's module, which imports pyo3's prelude.
macro_rules! family_methods {
    ($class:ident) => {
        #[pymethods]
        impl $class {
            /// The child for these label values, by position or by name.
            #[pyo3(signature = (*args, **kwargs))]
            fn labels<'py>(
                slf: &Bound<'py, Self>,
                args: &Bound<'py, ::pyo3::types::PyTuple>,
                kwargs: Option<&Bound<'py, ::pyo3::types::PyDict>>,
            ) -> PyResult<Bound<'py, PyAny>> {
                slf.get().0.labels(slf.py(), args, kwargs, Self)
            }

            /// Forgets the child for these label values.
            #[pyo3(signature = (*labelvalues))]
            fn remove(
                &self,
                labelvalues: &::pyo3::Bound<'_, ::pyo3::types::PyTuple>,
            ) -> ::pyo3::PyResult<()> {
                self.0.remove(labelvalues)
            }

            /// Forgets every child.
            fn clear(&self, py: Python<'_>) {
                self.0.clear(py);
            }

            fn __repr__(&self) -> String {
                self.0.repr(stringify!($class))
            }
        }
    };
}

pub(super) use family_methods;
