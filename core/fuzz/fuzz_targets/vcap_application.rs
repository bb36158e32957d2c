//! `VCAP_APPLICATION` parsing: never panics; an accepted id is a usable bearer token.
#![no_main]

use gds_metrics::config::parse_vcap_application;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(id) = parse_vcap_application(raw) {
        assert!(!id.is_empty() && id.bytes().all(|b| b.is_ascii_graphic()));
    }
});
