//! Daemon start-up errors.

use thiserror::Error;

/// Why the daemon could not start.
#[derive(Debug, Error)]
pub enum DaemonError {
    /// A `-H` value is not `unix://` or `tcp://`.
    #[error("invalid --host '{0}': expected unix:///path/to.sock or tcp://host:port")]
    BadHost(String),
    /// The requested runtime is not available.
    #[error("{0}")]
    Runtime(String),
    /// Existing swarm state could not be loaded.
    #[error("cannot load swarm state from {path}: {reason}")]
    State {
        /// The directory.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// I/O.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}
