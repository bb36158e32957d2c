//! Choosing the exposition format from `Accept` and the compression from
//! `Accept-Encoding` (CONTRACT section 2).
//!
//! Formats are ranked the way Prometheus' own client libraries do it: by q-value, then by
//! specificity (`type/subtype` before `type/*` before `*/*`), then by order in the header;
//! the best-ranked range this library can serve wins. We serve
//! - Prometheus protobuf (`application/vnd.google.protobuf` with
//!   `proto=io.prometheus.client.MetricFamily` and `encoding=delimited`),
//! - OpenMetrics 1.0.0 (`application/openmetrics-text` with `version=1.0.0` or none),
//! - Prometheus text 1.0.0 (`text/plain; version=1.0.0`) and 0.0.4 (`text/plain` with
//!   `version=0.0.4` or none);
//!
//! a wildcard range is answered with text 0.0.4, and so is a header with nothing we can
//! serve. A range with `q=0` is refused, never chosen. The chosen range's `escaping=`
//! parameter (`allow-utf-8`, `underscores`, `dots`, `values`) says how names outside the
//! legacy set are written; an unknown or missing one means `underscores`, as in
//! `client_golang` and `client_java`, and text 0.0.4, which cannot quote names, answers
//! `allow-utf-8` with `underscores`. Both parsers work in one pass without allocating, so
//! a hostile 64 KiB header costs a linear scan.

use crate::exposition::{Escaping, Format};
use crate::header::trim;

/// The outcome of negotiation: a format, how names are escaped in it, and whether the
/// scheme is named in the `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// The format to write.
    pub format: Format,
    /// How names outside the legacy set are written.
    pub escaping: Escaping,
    /// Whether the `Content-Type` names the scheme: when the scraper named one, and always
    /// for text 1.0.0 and protobuf, whose readers know the parameter. Text 0.0.4 and
    /// OpenMetrics without it keep the exact `Content-Type` older scrapers expect.
    pub echo_escaping: bool,
}

impl Negotiated {
    /// The complete `Content-Type` (Prometheus 3 fails a scrape without one).
    pub fn content_type(&self) -> String {
        let base = self.format.content_type();
        if self.echo_escaping {
            format!("{base}; escaping={}", self.escaping.as_param())
        } else {
            base.to_owned()
        }
    }
}

impl Default for Negotiated {
    fn default() -> Self {
        Negotiated {
            format: Format::Text,
            escaping: Escaping::Underscores,
            echo_escaping: false,
        }
    }
}

/// The exposition format for a request with these `Accept` header values (several headers
/// count as one comma-separated list).
pub fn negotiate_format(accept: &[&[u8]]) -> Format {
    negotiate(accept).format
}

/// Format and escaping for a request with these `Accept` header values.
pub fn negotiate(accept: &[&[u8]]) -> Negotiated {
    let mut best: Option<(Rank, Negotiated)> = None;
    for range in accept.iter().flat_map(|value| split_list(value)) {
        let Some((rank, offer)) = servable_range(range) else {
            continue;
        };
        if best.is_none_or(|(best_rank, _)| rank > best_rank) {
            best = Some((rank, offer));
        }
    }
    best.map_or_else(Negotiated::default, |(_, offer)| offer)
}

/// Whether the response may be gzip-compressed, given the `Accept-Encoding` values: when
/// `gzip` (or `x-gzip`) is listed with a non-zero q-value, or, if it is not listed, `*`
/// is. `identity` alone, or `gzip;q=0`, means no compression.
pub fn accepts_gzip(accept_encoding: &[&[u8]]) -> bool {
    let mut gzip = None;
    let mut wildcard = None;
    for coding in accept_encoding.iter().flat_map(|value| split_list(value)) {
        let mut parts = coding.split(|b| *b == b';');
        let name = trim(parts.next().unwrap_or_default());
        let Some(q) = q_value(parts) else { continue };
        if name.eq_ignore_ascii_case(b"gzip") || name.eq_ignore_ascii_case(b"x-gzip") {
            gzip = Some(gzip.map_or(q, |old: u16| old.min(q)));
        } else if name == b"*" {
            wildcard = Some(q);
        }
    }
    gzip.or(wildcard).is_some_and(|q| q > 0)
}

/// How a media range ranks: q-value in thousandths, then specificity. Ties keep the
/// earlier range because only a strictly greater rank replaces the best so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Rank {
    q: u16,
    specificity: u8,
}

/// The parameters of a media range this module reads.
#[derive(Default)]
struct Params<'a> {
    q: Option<u16>,
    version: Option<&'a [u8]>,
    proto: Option<&'a [u8]>,
    encoding: Option<&'a [u8]>,
    escaping: Option<&'a [u8]>,
}

