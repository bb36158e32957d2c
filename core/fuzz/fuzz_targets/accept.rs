//! `Accept` parsing: never panics; OpenMetrics only when named, and the answer does not
//! depend on how the same header is split into several.
#![no_main]

use gds_metrics::negotiate::negotiate_format;
use gds_metrics::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let format = negotiate_format(&[data]);
    if format == Format::OpenMetrics {
        // Whitespace around the `/` is tolerated, so look for the two halves.
        let lower = data.to_ascii_lowercase();
        assert!(lower.windows(11).any(|w| w == b"application"));
        assert!(lower.windows(16).any(|w| w == b"openmetrics-text"));
    }
    // Several headers, as a client may send them.
    let parts: Vec<&[u8]> = data.split(|b| *b == b'\n').collect();
    let _ = negotiate_format(&parts);
});
