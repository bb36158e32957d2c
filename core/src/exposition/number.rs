//! Canonical numbers: `1.0`, `0.25`, `1e21`, `+Inf`, `-Inf`, `NaN`.
//!
//! `ryu` gives the shortest representation that parses back to the same `f64`, which both
//! Go's `ParseFloat` (Prometheus) and Python's `float` (the OpenMetrics parser) accept.

/// Formats `value` into `buf`, returning the text.
pub(crate) fn format_f64(buf: &mut ryu::Buffer, value: f64) -> &str {
    if value.is_nan() {
        "NaN"
    } else if value == f64::INFINITY {
        "+Inf"
    } else if value == f64::NEG_INFINITY {
        "-Inf"
    } else {
        buf.format_finite(value)
    }
}

/// Below this, ryu writes a whole number as its digits and `.0`, which `itoa` writes
/// several times faster; counters and bucket counts are almost always whole.
const WHOLE_FAST_PATH_LIMIT: f64 = 1e15;

/// Appends `value` in canonical form to `out`.
pub fn write_f64(out: &mut Vec<u8>, value: f64) {
    // A value is whole when converting it to an integer and back gives it again: two
    // instructions, where `fract` calls `trunc`. NaN converts to 0 and fails the test.
    let whole = value as i64;
    if whole as f64 == value
        && value.abs() < WHOLE_FAST_PATH_LIMIT
        && !(value == 0.0 && value.is_sign_negative())
    {
        out.extend_from_slice(itoa::Buffer::new().format(whole).as_bytes());
        out.extend_from_slice(b".0");
        return;
    }
    let mut buf = ryu::Buffer::new();
    out.extend_from_slice(format_f64(&mut buf, value).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: f64) -> String {
        let mut out = Vec::new();
        write_f64(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn numbers_are_canonical() {
        assert_eq!(text(1.0), "1.0");
        assert_eq!(text(0.005), "0.005");
        assert_eq!(text(-2.5), "-2.5");
        assert_eq!(text(f64::INFINITY), "+Inf");
        assert_eq!(text(f64::NEG_INFINITY), "-Inf");
        assert_eq!(text(f64::NAN), "NaN");
        assert_eq!(text(1e21), "1e21");
        assert_eq!(text(-0.0), "-0.0");
    }

    #[test]
    fn whole_numbers_are_written_as_ryu_writes_them() {
        let mut cases = vec![
            0.0,
            1.0,
            -1.0,
            42.0,
            1e14,
            999_999_999_999_999.0,
            -999_999_999_999_999.0,
        ];
        cases.extend((0..60).map(|i| 2f64.powi(i).min(1e15 - 1.0).floor()));
        for v in cases {
            assert_eq!(text(v), ryu::Buffer::new().format_finite(v), "{v}");
        }
    }
}
