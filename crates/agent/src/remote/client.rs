//! [`DispatcherClient`] over the network: the agent's session with the
//! managers' dispatcher, over mutual TLS with the node certificate. With a
//! [`LogStore`] it also serves the managers' log subscriptions for as
//! long as the session lasts.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use rswarm_exec::LogStore;
use rswarm_pki::NodeIdentity;
use rswarm_proto::dispatcher::dispatcher_client::DispatcherClient as GrpcDispatcher;
use rswarm_proto::dispatcher::{
    AssignmentsRequest, HeartbeatRequest, NetworkMapsRequest, SessionMessage, SessionRequest,
    TaskStatusUpdate as WireStatus, UpdateTaskStatusRequest,
};
use rswarm_proto::metadata::DISPATCHER_LEADER;
use rswarm_types::{DEFAULT_HEARTBEAT_PERIOD, NodeDescription, NodeRole, Task, TaskStatus};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use tonic::{Code, Status, Streaming};

use super::assignments::{self, Messages};
use super::{RPC_TIMEOUT, describe, logs};
use crate::{AgentError, DispatcherClient, NetworkMapStream};

/// The dispatcher of the managers at the given addresses, reached over
/// mTLS. Connects lazily, on the first call; after a transport failure it
/// drops the connection and tries the next manager on the following call.
///
/// Errors: `PermissionDenied` (e.g. the node was removed from the swarm)
/// is [`AgentError::Rejected`]; everything else is
/// [`AgentError::Unavailable`].
#[derive(Debug)]
pub struct RemoteDispatcherClient {
    identity: NodeIdentity,
    advertise_ip: String,
    /// Where this node's task output is, for log subscriptions.
    logs: Option<LogStore>,
    /// Where the node's role, as the managers record it, is published.
    role: Option<Arc<watch::Sender<Option<NodeRole>>>>,
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    /// `ip:port` of the managers; the session adds what it learns.
    managers: Vec<String>,
    /// Index into `managers` of the one to use.
    next: usize,
    channel: Option<Channel>,
    session_id: String,
    /// Holds the open Session stream.
    session: Option<JoinHandle<()>>,
    /// Serves log subscriptions during the session.
    log_listener: Option<JoinHandle<()>>,
}

impl RemoteDispatcherClient {
    /// A client for `managers` (`ip:port` each) with this node's identity;
    /// `advertise_ip` is sent as the node's address (empty: the manager
    /// records the address it sees).
    pub fn new(
        managers: Vec<String>,
        identity: NodeIdentity,
        advertise_ip: String,
    ) -> RemoteDispatcherClient {
        RemoteDispatcherClient {
            identity,
            advertise_ip,
            logs: None,
            role: None,
            state: Arc::new(Mutex::new(State {
                managers,
                ..Default::default()
            })),
        }
    }

    /// Publishes the node's role as each session message states it (the
    /// managers push a new message on promote and demote).
    pub fn with_role_sender(
        mut self,
        role: Arc<watch::Sender<Option<NodeRole>>>,
    ) -> RemoteDispatcherClient {
        self.role = Some(role);
        self
    }

    /// Serves the managers' log subscriptions from `logs` during each
    /// session, so `service logs` on a manager shows this node's tasks.
    pub fn with_logs(mut self, logs: LogStore) -> RemoteDispatcherClient {
        self.logs = Some(logs);
        self
    }

