//! The server's CPU seconds as last reported, kept in the directory so that every process
//! answering a scrape reports a total that never goes backwards.
//!
//! The server's CPU is read from `/proc` at each scrape: the master's own, its reaped
//! children's and each live worker's. A worker that has died but that the master has not
//! reaped yet is in neither sum (its file is no longer live, its CPU not yet in the
//! master's children time), so the raw sum dips for that moment and comes back once the
//! master reaps it. The mark holds the counter where it was through such a dip.
//!
//! One line, `<master pid> <master start time> <seconds>`, read and rewritten under an
//! exclusive `flock`. A mark of another server run (a configured directory outlives its
//! server) is replaced: a new run starts its counter afresh, which Prometheus reads as a
//! reset.

use crate::liveness;
use std::fs::OpenOptions;
use std::io::{self, Read, Seek, Write};
use std::path::Path;

/// The file's name in the directory.
pub(crate) const FILE: &str = "process-cpu.mark";

/// One run of a server: its master's pid and start time (a pid alone may be reused).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ServerRun {
    /// The master's pid.
    pub(crate) master_pid: u32,
    /// The master's start time, in seconds since the Unix epoch.
    pub(crate) started: f64,
}

/// `seconds`, or the mark `dir` holds for `run` when that is higher; the result becomes
/// the mark.
pub(crate) fn raise(dir: &Path, run: ServerRun, seconds: f64) -> io::Result<f64> {
    let mut file = liveness::open_regular(
        &dir.join(FILE),
        OpenOptions::new().read(true).write(true).create(true),
    )?;
    liveness::lock(&file)?;
    let mut text = String::new();
    file.read_to_string(&mut text)?;
    let highest = match parse(&text) {
        Some((marked_run, mark)) if marked_run == run && mark > seconds => return Ok(mark),
        _ => seconds,
    };
    file.rewind()?;
    file.set_len(0)?;
    writeln!(file, "{} {} {highest}", run.master_pid, run.started)?;
    Ok(highest)
}

fn parse(text: &str) -> Option<(ServerRun, f64)> {
    let mut fields = text.split_whitespace();
    let run = ServerRun {
        master_pid: fields.next()?.parse().ok()?,
        started: fields.next()?.parse().ok()?,
    };
    Some((run, fields.next()?.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("gds-metrics-mark-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    const RUN: ServerRun = ServerRun {
        master_pid: 42,
        started: 1_700_000_000.25,
    };

    #[test]
    fn a_lower_reading_of_the_same_run_reports_the_mark() {
        let dir = dir("same-run");
        assert_eq!(raise(&dir, RUN, 10.5).unwrap(), 10.5);
        assert_eq!(raise(&dir, RUN, 9.0).unwrap(), 10.5);
        assert_eq!(raise(&dir, RUN, 12.0).unwrap(), 12.0);
        assert_eq!(raise(&dir, RUN, 11.0).unwrap(), 12.0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn another_run_of_the_server_starts_afresh() {
        let dir = dir("new-run");
        assert_eq!(raise(&dir, RUN, 100.0).unwrap(), 100.0);
        let restarted = ServerRun {
            started: RUN.started + 60.0,
            ..RUN
        };
        assert_eq!(raise(&dir, restarted, 0.5).unwrap(), 0.5);
        assert_eq!(raise(&dir, restarted, 0.25).unwrap(), 0.5);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_unreadable_mark_is_replaced() {
        let dir = dir("garbage");
        std::fs::write(dir.join(FILE), "not a mark").unwrap();
        assert_eq!(raise(&dir, RUN, 3.0).unwrap(), 3.0);
        assert_eq!(raise(&dir, RUN, 2.0).unwrap(), 3.0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
