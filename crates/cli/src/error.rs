//! The one error type of the CLI and how it is shown to the user.

/// Everything that can make a command fail.
///
/// `Display` is exactly what the docker CLI prints on stderr for the same
/// failure; [`crate::run`] prints it and exits 1.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The daemon could not be reached at all.
    #[error(
        "Cannot connect to the rswarm daemon at {host}: {reason}. Is the rswarm daemon running?"
    )]
    Connect {
        /// The `-H` URL.
        host: String,
        /// The underlying I/O or HTTP error.
        reason: String,
    },
    /// The daemon answered with an error status.
    #[error("Error response from daemon: {message}")]
    Daemon {
        /// HTTP status code (404 drives fallbacks such as `service logs`).
        status: u16,
        /// The `message` of the error body.
        message: String,
    },
    /// A failure detected by the CLI itself, printed verbatim.
    #[error("{0}")]
    Msg(String),
    /// A malformed or unexpected response.
    #[error("error decoding response: {0}")]
    Decode(String),
    /// Writing to stdout/stderr failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl CliError {
    /// A CLI-side error with a message.
    pub fn msg(s: impl Into<String>) -> CliError {
        CliError::Msg(s.into())
    }

    /// True for a daemon 404.
    pub fn is_not_found(&self) -> bool {
        matches!(self, CliError::Daemon { status: 404, .. })
    }

    /// Several errors printed one per line, as Go's `errors.Join`.
    pub fn join(errs: Vec<CliError>) -> Result<(), CliError> {
        if errs.is_empty() {
            return Ok(());
        }
        let lines: Vec<String> = errs.iter().map(ToString::to_string).collect();
        Err(CliError::Msg(lines.join("\n")))
    }
}

/// Result alias for the crate.
pub type Result<T, E = CliError> = std::result::Result<T, E>;
