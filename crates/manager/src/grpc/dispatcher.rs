//! The `Dispatcher` service: agent sessions over the network. The node is
//! always the caller's certificate CN, never something the request says.

use std::pin::Pin;

use futures_util::Stream;
use rswarm_proto::dispatcher::dispatcher_server::Dispatcher;
use rswarm_proto::dispatcher::{
    AssignmentsMessage, AssignmentsRequest, HeartbeatRequest, HeartbeatResponse, NetworkMapMessage,
    NetworkMapsRequest, SessionMessage, SessionRequest, UpdateTaskStatusRequest,
    UpdateTaskStatusResponse,
};
use rswarm_proto::metadata::DISPATCHER_LEADER;
use rswarm_raft::{Peer, RaftNode};
use rswarm_types::{ControlError, NodeDescription, TaskStatus};
use tonic::metadata::MetadataValue;
use tonic::{Request, Response, Status};

use super::Shared;
use super::auth::{Rpc, authorize};
use super::status::from_control;
use crate::dispatcher::TaskStatusUpdate;

type MessageStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// `Dispatcher` on the swarm port.
#[derive(Debug)]
pub(super) struct DispatcherService {
    shared: Shared,
}

/// A follower's answer to agents (swarmkit's `ErrNodeNotLeader`).
const NOT_LEADER: &str = "node is not the leader";

impl DispatcherService {
    pub(super) fn new(shared: Shared) -> Self {
        DispatcherService { shared }
    }

    /// The authorized caller's node ID and its address. Only the leader
    /// dispatches: elsewhere the agent gets `Unavailable`, with the
    /// leader's address when this manager knows it (an agent that knows
    /// no other manager, e.g. on a manager restarted while another leads,
    /// finds the leader that way), and moves on.
    fn caller<T>(&self, rpc: Rpc, request: &Request<T>) -> Result<(String, String), Status> {
        let caller = authorize(&self.shared.manager.store, rpc, request)?;
        let manager = &self.shared.manager;
        if !manager.is_leader() {
            return Err(not_leader(manager.raft().and_then(RaftNode::leader)));
        }
        Ok((caller.node_id()?.to_string(), caller.ip()))
    }

    /// Refuses calls on a session that is not the node's current one.
    fn check_session(&self, node_id: &str, session_id: &str) -> Result<(), Status> {
        self.shared
            .manager
            .dispatcher
            .check_session(node_id, session_id)
            .map_err(from_control)
    }
}

#[tonic::async_trait]
impl Dispatcher for DispatcherService {
    type SessionStream = MessageStream<SessionMessage>;
    type AssignmentsStream = MessageStream<AssignmentsMessage>;
    type NetworkMapsStream = MessageStream<NetworkMapMessage>;

    /// Registers the node (it becomes `ready`), sends a `SessionMessage`
    /// and another each time the node's role or the managers change,
    /// until the agent goes away or the server stops.
    async fn session(
        &self,
        request: Request<SessionRequest>,
    ) -> Result<Response<Self::SessionStream>, Status> {
        let (node_id, observed_ip) = self.caller(Rpc::Session, &request)?;
        let req = request.into_inner();
        let description: NodeDescription = if req.description.is_empty() {
            NodeDescription::default()
        } else {
            serde_json::from_slice(&req.description)
                .map_err(|e| Status::invalid_argument(format!("invalid node description: {e}")))?
        };
        let addr = if req.addr.is_empty() {
            observed_ip
        } else {
            req.addr
        };
        let dispatcher = &self.shared.manager.dispatcher;
        let session_id = dispatcher
            .register(&node_id, description, &addr)
            .await
            .map_err(from_control)?;
        tracing::debug!("node {node_id} opened a session from {addr}");
        let first = SessionMessage {
            session_id,
            heartbeat_period: nanos(dispatcher.heartbeat_period()),
            ..Default::default()
        };
        Ok(Response::new(super::session::stream(
            self.shared.manager.store.clone(),
            &self.shared.node_watch,
            node_id,
            first,
            self.shared.shutdown.clone(),
        )))
    }

    async fn heartbeat(
        &self,
        request: Request<HeartbeatRequest>,
    ) -> Result<Response<HeartbeatResponse>, Status> {
        let (node_id, _) = self.caller(Rpc::Heartbeat, &request)?;
        self.check_session(&node_id, &request.get_ref().session_id)?;
        let period = self.shared.manager.dispatcher.heartbeat(&node_id);
        Ok(Response::new(HeartbeatResponse {
            period: nanos(period),
        }))
    }

    /// The node's tasks: the complete set, then batched increments.
    async fn assignments(
        &self,
        request: Request<AssignmentsRequest>,
    ) -> Result<Response<Self::AssignmentsStream>, Status> {
        let (node_id, _) = self.caller(Rpc::Assignments, &request)?;
        self.check_session(&node_id, &request.get_ref().session_id)?;
        Ok(Response::new(super::assignments::stream(
            self.shared.manager.store.clone(),
            &self.shared.node_watch,
            node_id,
            self.shared.shutdown.clone(),
        )))
    }

    /// The node's network map: a snapshot, then deltas.
    async fn network_maps(
        &self,
        request: Request<NetworkMapsRequest>,
    ) -> Result<Response<Self::NetworkMapsStream>, Status> {
        let (node_id, _) = self.caller(Rpc::NetworkMaps, &request)?;
        self.check_session(&node_id, &request.get_ref().session_id)?;
        Ok(Response::new(super::network_maps::stream(
            self.shared.manager.store.clone(),
            node_id,
            self.shared.shutdown.clone(),
        )))
    }

    /// Records status reports; a report for another node's task refuses
    /// the whole batch.
    async fn update_task_status(
        &self,
        request: Request<UpdateTaskStatusRequest>,
    ) -> Result<Response<UpdateTaskStatusResponse>, Status> {
        let (node_id, _) = self.caller(Rpc::UpdateTaskStatus, &request)?;
        self.check_session(&node_id, &request.get_ref().session_id)?;
        let updates = request
            .into_inner()
            .updates
            .into_iter()
            .map(|u| {
                let status: TaskStatus = serde_json::from_slice(&u.status).map_err(|e| {
                    Status::invalid_argument(format!("invalid status of task {}: {e}", u.task_id))
                })?;
                Ok(TaskStatusUpdate {
                    task_id: u.task_id,
                    status,
                })
            })
            .collect::<Result<Vec<_>, Status>>()?;
        self.shared
            .manager
            .dispatcher
            .update_task_status(&node_id, updates)
            .await
            .map_err(|e| match e {
                // Swarm: "cannot update a task not assigned this node".
                ControlError::FailedPrecondition(m) => Status::permission_denied(m),
                e => from_control(e),
            })?;
        Ok(Response::new(UpdateTaskStatusResponse {}))
    }
}

/// "node is not the leader", naming the leader if known.
fn not_leader(leader: Option<Peer>) -> Status {
    let mut status = Status::unavailable(NOT_LEADER);
    if let Some(addr) = leader.and_then(|p| MetadataValue::try_from(p.addr).ok()) {
        status.metadata_mut().insert(DISPATCHER_LEADER, addr);
    }
    status
}

fn nanos(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}
