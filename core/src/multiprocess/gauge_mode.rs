//! How the values of one gauge in several processes combine into one scrape.

use std::fmt;
use std::str::FromStr;

/// How a gauge's per-process values are combined in multi-process mode (CONTRACT
/// section 6). The `Live` variants leave out processes that have exited; the others keep
/// the last values of exited processes. Spelled as in `prometheus_client`
/// (`"livesum"`, `"mostrecent"`, ...). Counters, histograms and summaries are always summed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum GaugeMode {
    /// One series per process, with a `pid` label (the `prometheus_client` default).
    #[default]
    All,
    /// The sum over processes.
    Sum,
    /// The smallest value of any process.
    Min,
    /// The largest value of any process.
    Max,
    /// The value written last, by whichever process.
    MostRecent,
    /// As [`GaugeMode::All`], live processes only.
    LiveAll,
    /// As [`GaugeMode::Sum`], live processes only.
    LiveSum,
    /// As [`GaugeMode::Min`], live processes only.
    LiveMin,
    /// As [`GaugeMode::Max`], live processes only.
    LiveMax,
    /// As [`GaugeMode::MostRecent`], live processes only.
    LiveMostRecent,
}

const SPELLINGS: [(GaugeMode, &str); 10] = [
    (GaugeMode::All, "all"),
    (GaugeMode::Sum, "sum"),
    (GaugeMode::Min, "min"),
    (GaugeMode::Max, "max"),
    (GaugeMode::MostRecent, "mostrecent"),
    (GaugeMode::LiveAll, "liveall"),
    (GaugeMode::LiveSum, "livesum"),
    (GaugeMode::LiveMin, "livemin"),
    (GaugeMode::LiveMax, "livemax"),
    (GaugeMode::LiveMostRecent, "livemostrecent"),
];

impl GaugeMode {
    /// Whether exited processes are left out.
    pub fn live_only(self) -> bool {
        matches!(
            self,
            GaugeMode::LiveAll
                | GaugeMode::LiveSum
                | GaugeMode::LiveMin
                | GaugeMode::LiveMax
                | GaugeMode::LiveMostRecent
        )
    }

    /// Whether each process keeps its own series, labelled with its `pid`.
    pub fn per_process(self) -> bool {
        matches!(self, GaugeMode::All | GaugeMode::LiveAll)
    }

    /// Whether writes must record when they happened.
    pub(crate) fn stamps_time(self) -> bool {
        matches!(self, GaugeMode::MostRecent | GaugeMode::LiveMostRecent)
    }

    /// The `prometheus_client` spelling.
    pub fn as_str(self) -> &'static str {
        SPELLINGS
            .iter()
            .find(|(m, _)| *m == self)
            .map_or("all", |(_, s)| s)
    }

    pub(crate) fn code(self) -> u8 {
        SPELLINGS.iter().position(|(m, _)| *m == self).unwrap_or(0) as u8
    }

    pub(crate) fn from_code(code: u8) -> Option<Self> {
        SPELLINGS.get(code as usize).map(|(m, _)| *m)
    }
}

impl fmt::Display for GaugeMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A gauge mode name that is not one of the `prometheus_client` spellings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown multi-process gauge mode `{0}`; use one of all, sum, min, max, mostrecent, liveall, livesum, livemin, livemax, livemostrecent")]
pub struct UnknownGaugeMode(pub String);

impl UnknownGaugeMode {
    /// Always [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument).
    pub fn kind(&self) -> crate::ErrorKind {
        crate::ErrorKind::InvalidArgument
    }
}

impl FromStr for GaugeMode {
    type Err = UnknownGaugeMode;

    /// Parses a `prometheus_client` spelling, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SPELLINGS
            .iter()
            .find(|(_, name)| name.eq_ignore_ascii_case(s))
            .map(|(m, _)| *m)
            .ok_or_else(|| UnknownGaugeMode(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_client_spellings_parse() {
        assert_eq!("livesum".parse::<GaugeMode>().unwrap(), GaugeMode::LiveSum);
        assert_eq!("mostrecent".parse::<GaugeMode>().unwrap(), GaugeMode::MostRecent);
        assert_eq!("LiveAll".parse::<GaugeMode>().unwrap(), GaugeMode::LiveAll);
        assert_eq!(
            "average".parse::<GaugeMode>().unwrap_err().to_string(),
            "unknown multi-process gauge mode `average`; use one of all, sum, min, max, mostrecent, \
             liveall, livesum, livemin, livemax, livemostrecent"
        );
    }

    #[test]
    fn codes_round_trip() {
        for (mode, name) in SPELLINGS {
            assert_eq!(GaugeMode::from_code(mode.code()), Some(mode));
            assert_eq!(mode.to_string(), name);
        }
    }
}
