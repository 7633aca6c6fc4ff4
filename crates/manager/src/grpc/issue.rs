//! The `NodeCA` service: a joining node trades a join token and a CSR for
//! a node certificate (worker or manager, as its token says) and a node
//! object in the store (written through the leader).

use std::net::IpAddr;

use rswarm_pki::{DEFAULT_NODE_CERT_VALIDITY, PkiError, RootCa, constant_time_eq};
use rswarm_proto::ca::node_ca_server::NodeCa;
use rswarm_proto::ca::{IssueNodeCertificateRequest, IssueNodeCertificateResponse};
use rswarm_types::{
    Availability, Cluster, JoinTokens, Node, NodeRole, NodeSpec, NodeState, NodeStatus,
};
use tonic::{Request, Response, Status};

use super::Shared;
use super::auth::{Rpc, authorize};
use super::status::from_control;
use crate::control::ControlOp;

/// Swarm's answer to a token that matches neither join token.
pub const INVALID_TOKEN: &str = "A valid join token is necessary to join this cluster";

/// `NodeCA` on the swarm port.
#[derive(Debug)]
pub(super) struct NodeCaService {
    shared: Shared,
}

impl NodeCaService {
    /// A new certificate for the caller, a node of this cluster still in
    /// the store, in the role recorded for it: how a promoted or demoted
    /// node gets its new role. Nothing is written. Only the leader
    /// answers: a follower's store may lag (a demoted manager's own store
    /// never sees its demotion), the caller tries the next manager.
    fn renew(
        &self,
        cluster: &Cluster,
        peer: &rswarm_tls::PeerIdentity,
        csr: &str,
    ) -> Result<IssueNodeCertificateResponse, Status> {
        if !self.shared.manager.is_leader() {
            return Err(Status::unavailable("node is not the leader"));
        }
        if peer.cluster_id != cluster.id {
            return Err(Status::permission_denied(format!(
                "the certificate is for cluster {}, not this one",
                peer.cluster_id
            )));
        }
        let role = self
            .shared
            .manager
            .store
            .view(|t| t.node(&peer.node_id).map(|n| n.role))
            .ok_or_else(|| {
                Status::permission_denied(format!("node {} is not in the swarm", peer.node_id))
            })?;
        let certificate = self.sign(cluster, csr, &peer.node_id, role)?;
        tracing::info!(
            "renewed the certificate of node {} as a {}",
            peer.node_id,
            role.as_str()
        );
        Ok(IssueNodeCertificateResponse {
            node_id: peer.node_id.clone(),
            certificate,
            root_ca: cluster.ca_cert_pem.clone(),
        })
    }

    pub(super) fn new(shared: Shared) -> Self {
        NodeCaService { shared }
    }
}

#[tonic::async_trait]
impl NodeCa for NodeCaService {
    /// Checks the token (constant time, manager token first, like Swarm),
    /// then signs the CSR for a new worker node and records the node. Any
    /// refusal leaves the store unchanged. Without a token, a node of this
    /// cluster renews its certificate ([`NodeCaService::renew`]).
    async fn issue_node_certificate(
        &self,
        request: Request<IssueNodeCertificateRequest>,
    ) -> Result<Response<IssueNodeCertificateResponse>, Status> {
        let store = &self.shared.manager.store;
        let caller = authorize(store, Rpc::IssueNodeCertificate, &request)?;
        let req = request.into_inner();
        let cluster = store
            .view(|t| t.cluster().cloned())
            .ok_or_else(|| Status::unavailable("This node is not part of a swarm"))?;
        if req.token.is_empty()
            && let Some(peer) = caller.peer.as_ref()
        {
            return self.renew(&cluster, peer, &req.csr).map(Response::new);
        }
        let role = token_role(&cluster.join_tokens, &req.token)
            .ok_or_else(|| Status::invalid_argument(INVALID_TOKEN))?;
        let availability = parse_availability(&req.availability)?;
        let addr = if req.addr.is_empty() {
            caller.ip()
        } else {
            req.addr
                .parse::<IpAddr>()
                .map_err(|_| {
                    Status::invalid_argument(format!(
                        "invalid advertise address {:?}: expected an IP address",
                        req.addr
                    ))
                })?
                .to_string()
        };

        let node_id = rswarm_rt::new_id();
        let certificate = self.sign(&cluster, &req.csr, &node_id, role)?;
        let node = Node {
            id: node_id.clone(),
            spec: NodeSpec {
                role,
                availability,
                ..Default::default()
            },
            status: NodeStatus {
                state: NodeState::Unknown,
                message: String::new(),
                addr,
            },
            role,
            ..Default::default()
        };
        self.shared
            .manager
            .submit(ControlOp::AddNode(Box::new(node)))
            .await
            .map_err(from_control)?;
        tracing::info!("node {node_id} joined the swarm as a {}", role.as_str());
        Ok(Response::new(IssueNodeCertificateResponse {
            node_id,
            certificate,
            root_ca: cluster.ca_cert_pem,
        }))
    }
}

