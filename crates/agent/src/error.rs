//! Agent errors.

use thiserror::Error;

/// Why a session with the dispatcher failed.
#[derive(Debug, Error)]
pub enum AgentError {
    /// The managers could not be reached or refused the request.
    #[error("dispatcher unavailable: {0}")]
    Unavailable(String),
    /// The managers rejected this node (e.g. removed from the swarm).
    #[error("node rejected by the swarm: {0}")]
    Rejected(String),
}
