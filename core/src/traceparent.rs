//! The W3C Trace Context `traceparent` header (<https://www.w3.org/TR/trace-context/>),
//! read only for what a request exemplar needs: the trace and span ids of a sampled trace.
//!
//! The header is `version-traceid-parentid-flags`: two, thirty-two, sixteen and two
//! lower-case hex digits. The rules followed (section 3.2 of the spec):
//!
//! - version `00` is exactly 55 characters; anything else is invalid;
//! - version `ff` is invalid; a higher version (`01`..`fe`) is read as `00` when it is at
//!   least 55 characters and, if longer, the character after the flags is `-`;
//! - an all-zero trace id or parent id is invalid; upper-case hex is invalid;
//! - only the `sampled` bit (`0x01`) of the flags is read; other bits are ignored.
//!
//! An invalid header is simply no trace: the request is recorded without an exemplar and
//! nothing is reported. Two headers joined by a comma (as WSGI, Rack and HTTP/1.1 field
//! combination do) are not valid either, which is what the spec asks for. A value longer
//! than [`MAX_TRACEPARENT_LEN`] is not read at all, so a hostile header costs nothing.

/// The length of a version `00` header, and the least a later version may have.
pub const TRACEPARENT_LEN: usize = 55;

/// The longest value read (a later version may append fields; `tracestate`'s own bound).
pub const MAX_TRACEPARENT_LEN: usize = 512;

pub use crate::model::{TraceIds, SPAN_ID_LABEL, TRACE_ID_LABEL};

const SAMPLED: u8 = 0x01;

impl TraceIds {
    /// The ids of a `traceparent` header value as sent, when it is valid and its sampled
    /// flag is set; `None` otherwise (never an error: a bad header is just no trace).
    pub fn from_sampled(header: &[u8]) -> Option<TraceIds> {
        let value = crate::header::trim(header);
        if value.len() < TRACEPARENT_LEN || value.len() > MAX_TRACEPARENT_LEN {
            return None;
        }
        let version = hex_byte(value[0], value[1])?;
        let length_ok = match version {
            0x00 => value.len() == TRACEPARENT_LEN,
            0xff => false,
            _ => value.len() == TRACEPARENT_LEN || value[TRACEPARENT_LEN] == b'-',
        };
        if !length_ok || value[2] != b'-' || value[35] != b'-' || value[52] != b'-' {
            return None;
        }
        let flags = hex_byte(value[53], value[54])?;
        if flags & SAMPLED == 0 {
            return None;
        }
        let (high, low, span) = (
            check16(&value[3..19]),
            check16(&value[19..35]),
            check16(&value[36..52]),
        );
        if !(high.lower_hex && low.lower_hex && span.lower_hex) || (high.zeros && low.zeros) || span.zeros {
            return None;
        }
        let trace_id = value[3..35].try_into().expect("32 digits");
        let span_id = value[36..52].try_into().expect("16 digits");
        Some(TraceIds::from_checked_hex(trace_id, span_id))
    }
}

/// What 16 id digits are: all lower-case hex, all `0`.
#[derive(Clone, Copy)]
struct Check16 {
    lower_hex: bool,
    zeros: bool,
}

/// Sixteen bytes checked at once (SSE2, which every x86-64 has): a traced request costs
/// little more than an untraced one. Signed compares make bytes from 0x80 up "below `0`".
#[cfg(target_arch = "x86_64")]
#[allow(unused_unsafe)] // the intrinsics are safe to call in newer Rust
#[inline]
fn check16(chunk: &[u8]) -> Check16 {
    assert!(chunk.len() >= 16, "16 digits to check");
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of the x86-64 baseline; the load reads the first 16 bytes of
    // `chunk` (asserted above) and allows any alignment.
    unsafe {
        let x = _mm_loadu_si128(chunk.as_ptr().cast());
        let byte = |b: u8| _mm_set1_epi8(b as i8);
        let not_digit = _mm_or_si128(_mm_cmplt_epi8(x, byte(b'0')), _mm_cmpgt_epi8(x, byte(b'9')));
        let not_letter = _mm_or_si128(_mm_cmplt_epi8(x, byte(b'a')), _mm_cmpgt_epi8(x, byte(b'f')));
        Check16 {
            lower_hex: _mm_movemask_epi8(_mm_and_si128(not_digit, not_letter)) == 0,
            zeros: _mm_movemask_epi8(_mm_cmpeq_epi8(x, byte(b'0'))) == 0xffff,
        }
    }
}

/// The portable version of the SSE2 check.
#[cfg(not(target_arch = "x86_64"))]
fn check16(chunk: &[u8]) -> Check16 {
    Check16 {
        lower_hex: chunk
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b)),
        zeros: chunk.iter().all(|b| *b == b'0'),
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

fn hex_byte(high: u8, low: u8) -> Option<u8> {
    Some(hex_value(high)? << 4 | hex_value(low)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLED_HEADER: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_sampled_header_gives_its_ids() {
        let ids = TraceIds::from_sampled(SAMPLED_HEADER.as_bytes()).unwrap();
        assert_eq!(ids.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(ids.span_id(), "00f067aa0ba902b7");
    }

    #[test]
    fn the_digit_check_accepts_exactly_lower_case_hex_in_every_position() {
        for position in 0..16 {
            for byte in 0..=255u8 {
                let mut bytes = *b"0123456789abcdef";
                bytes[position] = byte;
                let expected = byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte);
                assert_eq!(check16(&bytes).lower_hex, expected, "{byte:#x} at {position}");
                let mut zeros = [b'0'; 16];
                zeros[position] = byte;
                assert_eq!(check16(&zeros).zeros, byte == b'0', "{byte:#x} at {position}");
            }
        }
    }

    #[test]
    fn unsampled_and_invalid_headers_give_none() {
        for header in [
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
            "",
        ] {
            assert_eq!(TraceIds::from_sampled(header.as_bytes()), None, "{header}");
        }
    }
}
