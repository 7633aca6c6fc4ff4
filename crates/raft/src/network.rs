//! The client side of Raft between managers: openraft's network factory
//! over the `rswarm.raft.Raft` gRPC service, mutual TLS with this node's
//! certificate. One lazily connected channel per peer address is shared by
//! every client openraft makes (it makes one per leadership check).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use openraft::AnyError;
use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use rswarm_proto::raft::RaftMessage;
use rswarm_proto::raft::raft_client::RaftClient;
use rswarm_tls::rustls::ClientConfig;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tonic::transport::Channel;

use crate::append_budget::{self, APPEND_BYTES};
use crate::contacts::Contacts;
use crate::types::{Peer, TypeConfig};

/// No size cliff: snapshot chunks are bounded by the chunk size, and a
/// batch of log entries may be as large as the entries are.
pub(crate) const MAX_MESSAGE_BYTES: usize = usize::MAX;

/// Makes clients for openraft's replication to each peer.
#[derive(Clone, Debug)]
pub struct Network {
    tls: Arc<ClientConfig>,
    channels: Arc<Mutex<HashMap<String, Channel>>>,
    contacts: Contacts,
}

impl Network {
    pub(crate) fn new(tls: Arc<ClientConfig>, contacts: Contacts) -> Network {
        Network {
            tls,
            channels: Arc::default(),
            contacts,
        }
    }

    /// A gRPC client of the Raft service at `addr` (cached channel).
    pub(crate) fn client(&self, addr: &str) -> Result<RaftClient<Channel>, String> {
        let mut channels = self.channels.lock().map_err(|e| e.to_string())?;
        let channel = match channels.get(addr) {
            Some(c) => c.clone(),
            None => {
                let c =
                    rswarm_tls::connect_lazy(addr, self.tls.clone()).map_err(|e| e.to_string())?;
                channels.insert(addr.to_string(), c.clone());
                c
            }
        };
        Ok(RaftClient::new(channel)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES))
    }
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = PeerClient;

    async fn new_client(&mut self, target: u64, node: &Peer) -> PeerClient {
        PeerClient {
            target,
            node: node.clone(),
            client: self.client(&node.addr),
            contacts: self.contacts.clone(),
        }
    }
}

/// Openraft's connection to one peer.
#[derive(Debug)]
pub struct PeerClient {
    target: u64,
    node: Peer,
    client: Result<RaftClient<Channel>, String>,
    contacts: Contacts,
}

#[derive(Clone, Copy)]
enum Rpc {
    AppendEntries,
    Vote,
    InstallSnapshot,
}

fn network_error<E: std::error::Error>(msg: impl ToString) -> RPCError<u64, Peer, E> {
    RPCError::Network(NetworkError::new(&AnyError::error(msg)))
}

impl PeerClient {
    async fn call<Req, Resp, E>(
        &mut self,
        rpc: Rpc,
        req: &Req,
        ttl: Duration,
    ) -> Result<Resp, RPCError<u64, Peer, RaftError<u64, E>>>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
        E: std::error::Error + DeserializeOwned,
    {
        let payload = serde_json::to_vec(req).map_err(network_error)?;
        self.call_encoded(rpc, payload, ttl).await
    }

    /// [`PeerClient::call`] with the request already encoded.
    async fn call_encoded<Resp, E>(
        &mut self,
        rpc: Rpc,
        payload: Vec<u8>,
        ttl: Duration,
    ) -> Result<Resp, RPCError<u64, Peer, RaftError<u64, E>>>
    where
        Resp: DeserializeOwned,
        E: std::error::Error + DeserializeOwned,
    {
        let client = match &mut self.client {
            Ok(c) => c,
            Err(e) => {
                return Err(network_error(format!(
                    "bad peer address {}: {e}",
                    self.node.addr
                )));
            }
        };
        let msg = RaftMessage { payload };
        let call = async {
            match rpc {
                Rpc::AppendEntries => client.append_entries(msg).await,
                Rpc::Vote => client.vote(msg).await,
                Rpc::InstallSnapshot => client.install_snapshot(msg).await,
            }
        };
        let reply = match tokio::time::timeout(ttl, call).await {
            Err(_) => {
                return Err(network_error(format!(
                    "no answer from {} within {ttl:?}",
                    self.node
                )));
            }
            Ok(Err(status)) if status.code() == tonic::Code::Unavailable => {
                return Err(RPCError::Unreachable(Unreachable::new(&AnyError::error(
                    format!("{}: {}", self.node, status.message()),
                ))));
            }
            Ok(Err(status)) => {
                return Err(network_error(format!(
                    "{}: {:?}: {}",
                    self.node,
                    status.code(),
                    status.message()
                )));
            }
            Ok(Ok(reply)) => reply.into_inner(),
        };
        self.contacts.heard(self.target);
        let result: Result<Resp, RaftError<u64, E>> =
            serde_json::from_slice(&reply.payload).map_err(network_error)?;
        result.map_err(|e| {
            RPCError::RemoteError(RemoteError::new_with_node(
                self.target,
                self.node.clone(),
                e,
            ))
        })
    }
}

impl RaftNetwork<TypeConfig> for PeerClient {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<u64>, RPCError<u64, Peer, RaftError<u64>>> {
        // Bounded: see `append_budget`.
        let (payload, cut) = append_budget::encode(&rpc, APPEND_BYTES).map_err(network_error)?;
        let resp = self
            .call_encoded(Rpc::AppendEntries, payload, option.hard_ttl())
            .await?;
        Ok(append_budget::answer(resp, cut))
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<u64>,
        RPCError<u64, Peer, RaftError<u64, InstallSnapshotError>>,
    > {
        self.call(Rpc::InstallSnapshot, &rpc, option.hard_ttl())
            .await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<u64>,
        option: RPCOption,
    ) -> Result<VoteResponse<u64>, RPCError<u64, Peer, RaftError<u64>>> {
        self.call(Rpc::Vote, &rpc, option.hard_ttl()).await
    }
}
