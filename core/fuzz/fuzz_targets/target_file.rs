//! The target-file reader on any bytes: never panics, and a file it accepts is encoded
//! back into one it reads as the same groups.
#![no_main]

use gds_metrics::targets::{encode_target_groups, parse_target_file};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(groups) = parse_target_file(data, "fuzz.json") else {
        return;
    };
    let encoded = encode_target_groups(&groups);
    let again = parse_target_file(encoded.as_bytes(), "encoded.json").expect("an encoded file reads back");
    assert_eq!(again, groups);
});
