//! Errors of the control API, in Swarm's words. The Engine API maps each
//! variant to an HTTP status in one place.

use thiserror::Error;

/// A request-level error from the control API.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ControlError {
    /// Swarm endpoint on a node outside any swarm.
    #[error("This node is not part of a swarm")]
    NotInSwarm,
    /// Cluster-state endpoint on a node outside any swarm.
    #[error(
        "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again."
    )]
    NotAManager,
    /// Cluster-state endpoint on a worker.
    #[error(
        "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager."
    )]
    WorkerNotManager,
    /// init or join while already in a swarm.
    #[error(
        "This node is already part of a swarm. Use \"docker swarm leave\" to leave this swarm and join another one."
    )]
    AlreadyInSwarm,
    /// No object matched.
    #[error("{kind} {id} not found")]
    NotFound {
        /// `service`, `node`, `task`...
        kind: &'static str,
        /// What the user asked for.
        id: String,
    },
    /// A prefix matched several objects.
    #[error("{kind} {id} is ambiguous ({matches} matches found)")]
    Ambiguous {
        /// Object kind.
        kind: &'static str,
        /// What the user asked for.
        id: String,
        /// How many matched.
        matches: usize,
    },
    /// Another object already has this name.
    #[error("name conflicts with an existing object: {kind} {name} already exists")]
    NameConflict {
        /// Object kind.
        kind: &'static str,
        /// The conflicting name.
        name: String,
    },
    /// The request is malformed or names something invalid.
    #[error("{0}")]
    InvalidArgument(String),
    /// The request is valid but the cluster's state forbids it.
    #[error("{0}")]
    FailedPrecondition(String),
    /// The `version` given is not the object's current version.
    #[error("update out of sequence")]
    OutOfSequence,
    /// rswarm does not do this (yet).
    #[error("{0}")]
    NotImplemented(String),
    /// The cluster cannot serve the request right now.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an I/O failure.
    #[error("{0}")]
    Internal(String),
}

impl ControlError {
    /// Shorthand for [`ControlError::InvalidArgument`].
    pub fn invalid(msg: impl Into<String>) -> Self {
        ControlError::InvalidArgument(msg.into())
    }

    /// Shorthand for [`ControlError::NotFound`].
    pub fn not_found(kind: &'static str, id: impl Into<String>) -> Self {
        ControlError::NotFound {
            kind,
            id: id.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_match_docker() {
        assert_eq!(
            ControlError::not_found("service", "web").to_string(),
            "service web not found"
        );
        assert_eq!(
            ControlError::NameConflict {
                kind: "service",
                name: "web".into()
            }
            .to_string(),
            "name conflicts with an existing object: service web already exists"
        );
        assert_eq!(
            ControlError::Ambiguous {
                kind: "node",
                id: "a".into(),
                matches: 2
            }
            .to_string(),
            "node a is ambiguous (2 matches found)"
        );
    }
}
