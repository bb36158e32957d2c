//! `GDS::Metrics::Native::ServerDirectory`: the core's one rule for the directory the
//! processes of a pre-fork server (puma cluster mode) share, and its lifecycle.

use crate::error::raise;
use gds_metrics::{ServerDirectory, EXPORTED_VARIABLE};
use magnus::{function, method, prelude::*, Error, RModule, Ruby};

/// The directory of one server's processes.
#[magnus::wrap(class = "GDS::Metrics::Native::ServerDirectory", free_immediately, size)]
pub(crate) struct NativeServerDirectory(ServerDirectory);

impl NativeServerDirectory {
    /// The directory for the server whose master is `master_pid`: the configured one, or a
    /// private one for this run. Called in the master, the core opens it there and holds
    /// the master's live file until `finish`. A directory that cannot be used is a ConfigurationError
    /// naming the variable.
    fn for_server(master_pid: u32) -> Result<Self, Error> {
        ServerDirectory::for_server(master_pid).map(Self).map_err(raise)
    }

    fn dir(&self) -> String {
        self.0.dir().to_string_lossy().into_owned()
    }

    fn is_private(&self) -> bool {
        self.0.is_private()
    }

    /// In the master: lets go of the store it held open and removes a private directory;
    /// nothing in a worker.
    fn finish(&self) {
        self.0.finish();
    }
}

/// Defines the class and `ServerDirectory::EXPORTED_VARIABLE` under `native`.
pub(crate) fn define(ruby: &Ruby, native: RModule) -> Result<(), Error> {
    let class = native.define_class("ServerDirectory", ruby.class_object())?;
    class.define_singleton_method("for_server", function!(NativeServerDirectory::for_server, 1))?;
    class.define_method("dir", method!(NativeServerDirectory::dir, 0))?;
    class.define_method("private?", method!(NativeServerDirectory::is_private, 0))?;
    class.define_method("finish", method!(NativeServerDirectory::finish, 0))?;
    class.const_set("EXPORTED_VARIABLE", EXPORTED_VARIABLE)?;
    Ok(())
}
