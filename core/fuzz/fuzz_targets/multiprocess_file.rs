//! The multi-process file reader on a corrupt, truncated or hostile file left in the
//! directory by another process: never panics, and what it renders is well-formed text.
#![no_main]

use gds_metrics::render_mapped_file as render_file;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = render_file(data) {
        assert!(text.is_empty() || text.ends_with('\n'));
    }
});
