//! The client side of the `Control` service: a manager that is not the
//! leader sends each control write to the leader over mutual TLS with its
//! own (manager) certificate, and returns the leader's answer as its own.
//!
//! A leader that stops answering (frozen, cut off, dead without closing
//! its connection) must not hold the client forever: the forward gives up
//! as soon as this manager stops seeing that manager as the leader (an
//! election started, another leader won), or after [`FORWARD_TIMEOUT`].
//! Giving up cancels the call (HTTP/2 reset, so a leader that wakes up
//! drops it unless it already proposed it) and answers 503; the write was
//! not acknowledged and may or may not have been applied, as with any
//! write whose answer was lost.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rswarm_pki::NodeIdentity;
use rswarm_proto::control::ForwardRequest;
use rswarm_proto::control::control_client::ControlClient;
use rswarm_raft::{Leadership, Peer};
use rswarm_tls::rustls::ClientConfig;
use rswarm_tls::{TlsError, error_chain};
use rswarm_types::ControlError;
use tokio::sync::watch;
use tonic::transport::Channel;

use crate::control::{ControlOp, ControlReply, WireError};

/// How long a forwarded write may take at most, whoever leads: more than
/// the leader itself allows a write (a quorum check of up to an election
/// timeout, then the commit timeout).
pub const FORWARD_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends control writes to the current leader.
#[derive(Debug)]
pub struct Forwarder {
    config: Arc<ClientConfig>,
    /// One lazily connected channel per leader address.
    channels: Mutex<HashMap<String, Channel>>,
}

impl Forwarder {
    /// A forwarder speaking as `identity` (a manager certificate).
    pub fn new(identity: &NodeIdentity) -> Result<Forwarder, TlsError> {
        Ok(Forwarder {
            config: rswarm_tls::client_config(identity)?,
            channels: Mutex::new(HashMap::new()),
        })
    }

    fn channel(&self, addr: &str) -> Result<Channel, ControlError> {
        let mut channels = self
            .channels
            .lock()
            .map_err(|_| ControlError::Internal("forwarder lock poisoned".into()))?;
        if let Some(c) = channels.get(addr) {
            return Ok(c.clone());
        }
        let c = rswarm_tls::connect_lazy(addr, self.config.clone())
            .map_err(|e| ControlError::Internal(e.to_string()))?;
        channels.insert(addr.to_string(), c.clone());
        Ok(c)
    }

    /// Runs `op` on `leader`; gives up (503) when `leadership` stops
    /// naming it the leader or after [`FORWARD_TIMEOUT`].
    pub async fn forward(
        &self,
        leader: &Peer,
        op: &ControlOp,
        mut leadership: watch::Receiver<Leadership>,
    ) -> Result<ControlReply, ControlError> {
        let addr = &leader.addr;
        let op_json = serde_json::to_vec(op).map_err(|e| ControlError::Internal(e.to_string()))?;
        let mut client = ControlClient::new(self.channel(addr)?);
        let deposed =
            leadership.wait_for(|l| l.leader.as_ref().map(|p| &p.node_id) != Some(&leader.node_id));
        let gave_up = |why: &str| {
            ControlError::Unavailable(format!(
                "cannot reach the swarm leader at {addr}: {why}; the write was not acknowledged and may or may not have been applied"
            ))
        };
        let reply = tokio::select! {
            reply = client.forward(ForwardRequest { op_json }) => reply.map_err(|s| {
                ControlError::Unavailable(format!(
                    "cannot reach the swarm leader at {addr}: {}",
                    error_chain(&s)
                ))
            })?,
            _ = deposed => return Err(gave_up("it stopped answering and lost the leadership")),
            () = tokio::time::sleep(FORWARD_TIMEOUT) => {
                return Err(gave_up(&format!("no answer within {FORWARD_TIMEOUT:?}")));
            }
        };
        let result: Result<ControlReply, WireError> =
            serde_json::from_slice(&reply.get_ref().result_json)
                .map_err(|e| ControlError::Internal(format!("leader's answer: {e}")))?;
        result.map_err(ControlError::from)
    }
}
