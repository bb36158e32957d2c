//! Byte-level helpers for header values, which may hold any bytes a client sends.

/// Strips ASCII whitespace from both ends (`<[u8]>::trim_ascii` is newer than our MSRV).
pub(crate) fn trim(mut value: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = value {
        if !first.is_ascii_whitespace() {
            break;
        }
        value = rest;
    }
    while let [rest @ .., last] = value {
        if !last.is_ascii_whitespace() {
            break;
        }
        value = rest;
    }
    value
}
