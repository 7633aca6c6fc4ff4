//! Control operations as values, so a manager that is not the leader can
//! send one to the leader (swarmkit's raft proxy of its control API) and
//! the leader can run it with [`ControlApi::execute`].
//!
//! Errors cross the wire as [`WireError`], which keeps each
//! [`ControlError`] variant, so the client gets the same status and words
//! as if its own manager had answered.

use rswarm_store::Object;
use rswarm_types::{
    ControlError, Network, NetworkSpec, Node, NodeSpec, Service, ServiceSpec, SwarmSpec,
};
use serde::{Deserialize, Serialize};

use super::{ControlApi, TokenRotation};

/// A write of the control API.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ControlOp {
    /// `service create`.
    CreateService(ServiceSpec),
    /// `service update` (or rollback to the previous spec).
    UpdateService {
        id: String,
        version: u64,
        spec: ServiceSpec,
        rollback: bool,
    },
    /// `service rm`.
    RemoveService { id: String },
    /// `node update` (and promote/demote).
    UpdateNode {
        id: String,
        version: u64,
        spec: NodeSpec,
    },
    /// `node rm`.
    RemoveNode { id: String, force: bool },
    /// A node joined (the CA issued its certificate).
    AddNode(Box<Node>),
    /// `network create`.
    CreateNetwork(NetworkSpec),
    /// `network rm`.
    RemoveNetwork { id: String },
    /// `swarm update` and token rotation.
    UpdateCluster {
        version: u64,
        spec: SwarmSpec,
        rotate_worker: bool,
        rotate_manager: bool,
    },
}

/// What a control write returns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ControlReply {
    /// The created service.
    Service(Box<Service>),
    /// The created network.
    Network(Box<Network>),
    /// Done; nothing to return.
    Done,
}

impl ControlApi {
    /// Runs `op` against this manager's store.
    pub async fn execute(&self, op: ControlOp) -> Result<ControlReply, ControlError> {
        match op {
            ControlOp::CreateService(spec) => self
                .create_service(spec)
                .await
                .map(|s| ControlReply::Service(Box::new(s))),
            ControlOp::UpdateService {
                id,
                version,
                spec,
                rollback,
            } => self
                .update_service(&id, version, spec, rollback)
                .await
                .map(|()| ControlReply::Done),
            ControlOp::RemoveService { id } => {
                self.remove_service(&id).await.map(|()| ControlReply::Done)
            }
            ControlOp::UpdateNode { id, version, spec } => self
                .update_node(&id, version, spec)
                .await
                .map(|()| ControlReply::Done),
            ControlOp::AddNode(node) => self
                .store
                .update(|tx| {
                    tx.create(Object::Node(*node))?;
                    Ok::<_, ControlError>(())
                })
                .await
                .map(|()| ControlReply::Done),
            ControlOp::CreateNetwork(spec) => self
                .create_network(spec)
                .await
                .map(|n| ControlReply::Network(Box::new(n))),
            ControlOp::RemoveNetwork { id } => {
                self.remove_network(&id).await.map(|()| ControlReply::Done)
            }
            ControlOp::RemoveNode { id, force } => self
                .remove_node(&id, force)
                .await
                .map(|()| ControlReply::Done),
            ControlOp::UpdateCluster {
                version,
                spec,
                rotate_worker,
                rotate_manager,
            } => {
                let rotation = TokenRotation {
                    worker: rotate_worker,
                    manager: rotate_manager,
                };
                self.update_cluster(version, spec, rotation)
                    .await
                    .map(|()| ControlReply::Done)
            }
        }
    }
}

/// A [`ControlError`] on the wire between managers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WireError {
    NotInSwarm,
    NotAManager,
    WorkerNotManager,
    AlreadyInSwarm,
    NotFound {
        kind: String,
        id: String,
    },
    Ambiguous {
        kind: String,
        id: String,
        matches: usize,
    },
    NameConflict {
        kind: String,
        name: String,
    },
    InvalidArgument(String),
    FailedPrecondition(String),
    OutOfSequence,
    NotImplemented(String),
    Unavailable(String),
    Internal(String),
}