impl NodeCaService {
    /// A certificate for `node_id` in `role` with the cluster's CA key and
    /// configured validity.
    fn sign(
        &self,
        cluster: &Cluster,
        csr: &str,
        node_id: &str,
        role: NodeRole,
    ) -> Result<String, Status> {
        let root = RootCa::from_pems(cluster.ca_cert_pem.clone(), cluster.ca_key_pem.clone())
            .map_err(|e| Status::internal(format!("the cluster root CA is unusable: {e}")))?;
        let validity = cluster
            .spec
            .ca_config
            .node_cert_expiry
            .map(chrono::Duration::nanoseconds)
            .unwrap_or(DEFAULT_NODE_CERT_VALIDITY);
        root.issue_node_certificate(
            csr,
            node_id,
            role,
            &cluster.id,
            validity,
            self.shared.clock.now(),
        )
        .map_err(|e| match e {
            PkiError::InvalidCsr(_) => Status::invalid_argument(e.to_string()),
            e => Status::internal(format!("signing the node certificate: {e}")),
        })
    }
}

/// The role `token` grants: the whole token compared in constant time with
/// the manager token, then the worker token. Empty tokens match nothing.
fn token_role(tokens: &JoinTokens, token: &str) -> Option<NodeRole> {
    let matches = |t: &str| !t.is_empty() && !token.is_empty() && constant_time_eq(t, token);
    if matches(&tokens.manager) {
        Some(NodeRole::Manager)
    } else if matches(&tokens.worker) {
        Some(NodeRole::Worker)
    } else {
        None
    }
}

/// `""` (active), `active`, `pause` or `drain`.
fn parse_availability(s: &str) -> Result<Availability, Status> {
    match s {
        "" | "active" => Ok(Availability::Active),
        "pause" => Ok(Availability::Pause),
        "drain" => Ok(Availability::Drain),
        other => Err(Status::invalid_argument(format!(
            "invalid availability {other:?}: expected active, pause or drain"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_decide_the_role() {
        let tokens = JoinTokens {
            worker: "SWMTKN-1-a-w".into(),
            manager: "SWMTKN-1-a-m".into(),
        };
        assert_eq!(token_role(&tokens, "SWMTKN-1-a-m"), Some(NodeRole::Manager));
        assert_eq!(token_role(&tokens, "SWMTKN-1-a-w"), Some(NodeRole::Worker));
        assert_eq!(token_role(&tokens, "SWMTKN-1-a-x"), None);
        assert_eq!(token_role(&tokens, ""), None);
        assert_eq!(token_role(&JoinTokens::default(), ""), None);
    }

    #[test]
    fn availability_defaults_to_active() {
        assert_eq!(parse_availability("").ok(), Some(Availability::Active));
        assert_eq!(parse_availability("drain").ok(), Some(Availability::Drain));
        let err = parse_availability("sleepy").expect_err("bad");
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
    }
}