    /// The managers this client knows, in order of use.
    pub fn managers(&self) -> Vec<String> {
        self.state().managers.clone()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// A dispatcher client on the current channel.
    fn grpc(&self) -> Result<GrpcDispatcher<Channel>, AgentError> {
        self.channel().map(GrpcDispatcher::new)
    }

    /// The current channel, created (lazily connecting) if needed.
    fn channel(&self) -> Result<Channel, AgentError> {
        let mut state = self.state();
        if let Some(channel) = &state.channel {
            return Ok(channel.clone());
        }
        if state.managers.is_empty() {
            return Err(AgentError::Unavailable("no manager address known".into()));
        }
        let addr = state.managers[state.next % state.managers.len()].clone();
        let config = rswarm_tls::client_config(&self.identity)
            .map_err(|e| AgentError::Unavailable(e.to_string()))?;
        let channel = rswarm_tls::connect_lazy(&addr, config)
            .map_err(|e| AgentError::Unavailable(e.to_string()))?;
        state.channel = Some(channel.clone());
        Ok(channel)
    }

    fn session_id(&self) -> String {
        self.state().session_id.clone()
    }

    /// Maps a failed call to an agent error; transport-like failures drop
    /// the channel so the next call dials the next manager, or the leader
    /// when a follower's refusal names it.
    fn failed(&self, rpc: &str, status: Status) -> AgentError {
        match status.code() {
            Code::PermissionDenied => AgentError::Rejected(status.message().to_string()),
            code => {
                if matches!(
                    code,
                    Code::Unavailable | Code::Unknown | Code::Cancelled | Code::DeadlineExceeded
                ) {
                    self.reset_channel();
                    if let Some(leader) = leader_named(&status) {
                        self.prefer(leader);
                    }
                }
                AgentError::Unavailable(format!("{rpc}: {}", describe(&status)))
            }
        }
    }

    /// Makes `addr` the manager the next call dials.
    fn prefer(&self, addr: String) {
        self.state().prefer(addr);
    }

    fn timed_out(&self, rpc: &str) -> AgentError {
        self.reset_channel();
        AgentError::Unavailable(format!("{rpc}: no answer within {RPC_TIMEOUT:?}"))
    }

    fn reset_channel(&self) {
        let mut state = self.state();
        if state.channel.take().is_some() {
            state.next = state.next.wrapping_add(1);
        }
    }

    /// Adopts what the first session message says, and starts serving log
    /// subscriptions over `channel` when this client has a log store.
    fn start_session(&self, first: &SessionMessage, hold: JoinHandle<()>, channel: Channel) {
        let listener = self
            .logs
            .clone()
            .map(|logs| tokio::spawn(logs::listen(channel, logs)));
        adopt(&self.state, self.role.as_deref(), first);
        let mut state = self.state();
        state.session_id = first.session_id.clone();
        if let Some(old) = state.session.replace(hold) {
            old.abort();
        }
        if let Some(old) = std::mem::replace(&mut state.log_listener, listener) {
            old.abort();
        }
    }
}

impl Drop for RemoteDispatcherClient {
    fn drop(&mut self) {
        let mut state = self.state();
        for handle in [state.session.take(), state.log_listener.take()]
            .into_iter()
            .flatten()
        {
            handle.abort();
        }
    }
}

impl State {
    /// Makes `addr` the manager the next call dials (learning it if new).
    fn prefer(&mut self, addr: String) {
        self.next = match self.managers.iter().position(|m| *m == addr) {
            Some(i) => i,
            None => {
                self.managers.push(addr);
                self.managers.len() - 1
            }
        };
        self.channel = None;
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Learns the managers a session message names and publishes the node's
/// role it states.
fn adopt(
    state: &Mutex<State>,
    role: Option<&watch::Sender<Option<NodeRole>>>,
    message: &SessionMessage,
) {
    {
        let mut state = lock(state);
        for m in &message.managers {
            if !state.managers.contains(m) {
                state.managers.push(m.clone());
            }
        }
    }
    let stated = match message.node_role.as_str() {
        "manager" => Some(NodeRole::Manager),
        "worker" => Some(NodeRole::Worker),
        _ => None,
    };
    if let (Some(role), Some(stated)) = (role, stated) {
        role.send_if_modified(|r| (*r != Some(stated)).then(|| *r = Some(stated)).is_some());
    }
}

/// The leader's address a follower's "node is not the leader" carries.
fn leader_named(status: &Status) -> Option<String> {
    let value = status.metadata().get(DISPATCHER_LEADER)?.to_str().ok()?;
    (!value.is_empty()).then(|| value.to_string())
}

/// Runs `fut` under [`RPC_TIMEOUT`].
async fn timed<T>(fut: impl Future<Output = T>) -> Option<T> {
    tokio::time::timeout(RPC_TIMEOUT, fut).await.ok()
}

#[async_trait]
impl DispatcherClient for RemoteDispatcherClient {
    /// Opens the Session stream and waits for its first message; the
    /// stream then stays open in the background until the next register
    /// or until this client is dropped.
    async fn register(&self, description: NodeDescription) -> Result<Duration, AgentError> {
        {
            let mut state = self.state();
            for old in [state.session.take(), state.log_listener.take()]
                .into_iter()
                .flatten()
            {
                old.abort();
            }
        }
        let channel = self.channel()?;
        let mut grpc = GrpcDispatcher::new(channel.clone());
        let request = SessionRequest {
            description: serde_json::to_vec(&description)
                .map_err(|e| AgentError::Unavailable(format!("encoding description: {e}")))?,
            addr: self.advertise_ip.clone(),
        };
        let mut stream: Streaming<SessionMessage> = timed(grpc.session(request))
            .await
            .ok_or_else(|| self.timed_out("Session"))?
            .map_err(|s| self.failed("Session", s))?
            .into_inner();
        let first = timed(stream.message())
            .await
            .ok_or_else(|| self.timed_out("Session"))?
            .map_err(|s| self.failed("Session", s))?
            .ok_or_else(|| {
                self.reset_channel();
                AgentError::Unavailable("Session: closed before its first message".into())
            })?;
        let (state, role) = (self.state.clone(), self.role.clone());
        let hold = tokio::spawn(async move {
            loop {
                match stream.message().await {
                    Ok(Some(m)) => adopt(&state, role.as_deref(), &m),
                    Ok(None) => break tracing::debug!("agent: session stream ended"),
                    Err(s) => break tracing::debug!("agent: session stream: {}", describe(&s)),
                }
            }
        });
        self.start_session(&first, hold, channel);
        let nanos = if first.heartbeat_period > 0 {
            first.heartbeat_period
        } else {
            DEFAULT_HEARTBEAT_PERIOD
        };
        Ok(Duration::from_nanos(nanos.unsigned_abs()))
    }

    /// Opens the Assignments stream; a background task rebuilds full sets
    /// from its COMPLETE and INCREMENTAL messages and reopens it on a gap.
    async fn assignments(&self) -> Result<mpsc::Receiver<Vec<Task>>, AgentError> {
        let channel = self.channel()?;
        let request = AssignmentsRequest {
            session_id: self.session_id(),
        };
        let stream = open_assignments(channel.clone(), request.clone())
            .await
            .map_err(|e| match e {
                None => self.timed_out("Assignments"),
                Some(s) => self.failed("Assignments", s),
            })?;
        let (tx, rx) = mpsc::channel(16);
        let reopen = move || {
            let (channel, request) = (channel.clone(), request.clone());
            async move {
                open_assignments(channel, request)
                    .await
                    .map_err(|e| match e {
                        None => format!("no answer within {RPC_TIMEOUT:?}"),
                        Some(s) => describe(&s),
                    })
            }
        };
        tokio::spawn(assignments::follow(stream, reopen, tx));
        Ok(rx)
    }

    /// Opens the NetworkMaps stream; it ends at the first message that
    /// cannot be read or when the transport breaks.
    async fn network_maps(&self) -> Result<NetworkMapStream, AgentError> {
        let mut grpc = self.grpc()?;
        let request = NetworkMapsRequest {
            session_id: self.session_id(),
        };
        let stream = timed(grpc.network_maps(request))
            .await
            .ok_or_else(|| self.timed_out("NetworkMaps"))?
            .map_err(|s| self.failed("NetworkMaps", s))?
            .into_inner();
        Ok(Box::pin(futures_util::stream::unfold(
            stream,
            |mut stream| async move {
                let update = match stream.message().await {
                    Ok(Some(m)) => serde_json::from_slice(&m.update)
                        .map_err(|e| tracing::warn!("agent: bad network map message: {e}"))
                        .ok()?,
                    Ok(None) => return None,
                    Err(s) => {
                        tracing::debug!("agent: network map stream: {}", describe(&s));
                        return None;
                    }
                };
                Some((update, stream))
            },
        )))
    }

    async fn update_task_status(
        &self,
        updates: Vec<(String, TaskStatus)>,
    ) -> Result<(), AgentError> {
        let mut grpc = self.grpc()?;
        let updates = updates
            .into_iter()
            .map(|(task_id, status)| {
                serde_json::to_vec(&status)
                    .map(|status| WireStatus { task_id, status })
                    .map_err(|e| AgentError::Unavailable(format!("encoding task status: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let request = UpdateTaskStatusRequest {
            session_id: self.session_id(),
            updates,
        };
        timed(grpc.update_task_status(request))
            .await
            .ok_or_else(|| self.timed_out("UpdateTaskStatus"))?
            .map_err(|s| self.failed("UpdateTaskStatus", s))?;
        Ok(())
    }

    async fn heartbeat(&self) -> Result<Duration, AgentError> {
        let mut grpc = self.grpc()?;
        let request = HeartbeatRequest {
            session_id: self.session_id(),
        };
        let period = timed(grpc.heartbeat(request))
            .await
            .ok_or_else(|| self.timed_out("Heartbeat"))?
            .map_err(|s| self.failed("Heartbeat", s))?
            .into_inner()
            .period;
        let nanos = if period > 0 {
            period
        } else {
            DEFAULT_HEARTBEAT_PERIOD
        };
        Ok(Duration::from_nanos(nanos.unsigned_abs()))
    }
}

/// Calls `Assignments`; the error is `None` on timeout.
async fn open_assignments(
    channel: Channel,
    request: AssignmentsRequest,
) -> Result<Messages, Option<Status>> {
    let response = timed(GrpcDispatcher::new(channel).assignments(request))
        .await
        .ok_or(None)?
        .map_err(Some)?;
    Ok(Box::pin(response.into_inner()))
}

#[cfg(test)]
mod tests {
    use tonic::metadata::MetadataValue;

    use super::*;

    #[test]
    fn a_followers_refusal_sends_the_agent_to_the_leader() {
        let mut refusal = Status::unavailable("node is not the leader");
        assert_eq!(leader_named(&refusal), None);
        refusal.metadata_mut().insert(
            DISPATCHER_LEADER,
            MetadataValue::from_static("10.0.0.2:2377"),
        );
        let leader = leader_named(&refusal).expect("named");
        // A manager restarted while another leads knows only itself.
        let mut state = State {
            managers: vec!["10.0.0.1:2377".into()],
            ..Default::default()
        };
        state.prefer(leader.clone());
        assert_eq!(state.managers, ["10.0.0.1:2377", "10.0.0.2:2377"]);
        assert_eq!(state.managers[state.next], leader);
        // Known already: no duplicate.
        state.prefer("10.0.0.1:2377".into());
        assert_eq!((state.managers.len(), state.next), (2, 0));
    }
}
