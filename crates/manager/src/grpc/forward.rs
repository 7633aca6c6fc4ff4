//! The client side of the `Control` service: a manager that is not the
//! leader sends each control write to the leader over mutual TLS with its
//! own (manager) certificate, and returns the leader's answer as its own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rswarm_pki::NodeIdentity;
use rswarm_proto::control::ForwardRequest;
use rswarm_proto::control::control_client::ControlClient;
use rswarm_tls::rustls::ClientConfig;
use rswarm_tls::{TlsError, error_chain};
use rswarm_types::ControlError;
use tonic::transport::Channel;

use crate::control::{ControlOp, ControlReply, WireError};

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

    /// Runs `op` on the leader at `leader_addr`.
    pub async fn forward(
        &self,
        leader_addr: &str,
        op: &ControlOp,
    ) -> Result<ControlReply, ControlError> {
        let op_json = serde_json::to_vec(op).map_err(|e| ControlError::Internal(e.to_string()))?;
        let mut client = ControlClient::new(self.channel(leader_addr)?);
        let reply = client
            .forward(ForwardRequest { op_json })
            .await
            .map_err(|s| {
                ControlError::Unavailable(format!(
                    "cannot reach the swarm leader at {leader_addr}: {}",
                    error_chain(&s)
                ))
            })?;
        let result: Result<ControlReply, WireError> =
            serde_json::from_slice(&reply.get_ref().result_json)
                .map_err(|e| ControlError::Internal(format!("leader's answer: {e}")))?;
        result.map_err(ControlError::from)
    }
}
