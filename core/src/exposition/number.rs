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

/// Appends `value` in canonical form to `out`.
pub fn write_f64(out: &mut Vec<u8>, value: f64) {
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
    }
}
