//! Who may call what on the swarm port: one table, one check.
//!
//! Swarmkit declares a `tls_authorization` per method and checks it in
//! `ca/auth.go`; here [`Rpc::allowed`] is the table and [`authorize`] the
//! check. A role-gated RPC needs, in this order: a client certificate
//! (already verified against the cluster root by TLS), an allowed role
//! (OU), this cluster's ID (O), and a node (CN) that is still in the store.
//! Every refusal is `PermissionDenied` naming the reason.

use std::net::SocketAddr;

use rswarm_store::Store;
use rswarm_tls::{PeerIdentity, TlsConnectInfo, TlsError};
use rswarm_types::NodeRole;
use tonic::{Request, Status};

/// Manager certificates only.
const MANAGERS: &[NodeRole] = &[NodeRole::Manager];
/// Any member node.
const NODES: &[NodeRole] = &[NodeRole::Worker, NodeRole::Manager];

/// The RPCs served on the swarm port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rpc {
    /// `CA.GetRootCACertificate`.
    GetRootCaCertificate,
    /// `CA.GetUnlockKey`.
    GetUnlockKey,
    /// `NodeCA.IssueNodeCertificate`.
    IssueNodeCertificate,
    /// `Dispatcher.Session`.
    Session,
    /// `Dispatcher.Heartbeat`.
    Heartbeat,
    /// `Dispatcher.Assignments`.
    Assignments,
    /// `Dispatcher.UpdateTaskStatus`.
    UpdateTaskStatus,
    /// `Dispatcher.NetworkMaps`.
    NetworkMaps,
    /// `LogBroker.ListenSubscriptions`.
    ListenSubscriptions,
    /// `LogBroker.PublishLogs`.
    PublishLogs,
    /// `Control.Forward` (a follower manager's write, run by the leader).
    ControlForward,
}

/// Who may call an RPC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allowed {
    /// Anyone who completes the TLS handshake; no client certificate needed.
    Anyone,
    /// Member nodes of this cluster with one of these roles.
    Roles(&'static [NodeRole]),
}

impl Rpc {
    /// Every RPC, for tests and docs.
    pub const ALL: [Rpc; 11] = [
        Rpc::GetRootCaCertificate,
        Rpc::GetUnlockKey,
        Rpc::IssueNodeCertificate,
        Rpc::Session,
        Rpc::Heartbeat,
        Rpc::Assignments,
        Rpc::UpdateTaskStatus,
        Rpc::NetworkMaps,
        Rpc::ListenSubscriptions,
        Rpc::PublishLogs,
        Rpc::ControlForward,
    ];

    /// The authorization table (swarmkit's, for the RPCs we serve).
    pub fn allowed(self) -> Allowed {
        match self {
            Rpc::GetRootCaCertificate | Rpc::IssueNodeCertificate => Allowed::Anyone,
            Rpc::GetUnlockKey | Rpc::ControlForward => Allowed::Roles(MANAGERS),
            Rpc::Session
            | Rpc::Heartbeat
            | Rpc::Assignments
            | Rpc::UpdateTaskStatus
            | Rpc::NetworkMaps
            | Rpc::ListenSubscriptions
            | Rpc::PublishLogs => Allowed::Roles(NODES),
        }
    }

    /// `Service.Method`.
    pub fn name(self) -> &'static str {
        match self {
            Rpc::GetRootCaCertificate => "CA.GetRootCACertificate",
            Rpc::GetUnlockKey => "CA.GetUnlockKey",
            Rpc::IssueNodeCertificate => "NodeCA.IssueNodeCertificate",
            Rpc::Session => "Dispatcher.Session",
            Rpc::Heartbeat => "Dispatcher.Heartbeat",
            Rpc::Assignments => "Dispatcher.Assignments",
            Rpc::UpdateTaskStatus => "Dispatcher.UpdateTaskStatus",
            Rpc::NetworkMaps => "Dispatcher.NetworkMaps",
            Rpc::ListenSubscriptions => "LogBroker.ListenSubscriptions",
            Rpc::PublishLogs => "LogBroker.PublishLogs",
            Rpc::ControlForward => "Control.Forward",
        }
    }
}

