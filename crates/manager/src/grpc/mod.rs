//! The manager's gRPC server on the swarm port: the cluster CA (root
//! certificate, node certificates for joining workers), the dispatcher
//! (agent sessions; assignments as a complete set, then batched and
//! chained increments; each node's network map as a snapshot, then
//! versioned deltas) and the log broker's agent side (log
//! subscriptions out, lines in), over TLS with certificates from the
//! cluster CA.
//!
//! ```text
//! TcpListener ─► rswarm_tls::TlsIncoming ─► tonic ─► authorize(rpc) ─► CA / NodeCA / Dispatcher / LogBroker
//!                 (client cert optional,              (one table:        │
//!                  verified against the root)          auth::Rpc)        └─► store, Manager::{dispatcher, log_broker}
//! ```
//!
//! Every RPC is checked by [`auth::authorize`] against its row in the
//! table of [`auth::Rpc::allowed`]: the CA's `GetRootCACertificate` and
//! `IssueNodeCertificate` need no client certificate (the join token
//! authorizes); everything else needs a certificate of this cluster whose
//! role is allowed, for a node that is still in the store (so a removed
//! node's certificate stops working at once).
//!
//! With Raft, the swarm port also carries the managers' Raft traffic and
//! `Control.Forward` (a follower's writes, run by the leader); only the
//! leader dispatches.
//!
//! A node's certificate is renewed by `IssueNodeCertificate` without a
//! token (the caller's certificate authenticates it; the role is the one
//! recorded for the node), which is how promoted and demoted nodes get
//! their new role: the Session stream tells them when it changes.
//!
//! What it does not do: rotate certificates on a schedule, or track
//! session IDs (any session ID is accepted; the node is the certificate's
//! CN).

mod assignments;

pub mod auth;
mod ca;
mod control;
mod dispatcher;
mod forward;
mod increments;
mod issue;
mod logbroker;
mod network_maps;
mod node_watch;
mod session;
mod status;

use std::sync::Arc;
use std::time::Duration;

use rswarm_pki::NodeIdentity;
use rswarm_proto::ca::ca_server::CaServer;
use rswarm_proto::ca::node_ca_server::NodeCaServer;
use rswarm_proto::control::control_server::ControlServer;
use rswarm_proto::dispatcher::dispatcher_server::DispatcherServer;
use rswarm_proto::logbroker::log_broker_server::LogBrokerServer;
use rswarm_rt::{Clock, Shutdown, SystemClock};
use rswarm_tls::{TlsError, TlsIncoming, error_chain};
use tokio::net::TcpListener;

use crate::Manager;

pub use forward::Forwarder;
pub use issue::INVALID_TOKEN;

/// Why the swarm port server could not run.
#[derive(Debug, thiserror::Error)]
pub enum GrpcError {
    /// The node's identity cannot make a TLS server configuration.
    #[error("swarm port TLS configuration: {0}")]
    Tls(#[from] TlsError),
    /// The server stopped with an error.
    #[error("swarm port server failed: {0}")]
    Serve(String),
}

/// What the services share.
#[derive(Clone, Debug)]
struct Shared {
    manager: Manager,
    /// Wall time for certificate validity (peers check it with real clocks).
    clock: Arc<dyn Clock>,
    /// Ends open streams when the server stops.
    shutdown: Shutdown,
    /// Wakes the node streams for the commits that concern them.
    node_watch: node_watch::NodeWatch,
}

/// Serves the CA, NodeCA, Dispatcher and LogBroker services on `listener` with this
/// manager's `identity` until `shutdown` fires; then stops accepting,
/// ends open streams and waits for connections to close.
pub async fn serve(
    listener: TcpListener,
    identity: NodeIdentity,
    manager: Manager,
    shutdown: Shutdown,
) -> Result<(), GrpcError> {
    let config = rswarm_tls::server_config(&identity)?;
    let shared = Shared {
        node_watch: node_watch::NodeWatch::start(&manager.store, shutdown.clone()),
        manager,
        clock: Arc::new(SystemClock),
        shutdown: shutdown.clone(),
    };
    let raft = shared.manager.raft().map(rswarm_raft::RaftNode::service);
    let incoming = TlsIncoming::new(listener, config);
    tonic::transport::Server::builder()
        // Notice agents that vanished without closing their session.
        .http2_keepalive_interval(Some(Duration::from_secs(10)))
        .http2_keepalive_timeout(Some(Duration::from_secs(20)))
        .add_service(CaServer::new(ca::CaService::new(shared.clone())))
        .add_service(NodeCaServer::new(issue::NodeCaService::new(shared.clone())))
        .add_service(ControlServer::new(control::ControlService::new(
            shared.clone(),
        )))
        .add_service(DispatcherServer::new(dispatcher::DispatcherService::new(
            shared.clone(),
        )))
        .add_service(LogBrokerServer::new(logbroker::LogBrokerService::new(
            shared,
        )))
        .add_optional_service(raft)
        .serve_with_incoming_shutdown(incoming, async move { shutdown.wait().await })
        .await
        .map_err(|e| GrpcError::Serve(error_chain(&e)))
}
