//! `Accept-Encoding` parsing: never panics, and gzip is only allowed when named (or `*`).
#![no_main]

use gds_metrics::negotiate::accepts_gzip;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if accepts_gzip(&[data]) {
        let lower = data.to_ascii_lowercase();
        assert!(lower.windows(4).any(|w| w == b"gzip") || lower.contains(&b'*'));
    }
    let parts: Vec<&[u8]> = data.split(|b| *b == b'\n').collect();
    let _ = accepts_gzip(&parts);
});