/// An authorized caller.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The verified certificate's identity. Always set for role-gated
    /// RPCs; for open ones only when the caller presented a certificate.
    pub peer: Option<PeerIdentity>,
    /// The address the connection came from.
    pub remote_addr: Option<SocketAddr>,
}

impl Caller {
    /// The node ID of a role-gated caller.
    pub fn node_id(&self) -> Result<&str, Status> {
        self.peer
            .as_ref()
            .map(|p| p.node_id.as_str())
            .ok_or_else(|| Status::permission_denied("no client certificate"))
    }

    /// The caller's IP as text, or empty when unknown.
    pub fn ip(&self) -> String {
        self.remote_addr
            .map(|a| a.ip().to_string())
            .unwrap_or_default()
    }
}

/// Checks `request` against the row of `rpc` in the table.
pub fn authorize<T>(store: &Store, rpc: Rpc, request: &Request<T>) -> Result<Caller, Status> {
    let info = request.extensions().get::<TlsConnectInfo>();
    let remote_addr = info.and_then(|i| i.remote_addr);
    let peer = info
        .map(TlsConnectInfo::peer_identity)
        .unwrap_or(Err(TlsError::NoPeerCertificate));
    let roles = match rpc.allowed() {
        Allowed::Anyone => {
            return Ok(Caller {
                peer: peer.ok(),
                remote_addr,
            });
        }
        Allowed::Roles(roles) => roles,
    };
    let peer = peer.map_err(|e| Status::permission_denied(e.to_string()))?;
    check_member(store, rpc, roles, &peer)?;
    Ok(Caller {
        peer: Some(peer),
        remote_addr,
    })
}

/// Role, cluster and membership of a certificate holder.
fn check_member(
    store: &Store,
    rpc: Rpc,
    roles: &[NodeRole],
    peer: &PeerIdentity,
) -> Result<(), Status> {
    if !roles.contains(&peer.role) {
        let wanted: Vec<&str> = roles.iter().map(|r| r.ou()).collect();
        return Err(Status::permission_denied(format!(
            "unauthorized peer role: {} ({} allows {})",
            peer.role.ou(),
            rpc.name(),
            wanted.join(", ")
        )));
    }
    let (cluster_id, member) = store.view(|t| {
        (
            t.cluster().map(|c| c.id.clone()),
            t.node(&peer.node_id).is_some(),
        )
    });
    let cluster_id =
        cluster_id.ok_or_else(|| Status::unavailable("This node is not part of a swarm"))?;
    if peer.cluster_id != cluster_id {
        return Err(Status::permission_denied(
            "certificate is not from this cluster",
        ));
    }
    if !member {
        return Err(Status::permission_denied(format!(
            "node {} is not a member of this swarm",
            peer.node_id
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_matches_swarmkit() {
        for rpc in Rpc::ALL {
            let expected = match rpc {
                Rpc::GetRootCaCertificate | Rpc::IssueNodeCertificate => Allowed::Anyone,
                Rpc::GetUnlockKey | Rpc::ControlForward => Allowed::Roles(&[NodeRole::Manager]),
                _ => Allowed::Roles(&[NodeRole::Worker, NodeRole::Manager]),
            };
            assert_eq!(rpc.allowed(), expected, "{}", rpc.name());
        }
    }

    #[test]
    fn requests_without_tls_info_have_no_certificate() {
        let store = rswarm_store::Store::open(
            std::sync::Arc::new(rswarm_store::MemoryProposer),
            std::sync::Arc::new(rswarm_rt::SystemClock),
        )
        .expect("store");
        let err = authorize(&store, Rpc::Heartbeat, &Request::new(())).expect_err("refused");
        assert_eq!(err.code(), tonic::Code::PermissionDenied);
        assert_eq!(err.message(), "no client certificate");
        let ok = authorize(&store, Rpc::GetRootCaCertificate, &Request::new(())).expect("open");
        assert!(ok.peer.is_none());
    }
}
