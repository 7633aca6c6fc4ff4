//! Changing who the managers are: initialize (swarm init), join (a new
//! manager asks the leader), add as learner then voter (promote), remove
//! (demote, leave, `node rm`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use openraft::ChangeMembers;
use openraft::error::{ClientWriteError, InitializeError, RaftError};
use rswarm_proto::raft::JoinRequest;
use tonic::Code;

use crate::error::RaftNodeError;
use crate::node::RaftNode;
use crate::service::LEADER_ADDR_KEY;
use crate::types::{Peer, raft_id};

/// How long a `Join` may take: the leader answers once the new manager
/// has caught up (possibly through a large snapshot).
const JOIN_TIMEOUT: Duration = Duration::from_secs(600);

/// Redirects followed by [`RaftNode::join`] (to the leader).
const JOIN_HOPS: usize = 3;

impl RaftNode {
    fn write_error(&self, e: RaftError<u64, ClientWriteError<u64, Peer>>) -> RaftNodeError {
        match e {
            RaftError::APIError(ClientWriteError::ForwardToLeader(f)) => self.forward_error(&f),
            RaftError::APIError(e) => RaftNodeError::Raft(e.to_string()),
            RaftError::Fatal(_) => RaftNodeError::Stopped,
        }
    }

    /// Makes this node a one-manager cluster (swarm init) and waits until
    /// it leads. Does nothing to a node that already has a cluster.
    pub async fn initialize(&self) -> Result<(), RaftNodeError> {
        let me = self.me().clone();
        let members = BTreeMap::from([(me.raft_id(), me)]);
        match self.raft().initialize(members).await {
            Ok(()) | Err(RaftError::APIError(InitializeError::NotAllowed(_))) => {}
            Err(e) => return Err(RaftNodeError::Raft(e.to_string())),
        }
        let within = self.inner.timing.election_timeout_max * 4;
        self.wait_leadership(within, |l| l.leader.is_some()).await?;
        Ok(())
    }

    /// Asks the cluster, through the manager at `addr` (any manager: a
    /// follower redirects to the leader), to add this node as a voter.
    /// This node must be open and its service reachable at its address:
    /// the leader streams the log or a snapshot to it before answering.
    pub async fn join(&self, addr: &str) -> Result<(), RaftNodeError> {
        let mut target = addr.to_string();
        for _ in 0..JOIN_HOPS {
            let join_err = |reason: String| RaftNodeError::Join {
                addr: target.clone(),
                reason,
            };
            let mut client = self.inner.network.client(&target).map_err(join_err)?;
            let mut request = tonic::Request::new(JoinRequest {
                addr: self.me().addr.clone(),
            });
            request.set_timeout(JOIN_TIMEOUT);
            match client.join(request).await {
                Ok(_) => return Ok(()),
                Err(s) if s.code() == Code::FailedPrecondition => {
                    let leader = s
                        .metadata()
                        .get(LEADER_ADDR_KEY)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    match leader {
                        Some(l) if l != target => target = l,
                        _ => return Err(join_err(s.message().to_string())),
                    }
                }
                Err(s) => return Err(join_err(s.message().to_string())),
            }
        }
        Err(RaftNodeError::Join {
            addr: addr.to_string(),
            reason: "too many redirects to the leader".into(),
        })
    }

    /// Adds a manager as a learner and waits until it has caught up
    /// (leader only).
    pub async fn add_learner(&self, node_id: &str, addr: &str) -> Result<(), RaftNodeError> {
        let peer = Peer::new(node_id, addr);
        self.raft()
            .add_learner(peer.raft_id(), peer, true)
            .await
            .map_err(|e| self.write_error(e))?;
        Ok(())
    }

    /// Adds a manager as a learner, waits until it has caught up, then
    /// makes it a voter (join as manager, `node promote`; leader only).
    /// A voter already is one: nothing changes.
    pub async fn add_voter(&self, node_id: &str, addr: &str) -> Result<(), RaftNodeError> {
        let id = raft_id(node_id);
        if self.members().iter().any(|m| m.raft_id == id && m.voter) {
            return Ok(());
        }
        self.add_learner(node_id, addr).await?;
        self.raft()
            .change_membership(ChangeMembers::AddVoterIds(BTreeSet::from([id])), false)
            .await
            .map_err(|e| self.write_error(e))?;
        Ok(())
    }

    /// Removes a manager from the group (demote, leave, `node rm`; leader
    /// only). Check [`RaftNode::can_remove`] first: this does not refuse
    /// a change that loses quorum, it just never commits.
    pub async fn remove(&self, node_id: &str) -> Result<(), RaftNodeError> {
        let id = raft_id(node_id);
        let member = self
            .members()
            .into_iter()
            .find(|m| m.raft_id == id)
            .ok_or_else(|| RaftNodeError::NotMember(node_id.to_string()))?;
        let ids = BTreeSet::from([id]);
        let change = if member.voter {
            ChangeMembers::RemoveVoters(ids)
        } else {
            ChangeMembers::RemoveNodes(ids)
        };
        self.raft()
            .change_membership(change, false)
            .await
            .map_err(|e| self.write_error(e))?;
        Ok(())
    }
}
