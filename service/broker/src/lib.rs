//! `gds-prometheus-broker`: the Open Service Broker for the Prometheus service, and the
//! target updater that keeps every bound app's target file true. Both keep all their
//! state in a `gds_metrics::targets` store (a directory or S3).

pub mod broker;
pub mod cc;
pub mod config;
pub mod metrics;
pub mod osb;
pub mod store_lock;
pub mod updater;

/// `text` with every GUID-shaped word (`8-4-4-4-12` hexadecimal digits, either case)
/// replaced by `<guid>`, for log lines: an app's GUID is its bearer token, and error
/// descriptions can name one (a store path, a Cloud Controller URL, a rejected request).
pub fn redact_guids(text: &str) -> String {
    const GUID_LENGTH: usize = 36;
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while at < bytes.len() {
        let word_start = at == 0 || !bytes[at - 1].is_ascii_hexdigit();
        let candidate = bytes.get(at..at + GUID_LENGTH);
        let word_end = bytes
            .get(at + GUID_LENGTH)
            .is_none_or(|b| !b.is_ascii_hexdigit() && *b != b'-');
        if word_start && word_end && candidate.is_some_and(is_guid) {
            out.push_str("<guid>");
            at += GUID_LENGTH;
        } else {
            let next = text[at..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&text[at..at + next]);
            at += next;
        }
    }
    out
}

fn is_guid(candidate: &[u8]) -> bool {
    candidate.iter().enumerate().all(|(i, b)| match i {
        8 | 13 | 18 | 23 => *b == b'-',
        _ => b.is_ascii_hexdigit(),
    })
}

/// Parses a period such as `5m`, `30s`, `1h` or `300` (seconds).
pub fn parse_period(text: &str) -> Result<std::time::Duration, String> {
    let (number, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => text.split_at(at),
        None => (text, "s"),
    };
    let seconds_per_unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => 0,
    };
    match number.parse::<u64>() {
        Ok(n) if n > 0 && seconds_per_unit > 0 => Ok(std::time::Duration::from_secs(n * seconds_per_unit)),
        _ => Err(format!(
            "`{text}` is not a period; give a whole number of seconds, minutes or hours such as `30s`, `5m` or `1h`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn guids_are_redacted_wherever_they_appear() {
        let guid = "6f1e3c2a-9b4d-4e8f-a1b2-c3d4e5f6a7b8";
        assert_eq!(
            redact_guids(&format!("cannot write `/srv/active/{guid}.json`: denied")),
            "cannot write `/srv/active/<guid>.json`: denied"
        );
        assert_eq!(
            redact_guids(&format!("{} and {guid}", guid.to_uppercase())),
            "<guid> and <guid>"
        );
        assert_eq!(
            redact_guids("app `notify-api` — no route"),
            "app `notify-api` — no route"
        );
        // Longer hexadecimal runs are not GUIDs.
        let longer = format!("a{guid}");
        assert_eq!(redact_guids(&longer), longer);
    }

    #[test]
    fn periods_read_seconds_minutes_and_hours() {
        assert_eq!(parse_period("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_period("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_period("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_period("1h"), Ok(Duration::from_secs(3600)));
        for bad in ["", "0s", "5d", "m", "-1"] {
            assert!(parse_period(bad).is_err(), "{bad}");
        }
    }
}
