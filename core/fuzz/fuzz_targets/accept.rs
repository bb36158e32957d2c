//! `Accept` and `Accept-Encoding` parsing: never panics; OpenMetrics only when named.
#![no_main]

use gds_metrics::negotiate::{accepts_gzip, negotiate_format};
use gds_metrics::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let format = negotiate_format(&[data]);
    if format == Format::OpenMetrics {
        let lower = data.to_ascii_lowercase();
        assert!(lower.windows(28).any(|w| w == b"application/openmetrics-text"));
    }
    let _ = accepts_gzip(&[data]);
});
