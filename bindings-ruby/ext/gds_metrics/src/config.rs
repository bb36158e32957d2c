//! `GDS::Metrics::Native::Config`: the core's configuration, built from the settings given
//! in Ruby (`GDS::Metrics.configure`) with everything else read from the environment by
//! the core.

use crate::error::raise;
use gds_metrics::config::{parse_auth_switch, parse_vcap_application, METRICS_BASIC_AUTH, VCAP_APPLICATION};
use gds_metrics::{Config, ConfigBuilder};
use magnus::{function, method, prelude::*, Error, RHash, RModule, Ruby, Symbol, TryConvert};

/// A parsed, validated configuration.
#[magnus::wrap(class = "GDS::Metrics::Native::Config", free_immediately, size)]
pub(crate) struct NativeConfig(pub Config);

/// The setting `name` of the Hash, nil when not given in code.
fn setting<T: TryConvert>(settings: RHash, name: &str) -> Result<Option<T>, Error> {
    match settings.get(Symbol::new(name)) {
        Some(value) if !value.is_nil() => Ok(Some(T::try_convert(value)?)),
        _ => Ok(None),
    }
}

impl NativeConfig {
    /// Settings: `application_id`, `auth_enabled`, `metrics_path`, `multiprocess_dir`,
    /// `routes` (the app's own hosts), `trace_exemplars`, `request_native_histogram`; nil
    /// or absent ones come from the environment.
    fn new(settings: RHash) -> Result<Self, Error> {
        let builder = ConfigBuilder {
            application_id: setting(settings, "application_id")?,
            auth_enabled: setting(settings, "auth_enabled")?,
            metrics_path: setting(settings, "metrics_path")?,
            multiprocess_dir: setting::<String>(settings, "multiprocess_dir")?.map(Into::into),
            routes: setting(settings, "routes")?,
            trace_exemplars: setting(settings, "trace_exemplars")?,
            request_native_histogram: setting(settings, "request_native_histogram")?,
            ..ConfigBuilder::default()
        };
        // Warnings are returned to Ruby (`warnings`), which writes them with `warn`.
        builder.build_with_env(env_var).map(Self).map_err(raise)
    }

    fn metrics_path(&self) -> String {
        self.0.metrics_path().to_owned()
    }

    fn auth_enabled(&self) -> bool {
        self.0.auth_enabled()
    }

    fn trace_exemplars(&self) -> bool {
        self.0.trace_exemplars()
    }

    fn request_native_histogram(&self) -> bool {
        self.0.request_native_histogram()
    }

    fn instance_index(&self) -> Option<u32> {
        self.0.instance_index()
    }

    fn multiprocess_dir(&self) -> Option<String> {
        self.0
            .multiprocess_dir()
            .map(|dir| dir.to_string_lossy().into_owned())
    }

    /// Non-fatal problems (an unusable `CF_INSTANCE_INDEX`) for the Ruby side to `warn`.
    fn warnings(&self) -> Vec<String> {
        self.0.warnings().iter().map(ToString::to_string).collect()
    }

    fn inspect(&self) -> String {
        format!("#<GDS::Metrics::Native::Config {:?}>", self.0)
    }
}

/// A variable of the process environment, as the core reads it.
fn env_var(name: &str) -> Option<String> {
    std::env::var_os(name).map(|value| value.to_string_lossy().into_owned())
}

/// The application id in `VCAP_APPLICATION`, nil when unset; a ConfigurationError when
/// it cannot be read (never showing the value).
fn env_application_id() -> Result<Option<String>, Error> {
    env_var(VCAP_APPLICATION)
        .map(|raw| parse_vcap_application(&raw))
        .transpose()
        .map_err(raise)
}

/// The auth switch `METRICS_BASIC_AUTH` as the core reads it, nil when unset.
fn env_auth_switch() -> Result<Option<bool>, Error> {
    env_var(METRICS_BASIC_AUTH)
        .map(|raw| parse_auth_switch(&raw))
        .transpose()
        .map_err(raise)
}

/// Defines the config class under `native`.
pub(crate) fn define(ruby: &Ruby, native: RModule) -> Result<(), Error> {
    let class = native.define_class("Config", ruby.class_object())?;
    class.define_singleton_method("new", function!(NativeConfig::new, 1))?;
    class.define_method("metrics_path", method!(NativeConfig::metrics_path, 0))?;
    class.define_method("auth_enabled?", method!(NativeConfig::auth_enabled, 0))?;
    class.define_method("instance_index", method!(NativeConfig::instance_index, 0))?;
    class.define_method("trace_exemplars?", method!(NativeConfig::trace_exemplars, 0))?;
    class.define_method(
        "request_native_histogram?",
        method!(NativeConfig::request_native_histogram, 0),
    )?;
    class.define_method("multiprocess_dir", method!(NativeConfig::multiprocess_dir, 0))?;
    class.define_method("warnings", method!(NativeConfig::warnings, 0))?;
    class.define_method("inspect", method!(NativeConfig::inspect, 0))?;
    class.define_singleton_method("env_application_id", function!(env_application_id, 0))?;
    class.define_singleton_method("env_auth_switch", function!(env_auth_switch, 0))?;
    Ok(())
}
