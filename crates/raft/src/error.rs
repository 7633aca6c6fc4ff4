//! Errors of the Raft node's API.

use rswarm_store::{NO_LEADER, StoreError};
use thiserror::Error;

/// Swarm's refusal when removing a manager would lose quorum.
pub const WOULD_LOSE_QUORUM: &str =
    "can't remove member from the raft: this would result in a loss of quorum";

/// Why a Raft node operation failed.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum RaftNodeError {
    /// The timing settings are inconsistent.
    #[error("invalid raft configuration: {0}")]
    Config(String),
    /// The raft directory or database could not be used.
    #[error("raft storage: {0}")]
    Storage(String),
    /// No leader can be reached (quorum lost, election in progress).
    #[error("{}", NO_LEADER)]
    NoLeader,
    /// The operation must run on the leader.
    #[error("this manager is not the leader; the leader is {leader_id} at {leader_addr}")]
    NotLeader {
        /// The leader's swarm node ID.
        leader_id: String,
        /// The leader's address.
        leader_addr: String,
    },
    /// Removing the member would leave fewer reachable voters than a
    /// quorum of the remaining ones.
    #[error("{}", WOULD_LOSE_QUORUM)]
    WouldLoseQuorum,
    /// The member is the last voter.
    #[error("can't remove the last manager of the swarm")]
    LastManager,
    /// No such member.
    #[error("node {0} is not a member of the raft cluster")]
    NotMember(String),
    /// Openraft refused or failed the operation.
    #[error("raft: {0}")]
    Raft(String),
    /// A remote manager refused or could not be reached.
    #[error("raft join via {addr}: {reason}")]
    Join {
        /// The manager contacted.
        addr: String,
        /// What went wrong.
        reason: String,
    },
    /// The node has been shut down.
    #[error("the raft node is stopped")]
    Stopped,
}

impl From<RaftNodeError> for StoreError {
    fn from(e: RaftNodeError) -> Self {
        match e {
            RaftNodeError::NoLeader => StoreError::NoLeader,
            RaftNodeError::NotLeader {
                leader_id,
                leader_addr,
            } => StoreError::NotLeader {
                leader_id,
                leader_addr,
            },
            other => StoreError::Propose(other.to_string()),
        }
    }
}

/// Openraft's storage error from anything displayable.
pub(crate) fn storage_err(e: impl std::fmt::Display) -> openraft::StorageError<u64> {
    openraft::StorageIOError::<u64>::write(openraft::AnyError::error(e)).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leader_errors_map_to_the_store_ones() {
        assert_eq!(
            StoreError::from(RaftNodeError::NoLeader),
            StoreError::NoLeader
        );
        assert_eq!(RaftNodeError::NoLeader.to_string(), NO_LEADER);
        assert!(matches!(
            StoreError::from(RaftNodeError::Stopped),
            StoreError::Propose(m) if m.contains("stopped")
        ));
    }
}
