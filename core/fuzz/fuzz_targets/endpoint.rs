//! The whole handler on arbitrary header values: never panics, never answers 500.
#![no_main]

use gds_metrics::{Config, Endpoint, Registry, Request};
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};

fn endpoint() -> &'static Endpoint {
    static ENDPOINT: OnceLock<Endpoint> = OnceLock::new();
    ENDPOINT.get_or_init(|| {
        let config = Config::builder()
            .application_id("6b0b3c4e")
            .build_with_env(|_| None)
            .unwrap();
        Endpoint::new(config, Arc::new(Registry::new())).unwrap()
    })
}

fuzz_target!(|input: (&[u8], &[u8], &[u8], bool)| {
    let (authorization, accept, accept_encoding, head) = input;
    let request = Request::new(if head { "HEAD" } else { "GET" }, "/metrics")
        .header("authorization", authorization)
        .header("accept", accept)
        .header("accept-encoding", accept_encoding);
    let response = endpoint().handle(&request);
    assert!(matches!(response.status, 200 | 401 | 403));
    assert!(response.headers.iter().all(|(_, v)| !v.contains("6b0b3c4e")));
});
