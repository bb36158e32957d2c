//! What the exporter's test binaries share: the exporter binary as a child process on
//! loopback, ready once it has printed the address it listens on.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// The exporter process, killed when the test ends however it ends.
pub(crate) struct Exporter {
    pub(crate) child: Child,
    pub(crate) addr: String,
}

impl Exporter {
    /// The exporter binary without the settings of the environment that would change what a
    /// test sees (auth, the metrics path); the caller adds its own.
    pub(crate) fn command() -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_upload-exporter"));
        command
            .env_remove("VCAP_APPLICATION")
            .env_remove("METRICS_BASIC_AUTH")
            .env_remove("PROMETHEUS_METRICS_PATH");
        command
    }

    /// Starts `command` and waits until the exporter listens: it prints its address then.
    pub(crate) fn start(command: &mut Command) -> Exporter {
        let mut child = command
            .stdout(Stdio::piped())
            .spawn()
            .expect("the exporter starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("no address in `{line}`"))
            .to_owned();
        Exporter { child, addr }
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
