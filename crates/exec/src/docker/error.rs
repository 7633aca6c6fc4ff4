//! Engine errors: their status codes and their wording in [`ExecError`].

use bollard::errors::Error;

use crate::ExecError;

/// The HTTP status the engine answered with, if it answered.
pub(crate) fn status(e: &Error) -> Option<u16> {
    match e {
        Error::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

/// The engine does not know the object (404).
pub(crate) fn is_not_found(e: &Error) -> bool {
    status(e) == Some(404)
}

/// The engine refused because of a conflict (409: a name in use, a removal
/// already in progress).
pub(crate) fn is_conflict(e: &Error) -> bool {
    status(e) == Some(409)
}

/// What went wrong, in the engine's words when it answered.
pub(crate) fn describe(e: &Error) -> String {
    match e {
        Error::DockerResponseServerError { message, .. } if !message.is_empty() => message.clone(),
        other => other.to_string(),
    }
}

/// An [`ExecError::Engine`] saying what was being done.
pub(crate) fn engine(context: &str, e: &Error) -> ExecError {
    ExecError::Engine(format!("{context}: {}", describe(e)))
}
