//! The server side of Raft between managers: the `rswarm.raft.Raft` gRPC
//! service. Every call is authorized first (manager certificate of this
//! cluster), then handed to openraft; answers carry openraft's result,
//! errors included, as JSON.

use openraft::raft::{AppendEntriesRequest, InstallSnapshotRequest, VoteRequest};
use rswarm_proto::raft::raft_server::Raft as RaftRpc;
use rswarm_proto::raft::{JoinRequest, JoinResponse, RaftMessage};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tonic::metadata::MetadataValue;
use tonic::{Request, Response, Status};

use crate::auth::authorize_manager;
use crate::error::RaftNodeError;
use crate::node::RaftNode;
use crate::types::{TypeConfig, raft_id};

/// The metadata key naming the leader's address when a `Join` reaches a
/// manager that is not the leader.
pub const LEADER_ADDR_KEY: &str = "rswarm-raft-leader";

/// The Raft gRPC service of one manager; mount [`RaftNode::service`].
#[derive(Clone, Debug)]
pub struct RaftService {
    node: RaftNode,
}

impl RaftService {
    pub(crate) fn new(node: RaftNode) -> RaftService {
        RaftService { node }
    }

    /// Authorizes the caller, records the contact and decodes the payload.
    fn accept<T: DeserializeOwned>(&self, request: Request<RaftMessage>) -> Result<T, Status> {
        let peer = authorize_manager(self.node.cluster_id(), &request)?;
        self.node.inner.contacts.heard(raft_id(&peer.node_id));
        serde_json::from_slice(&request.into_inner().payload)
            .map_err(|e| Status::invalid_argument(format!("bad raft message: {e}")))
    }
}

fn reply<T: Serialize>(result: &T) -> Result<Response<RaftMessage>, Status> {
    let payload = serde_json::to_vec(result).map_err(|e| Status::internal(e.to_string()))?;
    Ok(Response::new(RaftMessage { payload }))
}

#[tonic::async_trait]
impl RaftRpc for RaftService {
    async fn append_entries(
        &self,
        request: Request<RaftMessage>,
    ) -> Result<Response<RaftMessage>, Status> {
        let rpc: AppendEntriesRequest<TypeConfig> = self.accept(request)?;
        reply(&self.node.raft().append_entries(rpc).await)
    }

    async fn vote(&self, request: Request<RaftMessage>) -> Result<Response<RaftMessage>, Status> {
        let rpc: VoteRequest<u64> = self.accept(request)?;
        reply(&self.node.raft().vote(rpc).await)
    }

    async fn install_snapshot(
        &self,
        request: Request<RaftMessage>,
    ) -> Result<Response<RaftMessage>, Status> {
        let rpc: InstallSnapshotRequest<TypeConfig> = self.accept(request)?;
        reply(&self.node.raft().install_snapshot(rpc).await)
    }

    async fn join(&self, request: Request<JoinRequest>) -> Result<Response<JoinResponse>, Status> {
        let peer = authorize_manager(self.node.cluster_id(), &request)?;
        let addr = request.into_inner().addr;
        if addr.is_empty() {
            return Err(Status::invalid_argument("join: the address is empty"));
        }
        match self.node.add_voter(&peer.node_id, &addr).await {
            Ok(()) => Ok(Response::new(JoinResponse {})),
            Err(RaftNodeError::NotLeader {
                leader_id,
                leader_addr,
            }) => {
                let v = MetadataValue::try_from(leader_addr.as_str());
                let e = RaftNodeError::NotLeader {
                    leader_id,
                    leader_addr,
                };
                let mut status = Status::failed_precondition(e.to_string());
                if let Ok(v) = v {
                    status.metadata_mut().insert(LEADER_ADDR_KEY, v);
                }
                Err(status)
            }
            Err(e @ (RaftNodeError::NoLeader | RaftNodeError::Stopped)) => {
                Err(Status::unavailable(e.to_string()))
            }
            Err(e) => Err(Status::failed_precondition(e.to_string())),
        }
    }
}
