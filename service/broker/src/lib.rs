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
