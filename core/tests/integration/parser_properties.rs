//! Property tests for the three parsers that read what a client or the platform sends:
//! `Accept` / `Accept-Encoding`, `Authorization`, and `VCAP_APPLICATION`.
//!
//! `make test` runs the default 256 cases per property; a longer run is
//! `PROPTEST_CASES=100000 cargo test -p gds-metrics --test integration parser_properties::`.
//! The fuzz targets in `core/fuzz/` cover the same entry points with coverage guidance.

use gds_metrics::auth::{authorize, bearer_token, AuthDecision};
use gds_metrics::config::parse_vcap_application;
use gds_metrics::negotiate::{accepts_gzip, negotiate_format};
use gds_metrics::Format;
use proptest::prelude::*;

/// A media range the generator builds, with what the model says about it.
#[derive(Debug, Clone)]
struct Range {
    media: &'static str,
    version: Option<&'static str>,
    q: u16,
}

impl Range {
    fn render(&self) -> String {
        let mut out = self.media.to_owned();
        if let Some(version) = self.version {
            out.push_str(";version=");
            out.push_str(version);
        }
        out.push_str(&format!(";q={}", f64::from(self.q) / 1000.0));
        out
    }

    /// The format and specificity this range offers, per the documented rules.
    fn offer(&self) -> Option<(Format, u8)> {
        if self.q == 0 {
            return None;
        }
        match (self.media, self.version) {
            ("*/*", _) => Some((Format::Text, 0)),
            ("text/*", _) => Some((Format::Text, 1)),
            ("text/plain", None | Some("0.0.4")) => Some((Format::Text, 2)),
            ("text/plain", Some("1.0.0")) => Some((Format::TextV1, 2)),
            ("application/openmetrics-text", None | Some("1.0.0")) => Some((Format::OpenMetrics, 2)),
            _ => None,
        }
    }
}

fn range() -> impl Strategy<Value = Range> {
    let media = prop::sample::select(vec![
        "*/*",
        "text/*",
        "text/plain",
        "application/openmetrics-text",
        "application/json",
        "application/vnd.google.protobuf",
    ]);
    let version = prop::option::of(prop::sample::select(vec!["0.0.4", "1.0.0", "0.0.1", "2"]));
    (media, version, 0u16..=1000).prop_map(|(media, version, q)| Range { media, version, q })
}

/// The reference model: highest q, then most specific, then earliest; text by default.
fn model(ranges: &[Range]) -> Format {
    let mut best: Option<((u16, u8), usize, Format)> = None;
    for (index, range) in ranges.iter().enumerate() {
        if let Some((format, specificity)) = range.offer() {
            let rank = (range.q, specificity);
            if best.is_none_or(|(best_rank, _, _)| rank > best_rank) {
                best = Some((rank, index, format));
            }
        }
    }
    best.map_or(Format::Text, |(_, _, format)| format)
}

fn blank() -> impl Strategy<Value = String> {
    "[ \t]{1,3}"
}

proptest! {
    #[test]
    fn accept_parser_never_panics(value in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = negotiate_format(&[&value]);
        let _ = accepts_gzip(&[&value]);
    }

    #[test]
    fn accept_header_is_ranked_like_the_model(ranges in prop::collection::vec(range(), 0..8)) {
        let header = ranges.iter().map(Range::render).collect::<Vec<_>>().join(", ");
        prop_assert_eq!(negotiate_format(&[header.as_bytes()]), model(&ranges), "{}", header);
    }

    #[test]
    fn splitting_accept_over_several_headers_changes_nothing(ranges in prop::collection::vec(range(), 1..6)) {
        let joined = ranges.iter().map(Range::render).collect::<Vec<_>>().join(",");
        let parts: Vec<String> = ranges.iter().map(Range::render).collect();
        let parts: Vec<&[u8]> = parts.iter().map(|p| p.as_bytes()).collect();
        prop_assert_eq!(negotiate_format(&parts), negotiate_format(&[joined.as_bytes()]));
    }

    #[test]
    fn openmetrics_is_only_chosen_when_asked_for(value in "[a-z/*;=,. 0-9]{0,64}") {
        if negotiate_format(&[value.as_bytes()]) == Format::OpenMetrics {
            prop_assert!(value.contains("application/openmetrics-text"));
        }
    }

    #[test]
    fn gzip_follows_its_q_value(q in 0u16..=1000, others in prop::collection::vec("(deflate|br|identity)(;q=0\\.[0-9])?", 0..3)) {
        let mut codings = others.clone();
        codings.push(format!("gzip;q={}", f64::from(q) / 1000.0));
        let header = codings.join(", ");
        prop_assert_eq!(accepts_gzip(&[header.as_bytes()]), q > 0, "{}", header);
    }

    #[test]
    fn authorization_parser_never_panics(values in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..256), 0..3)) {
        let values: Vec<&[u8]> = values.iter().map(Vec::as_slice).collect();
        for value in &values {
            let _ = bearer_token(value);
        }
        let decision = authorize(Some("6b0b3c4e"), &values);
        prop_assert_eq!(decision == AuthDecision::MissingCredentials, values.is_empty());
    }

    #[test]
    fn well_formed_bearer_credentials_yield_their_token(
        token in "[!-~]{1,64}",
        before in "[ \t]{0,3}",
        between in blank(),
        after in "[ \t]{0,3}",
        upper in prop::collection::vec(any::<bool>(), 6),
    ) {
        let scheme: String = "bearer".chars().zip(&upper).map(|(c, up)| if *up { c.to_ascii_uppercase() } else { c }).collect();
        let header = format!("{before}{scheme}{between}{token}{after}");
        prop_assert_eq!(bearer_token(header.as_bytes()), Some(token.as_bytes()));
        prop_assert_eq!(authorize(Some(&token), &[header.as_bytes()]), AuthDecision::Allow);
    }

    #[test]
    fn only_the_exact_token_is_allowed(expected in "[!-~]{1,40}", given in "[!-~]{1,40}") {
        let header = format!("Bearer {given}");
        let decision = authorize(Some(&expected), &[header.as_bytes()]);
        prop_assert_eq!(decision == AuthDecision::Allow, given == expected);
    }

    #[test]
    fn vcap_parser_never_panics(raw in ".{0,256}") {
        let _ = parse_vcap_application(&raw);
    }

    #[test]
    fn vcap_objects_yield_their_application_id(id in "[!-~]{1,64}", name in "[a-z-]{1,20}", index in 0u32..100) {
        let raw = serde_json::json!({"application_id": id, "application_name": name, "instance_index": index}).to_string();
        prop_assert_eq!(parse_vcap_application(&raw), Ok(id));
    }

    #[test]
    fn vcap_errors_never_echo_the_application_id(id in "[a-zA-Z0-9]{12,40}", cut in 1usize..30) {
        let bad_id = format!("{id} {id}");
        let with_space = serde_json::json!({"application_id": bad_id}).to_string();
        let truncated = &with_space[..with_space.len().saturating_sub(cut).max(1)];
        for raw in [with_space.as_str(), truncated] {
            let message = parse_vcap_application(raw).unwrap_err().to_string();
            prop_assert!(!message.contains(&id), "{}", message);
        }
    }
}
