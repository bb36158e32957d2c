//! Core errors as Ruby exceptions, raised at the caller's line: the one table from the
//! core's [`ErrorKind`] to a Ruby exception class, used for metrics, configuration,
//! multi-process directories and target files alike.
//!
//! | kind | Ruby exception |
//! |---|---|
//! | `InvalidArgument`, `Duplicate` | `ArgumentError` (what a Ruby programmer expects for a bad argument) |
//! | `Configuration` | `GDS::Metrics::ConfigurationError`, so an app can tell it apart at boot |
//! | `InvalidData` | `GDS::Metrics::InvalidDataError` (a target file Prometheus would reject) |
//! | `Io` | `GDS::Metrics::IOError`, a subclass of Ruby's `IOError` |
//! | `Conflict` | `GDS::Metrics::ConflictError` (read again and retry) |

use gds_metrics::targets::TargetsError;
use gds_metrics::{ConfigError, ErrorKind, MultiProcessError};
use magnus::{exception::ExceptionClass, prelude::*, value::Lazy, Error, RModule, Ruby};
use std::fmt::Display;

/// The exception classes the extension defines under `GDS::Metrics`, with their parents.
const DEFINED: [(&str, Parent); 4] = [
    ("ConfigurationError", Parent::StandardError),
    ("InvalidDataError", Parent::StandardError),
    ("IOError", Parent::IoError),
    ("ConflictError", Parent::StandardError),
];

#[derive(Clone, Copy)]
enum Parent {
    StandardError,
    IoError,
}

/// Defines the exception classes under `metrics` (`GDS::Metrics`).
pub(crate) fn define(ruby: &Ruby, metrics: RModule) -> Result<(), Error> {
    for (name, parent) in DEFINED {
        let parent = match parent {
            Parent::StandardError => ruby.exception_standard_error(),
            Parent::IoError => ruby.exception_io_error(),
        };
        metrics.define_error(name, parent)?;
    }
    Ok(())
}

fn defined(ruby: &Ruby, name: &str) -> ExceptionClass {
    ruby.class_object()
        .const_get::<_, RModule>("GDS")
        .and_then(|gds| gds.const_get::<_, RModule>("Metrics"))
        .and_then(|metrics| metrics.const_get(name))
        .unwrap_or_else(|_| ruby.exception_runtime_error())
}

static CONFIGURATION_ERROR: Lazy<ExceptionClass> = Lazy::new(|ruby| defined(ruby, "ConfigurationError"));
static INVALID_DATA_ERROR: Lazy<ExceptionClass> = Lazy::new(|ruby| defined(ruby, "InvalidDataError"));
static IO_ERROR: Lazy<ExceptionClass> = Lazy::new(|ruby| defined(ruby, "IOError"));
static CONFLICT_ERROR: Lazy<ExceptionClass> = Lazy::new(|ruby| defined(ruby, "ConflictError"));

/// The table: the Ruby exception class for each kind of core error.
fn exception_class(ruby: &Ruby, kind: ErrorKind) -> ExceptionClass {
    match kind {
        ErrorKind::InvalidArgument | ErrorKind::Duplicate => ruby.exception_arg_error(),
        ErrorKind::Configuration => ruby.get_inner(&CONFIGURATION_ERROR),
        ErrorKind::InvalidData => ruby.get_inner(&INVALID_DATA_ERROR),
        ErrorKind::Io => ruby.get_inner(&IO_ERROR),
        ErrorKind::Conflict => ruby.get_inner(&CONFLICT_ERROR),
        _ => ruby.exception_runtime_error(),
    }
}

/// A core error that knows its kind.
pub(crate) trait Kinded: Display {
    fn error_kind(&self) -> ErrorKind;
}

impl Kinded for gds_metrics::Error {
    fn error_kind(&self) -> ErrorKind {
        self.kind()
    }
}

impl Kinded for ConfigError {
    fn error_kind(&self) -> ErrorKind {
        self.kind()
    }
}

impl Kinded for TargetsError {
    fn error_kind(&self) -> ErrorKind {
        self.kind()
    }
}

/// A multi-process directory that cannot be opened is a setting to fix; a failed fold of
/// exited processes' files is a file operation that failed.
impl Kinded for MultiProcessError {
    fn error_kind(&self) -> ErrorKind {
        match self {
            MultiProcessError::Directory { .. } => ErrorKind::Configuration,
            _ => ErrorKind::Io,
        }
    }
}

/// The Ruby exception for a core error, by its kind.
pub(crate) fn raise(err: impl Kinded) -> Error {
    let ruby = Ruby::get().expect("called from a Ruby thread");
    Error::new(exception_class(&ruby, err.error_kind()), err.to_string())
}

/// An `ArgumentError` for a value the binding itself cannot turn into core input (a labels
/// Hash with other keys, an unknown format name).
pub(crate) fn argument_error(message: impl Display) -> Error {
    let ruby = Ruby::get().expect("called from a Ruby thread");
    Error::new(ruby.exception_arg_error(), message.to_string())
}

/// A `RuntimeError` for a panic caught in Rust code, which must never unwind into Ruby.
pub(crate) fn internal_error(what: &str) -> Error {
    let ruby = Ruby::get().expect("called from a Ruby thread");
    Error::new(
        ruby.exception_runtime_error(),
        format!("gds_metrics: internal error while {what}; please report it"),
    )
}
