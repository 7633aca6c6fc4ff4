//! Store errors.

use rswarm_types::ControlError;
use thiserror::Error;

/// Swarm's message when a write cannot reach a quorum of managers.
pub const NO_LEADER: &str = "The swarm does not have a leader. It's possible that too few managers are online. Make sure more than half of the managers are online.";

/// Why a transaction failed.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum StoreError {
    /// Creating an object whose ID exists.
    #[error("{kind} {id} already exists")]
    Exists {
        /// Object kind.
        kind: &'static str,
        /// Its ID.
        id: String,
    },
    /// Another object of the kind has the same name.
    #[error("name conflicts with an existing object: {kind} {name} already exists")]
    NameConflict {
        /// Object kind.
        kind: &'static str,
        /// The name.
        name: String,
    },
    /// Updating or deleting an object that does not exist.
    #[error("{kind} {id} not found")]
    NotFound {
        /// Object kind.
        kind: &'static str,
        /// Its ID.
        id: String,
    },
    /// The object changed since it was read.
    #[error("update out of sequence")]
    SequenceConflict,
    /// The proposer could not make the commit durable.
    #[error("store commit failed: {0}")]
    Propose(String),
    /// A replicated write could not reach a quorum of managers (no leader,
    /// or this leader lost its majority).
    #[error("{}", NO_LEADER)]
    NoLeader,
    /// A replicated write was made on a manager that is not the leader;
    /// the caller should forward it to the leader.
    #[error("this manager is not the leader; the leader is {leader_id} at {leader_addr}")]
    NotLeader {
        /// The leader's swarm node ID.
        leader_id: String,
        /// The leader's swarm address (`host:port`).
        leader_addr: String,
    },
}

impl From<StoreError> for ControlError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Exists { .. } => ControlError::Internal(e.to_string()),
            StoreError::NameConflict { kind, name } => ControlError::NameConflict { kind, name },
            StoreError::NotFound { kind, id } => ControlError::NotFound { kind, id },
            StoreError::SequenceConflict => ControlError::OutOfSequence,
            StoreError::Propose(m) => ControlError::Unavailable(m),
            StoreError::NoLeader | StoreError::NotLeader { .. } => {
                ControlError::Unavailable(e.to_string())
            }
        }
    }
}