/// The rank and offer of one media range, or `None` when we cannot serve it (an
/// unsupported type or version, `q=0`, or a malformed range).
fn servable_range(range: &[u8]) -> Option<(Rank, Negotiated)> {
    let mut parts = range.split(|b| *b == b';');
    let media = trim(parts.next()?);
    let slash = media.iter().position(|b| *b == b'/')?;
    let (kind, subtype) = (trim(&media[..slash]), trim(&media[slash + 1..]));
    let mut params = Params::default();
    for param in parts {
        let (name, value) = split_param(param)?;
        let slot = match name {
            _ if name.eq_ignore_ascii_case(b"q") => {
                params.q = Some(parse_q(value)?);
                continue;
            }
            _ if name.eq_ignore_ascii_case(b"version") => &mut params.version,
            _ if name.eq_ignore_ascii_case(b"proto") => &mut params.proto,
            _ if name.eq_ignore_ascii_case(b"encoding") => &mut params.encoding,
            _ if name.eq_ignore_ascii_case(b"escaping") => &mut params.escaping,
            _ => continue,
        };
        *slot = Some(value);
    }
    let q = params.q.unwrap_or(1000);
    if q == 0 {
        return None;
    }
    let (format, specificity) = format_of(kind, subtype, &params)?;
    let asked = params.escaping.and_then(Escaping::from_param);
    let escaping = format.effective_escaping(asked.unwrap_or_default());
    let echo_escaping = asked.is_some() || matches!(format, Format::TextV1 | Format::Protobuf);
    let offer = Negotiated {
        format,
        escaping,
        echo_escaping,
    };
    Some((Rank { q, specificity }, offer))
}

/// The format a media type with these parameters asks for, and how specific it is.
fn format_of(kind: &[u8], subtype: &[u8], params: &Params<'_>) -> Option<(Format, u8)> {
    let is = |part: &[u8], name: &[u8]| part.eq_ignore_ascii_case(name);
    let version = params.version;
    Some(if is(kind, b"*") && is(subtype, b"*") {
        (Format::Text, 0)
    } else if is(kind, b"text") && is(subtype, b"*") {
        (Format::Text, 1)
    } else if is(kind, b"text") && is(subtype, b"plain") && version_is(version, b"0.0.4") {
        (Format::Text, 2)
    } else if is(kind, b"text") && is(subtype, b"plain") && version == Some(b"1.0.0") {
        (Format::TextV1, 2)
    } else if is(kind, b"application") && is(subtype, b"openmetrics-text") && version_is(version, b"1.0.0") {
        (Format::OpenMetrics, 2)
    } else if is(kind, b"application")
        && is(subtype, b"vnd.google.protobuf")
        && params.proto == Some(b"io.prometheus.client.MetricFamily")
        && params.encoding == Some(b"delimited")
    {
        (Format::Protobuf, 2)
    } else {
        return None;
    })
}

/// True when the range names no version or exactly `wanted`.
fn version_is(version: Option<&[u8]>, wanted: &[u8]) -> bool {
    version.is_none_or(|v| v == wanted)
}

/// The q-value among a coding's parameters (default 1), or `None` when malformed.
fn q_value<'a>(params: impl Iterator<Item = &'a [u8]>) -> Option<u16> {
    let mut q = 1000;
    for param in params {
        let (name, value) = split_param(param)?;
        if name.eq_ignore_ascii_case(b"q") {
            q = parse_q(value)?;
        }
    }
    Some(q)
}

/// `name=value` with surrounding whitespace and quotes removed.
fn split_param(param: &[u8]) -> Option<(&[u8], &[u8])> {
    let eq = param.iter().position(|b| *b == b'=')?;
    let name = trim(&param[..eq]);
    let mut value = trim(&param[eq + 1..]);
    if let [b'"', inner @ .., b'"'] = value {
        value = inner;
    }
    Some((name, value))
}

/// A q-value (RFC 9110 `qvalue`, leniently: any decimal in 0..=1) in thousandths.
fn parse_q(value: &[u8]) -> Option<u16> {
    if value.is_empty() || value.len() > 16 || !value.iter().all(|b| b.is_ascii_digit() || *b == b'.') {
        return None;
    }
    let q: f64 = std::str::from_utf8(value).ok()?.parse().ok()?;
    (0.0..=1.0).contains(&q).then(|| (q * 1000.0).round() as u16)
}

/// The non-empty elements of a comma-separated header value.
fn split_list(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value.split(|b| *b == b',').filter(|item| !trim(item).is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q_values_parse_to_thousandths() {
        assert_eq!(parse_q(b"1"), Some(1000));
        assert_eq!(parse_q(b"0.5"), Some(500));
        assert_eq!(parse_q(b"0.125"), Some(125));
        assert_eq!(parse_q(b"0"), Some(0));
        assert_eq!(parse_q(b"1.5"), None);
        assert_eq!(parse_q(b"-1"), None);
        assert_eq!(parse_q(b"abc"), None);
    }

    #[test]
    fn escaping_comes_from_the_chosen_range() {
        let offer = negotiate(&[b"text/plain;version=1.0.0;escaping=dots"]);
        assert_eq!((offer.format, offer.escaping), (Format::TextV1, Escaping::Dots));
        assert_eq!(
            offer.content_type(),
            "text/plain; version=1.0.0; charset=utf-8; escaping=dots"
        );
        let offer = negotiate(&[b"text/plain;version=0.0.4;escaping=allow-utf-8"]);
        assert_eq!(offer.escaping, Escaping::Underscores);
        let offer = negotiate(&[b"application/openmetrics-text;escaping=bogus"]);
        assert_eq!(
            (offer.escaping, offer.echo_escaping),
            (Escaping::Underscores, false)
        );
    }

    #[test]
    fn quoted_versions_are_understood() {
        let accept: &[u8] = b"application/openmetrics-text; version=\"1.0.0\"";
        assert_eq!(negotiate_format(&[accept]), Format::OpenMetrics);
    }
}
