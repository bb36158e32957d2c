//! `GDS::Metrics::Native::Endpoint`: the core endpoint and request metrics for the Rack
//! middleware. The middleware hands over request parts and gets back a Rack triple; the
//! core decides auth, negotiation, compression and what the request metrics record.

use crate::config::NativeConfig;
use crate::error::{argument_error, internal_error};
use crate::gvl::without_gvl;
use crate::registry::NativeRegistry;
use gds_metrics::{collapse_ids, Endpoint, Request};
use magnus::{function, method, prelude::*, Error, RArray, RHash, RModule, RString, Ruby};
use std::sync::Arc;

/// One app's endpoint, shared by every thread of the app.
#[magnus::wrap(class = "GDS::Metrics::Native::Endpoint", free_immediately, size)]
pub struct NativeEndpoint(Arc<Endpoint>);

/// Request headers copied out of Ruby strings, so the request can be answered without the
/// GVL.
struct OwnedRequest {
    method: String,
    path: String,
    headers: Vec<(String, Vec<u8>)>,
}

impl OwnedRequest {
    /// `headers` is a flat Array: name, value, name, value...
    fn new(method: String, path: String, headers: RArray) -> Result<Self, Error> {
        let mut pairs = Vec::with_capacity(headers.len() / 2);
        for index in (0..headers.len().saturating_sub(1)).step_by(2) {
            let name: String = headers.entry(index as isize)?;
            let value: RString = headers.entry(index as isize + 1)?;
            // SAFETY: the bytes are copied before any other Ruby code runs.
            pairs.push((name, unsafe { value.as_slice() }.to_vec()));
        }
        Ok(Self {
            method,
            path,
            headers: pairs,
        })
    }

    fn request(&self) -> Request<'_> {
        self.headers.iter().fold(
            Request::new(&self.method, &self.path),
            |request, (name, value)| request.header(name, value),
        )
    }
}

/// Request parts as text whatever their encoding: a path or `Host` with bytes that are not
/// UTF-8 is the app's business and must never make the middleware raise.
fn lossy(string: RString) -> String {
    // SAFETY: the bytes are copied before any other Ruby code runs.
    String::from_utf8_lossy(unsafe { string.as_slice() }).into_owned()
}

impl NativeEndpoint {
    /// Registers the request metrics in `registry`; a second endpoint on the same registry
    /// is an ArgumentError (the metrics would be registered twice).
    fn new(config: &NativeConfig, registry: &NativeRegistry) -> Result<Self, Error> {
        let endpoint = Endpoint::new(config.0.clone(), registry.0.clone()).map_err(argument_error)?;
        Ok(Self(Arc::new(endpoint)))
    }

    fn matches(&self, path: RString) -> bool {
        self.0.matches(&lossy(path))
    }

    /// `[status, headers Hash, body String]` for a request to the metrics path. Rendering
    /// and compression run without the GVL.
    fn call(
        ruby: &Ruby,
        rb_self: &Self,
        method: String,
        path: String,
        headers: RArray,
    ) -> Result<RArray, Error> {
        let owned = OwnedRequest::new(method, path, headers)?;
        let endpoint = rb_self.0.clone();
        let response = without_gvl(move || endpoint.handle(&owned.request()))
            .map_err(|_| internal_error("answering a scrape"))?;
        let rack_headers = RHash::new();
        for (name, value) in response.headers {
            rack_headers.aset(name, value)?;
        }
        let triple = ruby.ary_new_capa(3);
        triple.push(response.status)?;
        triple.push(rack_headers)?;
        triple.push(ruby.str_from_slice(&response.body))?;
        Ok(triple)
    }

    /// Counts one request to the app. `route` nil means no route matched.
    fn record(&self, method: RString, host: RString, route: Option<RString>, status: u16, seconds: f64) {
        let route = route.map(lossy);
        self.0
            .request_metrics()
            .record(&lossy(method), &lossy(host), route.as_deref(), status, seconds);
    }

    /// Counts an unhandled exception by its class name.
    fn exception(&self, class_name: RString) {
        let class_name = lossy(class_name);
        self.0.request_metrics().exception(&class_name);
    }

    fn metrics_path(&self) -> String {
        self.0.config().metrics_path().to_owned()
    }
}

/// The path with numeric ids and UUIDs collapsed, for apps without a router.
fn collapse(path: RString) -> String {
    collapse_ids(&lossy(path)).into_owned()
}

/// Defines the endpoint class and `Native.collapse_ids` under `native`.
pub fn define(ruby: &Ruby, native: RModule) -> Result<(), Error> {
    let class = native.define_class("Endpoint", ruby.class_object())?;
    class.define_singleton_method("new", function!(NativeEndpoint::new, 2))?;
    class.define_method("matches?", method!(NativeEndpoint::matches, 1))?;
    class.define_method("call", method!(NativeEndpoint::call, 3))?;
    class.define_method("record", method!(NativeEndpoint::record, 5))?;
    class.define_method("exception", method!(NativeEndpoint::exception, 1))?;
    class.define_method("metrics_path", method!(NativeEndpoint::metrics_path, 0))?;
    native.define_module_function("collapse_ids", function!(collapse, 1))?;
    Ok(())
}
