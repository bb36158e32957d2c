//! `Authorization` parsing: never panics, and only a header whose token is exactly the
//! expected one is allowed.
#![no_main]

use gds_metrics::auth::{authorize, bearer_token, AuthDecision};
use libfuzzer_sys::fuzz_target;

const TOKEN: &str = "6b0b3c4e-5c1d-4d3b-9d2a-0c8e1f2a3b4c";

fuzz_target!(|data: &[u8]| {
    let decision = authorize(Some(TOKEN), &[data]);
    let allowed = bearer_token(data) == Some(TOKEN.as_bytes());
    assert_eq!(decision == AuthDecision::Allow, allowed);
    assert_ne!(decision, AuthDecision::MissingCredentials);
});
