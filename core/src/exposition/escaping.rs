//! How metric and label names outside the legacy character set are written: quoted when
//! the scraper allows UTF-8 and the format can quote, otherwise escaped by the scheme the
//! scraper negotiated (Prometheus' "UTF-8 metric and label name escaping schemes").

use crate::model::name::is_legacy_name;

/// The `escaping=` parameter of `Accept` and `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Escaping {
    /// `allow-utf-8`: names as registered; quoted in text formats when not legacy.
    AllowUtf8,
    /// `underscores`: every character outside `[a-zA-Z0-9_:]` becomes `_` (the default
    /// when a scraper names no scheme, as in `client_golang` and `client_java`).
    #[default]
    Underscores,
    /// `dots`: `.` becomes `_dot_`, `_` becomes `__`, anything else outside the legacy set
    /// becomes `__`. Applies to every name, legacy or not.
    Dots,
    /// `values`: a non-legacy name becomes `U__` followed by the name with `_` doubled and
    /// each other character outside the legacy set written as `_<hex code point>_`.
    Values,
}

impl Escaping {
    /// The scheme for a parameter value, or `None` for an unknown one (which is ignored).
    pub fn from_param(value: &[u8]) -> Option<Escaping> {
        Some(match value {
            b"allow-utf-8" => Escaping::AllowUtf8,
            b"underscores" => Escaping::Underscores,
            b"dots" => Escaping::Dots,
            b"values" => Escaping::Values,
            _ => return None,
        })
    }

    /// The parameter value, as echoed in `Content-Type`.
    pub fn as_param(self) -> &'static str {
        match self {
            Escaping::AllowUtf8 => "allow-utf-8",
            Escaping::Underscores => "underscores",
            Escaping::Dots => "dots",
            Escaping::Values => "values",
        }
    }

    /// Whether `name` is written as it is under this scheme (so a caller may skip the
    /// escaping pass).
    #[inline]
    pub(crate) fn keeps(self, name: &str, legacy: bool) -> bool {
        match self {
            Escaping::AllowUtf8 => true,
            Escaping::Underscores | Escaping::Values => legacy,
            Escaping::Dots => legacy && !name.contains('_'),
        }
    }

    /// Appends `name` escaped by this scheme. With [`Escaping::AllowUtf8`] the name is
    /// appended unchanged: quoting is the format's business.
    pub fn escape_into(self, out: &mut String, name: &str) {
        let legacy_at = |i: usize, c: char| {
            c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit())
        };
        match self {
            Escaping::AllowUtf8 => out.push_str(name),
            _ if self.keeps(name, is_legacy_name(name)) => out.push_str(name),
            Escaping::Underscores => {
                for (i, c) in name.chars().enumerate() {
                    out.push(if legacy_at(i, c) { c } else { '_' });
                }
            }
            Escaping::Dots => {
                for (i, c) in name.chars().enumerate() {
                    match c {
                        '_' => out.push_str("__"),
                        '.' => out.push_str("_dot_"),
                        c if legacy_at(i, c) => out.push(c),
                        _ => out.push_str("__"),
                    }
                }
            }
            Escaping::Values => {
                out.push_str("U__");
                for (i, c) in name.chars().enumerate() {
                    match c {
                        '_' => out.push_str("__"),
                        c if legacy_at(i, c) => out.push(c),
                        c => {
                            use std::fmt::Write;
                            let _ = write!(out, "_{:x}_", c as u32);
                        }
                    }
                }
            }
        }
    }

    /// `name` escaped by this scheme, as an owned string.
    pub fn escape(self, name: &str) -> String {
        let mut out = String::with_capacity(name.len() + 8);
        self.escape_into(&mut out, name);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scheme_escapes_as_the_spec_shows() {
        let name = "my.metric/with-chars_é";
        assert_eq!(Escaping::AllowUtf8.escape(name), name);
        assert_eq!(Escaping::Underscores.escape(name), "my_metric_with_chars__");
        assert_eq!(Escaping::Dots.escape(name), "my_dot_metric__with__chars____");
        assert_eq!(
            Escaping::Values.escape(name),
            "U__my_2e_metric_2f_with_2d_chars___e9_"
        );
        assert_eq!(Escaping::Values.escape("legacy_name"), "legacy_name");
        assert_eq!(Escaping::Dots.escape("legacy_name"), "legacy__name");
        assert_eq!(Escaping::Underscores.escape("9lives"), "_lives");
    }
}
