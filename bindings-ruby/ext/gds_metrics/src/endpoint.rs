//! `GDS::Metrics::Native::Endpoint`: the core endpoint and request metrics for the Rack
//! middleware. The middleware hands over request parts as sent and the facts of finished
//! requests; the core decides auth, negotiation, compression and every label.

use crate::config::NativeConfig;
use crate::error::{internal_error, raise};
use crate::gvl::without_gvl;
use crate::registry::NativeRegistry;
use gds_metrics::{Endpoint, FinishedRequest, RaisedException, Request, Route};
use magnus::{function, method, prelude::*, Error, RArray, RHash, RModule, RString, Ruby};
use std::sync::Arc;

/// One app's endpoint, shared by every thread of the app.
#[magnus::wrap(class = "GDS::Metrics::Native::Endpoint", free_immediately, size)]
pub(crate) struct NativeEndpoint(Arc<Endpoint>);

/// A request copied out of Ruby strings, so it can be answered without the GVL.
struct OwnedRequest {
    method: String,
    target: String,
    mount: String,
    headers: Vec<(String, Vec<u8>)>,
}

impl OwnedRequest {
    /// `headers` is a flat Array of Rack env keys and values: `HTTP_ACCEPT_ENCODING`,
    /// value, ... (every request header, as Rack names them).
    fn new(method: RString, target: RString, mount: RString, headers: RArray) -> Result<Self, Error> {
        let mut pairs = Vec::with_capacity(headers.len() / 2);
        for index in (0..headers.len().saturating_sub(1)).step_by(2) {
            let key: RString = headers.entry(index as isize)?;
            let value: RString = headers.entry(index as isize + 1)?;
            pairs.push((header_name(&lossy(key)), bytes(value)));
        }
        Ok(Self {
            method: lossy(method),
            target: lossy(target),
            mount: lossy(mount),
            headers: pairs,
        })
    }

    fn request(&self) -> Request<'_> {
        self.headers.iter().fold(
            Request::new(&self.method, &self.target).mounted_at(&self.mount),
            |request, (name, value)| request.header(name, value),
        )
    }
}

/// The HTTP name of a Rack env header key: `HTTP_ACCEPT_ENCODING` is `accept-encoding`.
fn header_name(key: &str) -> String {
    key.strip_prefix("HTTP_")
        .unwrap_or(key)
        .replace('_', "-")
        .to_ascii_lowercase()
}

/// Request parts as text whatever their encoding: a path or `Host` with bytes that are not
/// UTF-8 is the app's business and must never make the middleware raise.
fn lossy(string: RString) -> String {
    String::from_utf8_lossy(&bytes(string)).into_owned()
}

fn bytes(string: RString) -> Vec<u8> {
    // SAFETY: the bytes are copied before any other Ruby code runs.
    unsafe { string.as_slice() }.to_vec()
}

/// An exception as the middleware reports it: `[class name or nil, nearest named ancestor
/// or nil, escaped]`.
struct ExceptionFacts {
    class_name: Option<String>,
    named_ancestor: Option<String>,
    escaped: bool,
}

impl ExceptionFacts {
    fn from_array(facts: RArray) -> Result<Self, Error> {
        let name = |index: isize| -> Result<Option<String>, Error> {
            Ok(facts.entry::<Option<RString>>(index)?.map(lossy))
        };
        Ok(Self {
            class_name: name(0)?,
            named_ancestor: name(1)?,
            escaped: facts.entry(2)?,
        })
    }

    fn raised(&self) -> RaisedException<'_> {
        RaisedException {
            class_name: self.class_name.as_deref(),
            named_ancestor: self.named_ancestor.as_deref(),
            escaped: self.escaped,
        }
    }
}

impl NativeEndpoint {
    /// The endpoint for `config` on `registry`; the request metrics are registered in the
    /// registry once, shared by every endpoint on it.
    fn new(config: &NativeConfig, registry: &NativeRegistry) -> Result<Self, Error> {
        let endpoint = Endpoint::new(config.0.clone(), registry.0.clone()).map_err(raise)?;
        Ok(Self(Arc::new(endpoint)))
    }

    /// Whether `target`, as sent, is the endpoint's path below the mount point `mount`.
    fn matches(&self, mount: RString, target: RString) -> bool {
        self.0.matches_below(&lossy(mount), &lossy(target))
    }

    /// `[status, headers Hash, body String]` for a request to the metrics path. Rendering
    /// and compression run without the GVL.
    fn call(
        ruby: &Ruby,
        rb_self: &Self,
        method: RString,
        target: RString,
        mount: RString,
        headers: RArray,
    ) -> Result<RArray, Error> {
        let owned = OwnedRequest::new(method, target, mount, headers)?;
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

    /// Records one finished request of the app from its facts: the method, `Host` and
    /// target as sent, whether the framework routes and the template that matched (or
    /// nil), the status, the seconds taken, the exception facts (or nil) and the
    /// `traceparent` header as sent (or nil). The core decides every label and whether the
    /// trace becomes an exemplar.
    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        method: RString,
        host: RString,
        raw_path: RString,
        has_router: bool,
        template: Option<RString>,
        status: u16,
        seconds: f64,
        exception: Option<RArray>,
        traceparent: Option<RString>,
    ) -> Result<(), Error> {
        let (method, host, raw_path) = (lossy(method), bytes(host), lossy(raw_path));
        let traceparent = traceparent.map(bytes).unwrap_or_default();
        let template = template.map(lossy);
        let exception = exception.map(ExceptionFacts::from_array).transpose()?;
        self.0.record(&FinishedRequest {
            method: &method,
            host: &host,
            raw_path: &raw_path,
            route: Route::from_parts(has_router, template.as_deref()),
            status,
            seconds,
            exception: exception.as_ref().map(ExceptionFacts::raised),
            traceparent: &traceparent,
        });
        Ok(())
    }

    fn metrics_path(&self) -> String {
        self.0.config().metrics_path().to_owned()
    }
}

/// Defines the endpoint class under `native`.
pub(crate) fn define(ruby: &Ruby, native: RModule) -> Result<(), Error> {
    let class = native.define_class("Endpoint", ruby.class_object())?;
    class.define_singleton_method("new", function!(NativeEndpoint::new, 2))?;
    class.define_method("matches?", method!(NativeEndpoint::matches, 2))?;
    class.define_method("call", method!(NativeEndpoint::call, 4))?;
    class.define_method("record", method!(NativeEndpoint::record, 9))?;
    class.define_method("metrics_path", method!(NativeEndpoint::metrics_path, 0))?;
    Ok(())
}