/// Object kinds named in errors, as `'static` strings again.
fn kind(k: &str) -> &'static str {
    const KINDS: [&str; 7] = [
        "service", "node", "task", "network", "secret", "config", "cluster",
    ];
    KINDS.iter().find(|x| **x == k).copied().unwrap_or("object")
}

impl From<ControlError> for WireError {
    fn from(e: ControlError) -> Self {
        match e {
            ControlError::NotInSwarm => WireError::NotInSwarm,
            ControlError::NotAManager => WireError::NotAManager,
            ControlError::WorkerNotManager => WireError::WorkerNotManager,
            ControlError::AlreadyInSwarm => WireError::AlreadyInSwarm,
            ControlError::NotFound { kind, id } => WireError::NotFound {
                kind: kind.into(),
                id,
            },
            ControlError::Ambiguous { kind, id, matches } => WireError::Ambiguous {
                kind: kind.into(),
                id,
                matches,
            },
            ControlError::NameConflict { kind, name } => WireError::NameConflict {
                kind: kind.into(),
                name,
            },
            ControlError::InvalidArgument(m) => WireError::InvalidArgument(m),
            ControlError::FailedPrecondition(m) => WireError::FailedPrecondition(m),
            ControlError::OutOfSequence => WireError::OutOfSequence,
            ControlError::NotImplemented(m) => WireError::NotImplemented(m),
            ControlError::Unavailable(m) => WireError::Unavailable(m),
            ControlError::Internal(m) => WireError::Internal(m),
        }
    }
}

impl From<WireError> for ControlError {
    fn from(e: WireError) -> Self {
        match e {
            WireError::NotInSwarm => ControlError::NotInSwarm,
            WireError::NotAManager => ControlError::NotAManager,
            WireError::WorkerNotManager => ControlError::WorkerNotManager,
            WireError::AlreadyInSwarm => ControlError::AlreadyInSwarm,
            WireError::NotFound { kind: k, id } => ControlError::NotFound { kind: kind(&k), id },
            WireError::Ambiguous {
                kind: k,
                id,
                matches,
            } => ControlError::Ambiguous {
                kind: kind(&k),
                id,
                matches,
            },
            WireError::NameConflict { kind: k, name } => ControlError::NameConflict {
                kind: kind(&k),
                name,
            },
            WireError::InvalidArgument(m) => ControlError::InvalidArgument(m),
            WireError::FailedPrecondition(m) => ControlError::FailedPrecondition(m),
            WireError::OutOfSequence => ControlError::OutOfSequence,
            WireError::NotImplemented(m) => ControlError::NotImplemented(m),
            WireError::Unavailable(m) => ControlError::Unavailable(m),
            WireError::Internal(m) => ControlError::Internal(m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_crosses_the_wire_unchanged() {
        let errors = [
            ControlError::NotInSwarm,
            ControlError::NotAManager,
            ControlError::WorkerNotManager,
            ControlError::AlreadyInSwarm,
            ControlError::not_found("service", "web"),
            ControlError::Ambiguous {
                kind: "node",
                id: "a".into(),
                matches: 2,
            },
            ControlError::NameConflict {
                kind: "service",
                name: "web".into(),
            },
            ControlError::invalid("bad"),
            ControlError::FailedPrecondition("no".into()),
            ControlError::OutOfSequence,
            ControlError::NotImplemented("later".into()),
            ControlError::Unavailable("down".into()),
            ControlError::Internal("bug".into()),
        ];
        for e in errors {
            let json = serde_json::to_vec(&WireError::from(e.clone())).expect("json");
            let back: WireError = serde_json::from_slice(&json).expect("parse");
            assert_eq!(ControlError::from(back), e);
        }
    }

    #[test]
    fn ops_round_trip_as_json() {
        let op = ControlOp::UpdateService {
            id: "s1".into(),
            version: 7,
            spec: ServiceSpec {
                name: "web".into(),
                ..Default::default()
            },
            rollback: false,
        };
        let json = serde_json::to_vec(&op).expect("json");
        assert_eq!(
            serde_json::from_slice::<ControlOp>(&json).expect("parse"),
            op
        );
    }
}
