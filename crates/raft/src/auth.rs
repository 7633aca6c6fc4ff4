//! Who may speak Raft to this manager: only managers of this cluster
//! (swarmkit's `tls_authorization = { roles: "swarm-manager" }` on the
//! Raft services, plus the cluster check of `ca/auth.go`).

use rswarm_tls::{PeerIdentity, TlsConnectInfo, TlsError};
use rswarm_types::NodeRole;
use tonic::{Request, Status};

/// The caller's identity when it holds a manager certificate of
/// `cluster_id`; `PermissionDenied` naming the reason otherwise.
pub fn authorize_manager<T>(
    cluster_id: &str,
    request: &Request<T>,
) -> Result<PeerIdentity, Status> {
    let peer = request
        .extensions()
        .get::<TlsConnectInfo>()
        .map(TlsConnectInfo::peer_identity)
        .unwrap_or(Err(TlsError::NoPeerCertificate))
        .map_err(|e| Status::permission_denied(e.to_string()))?;
    if peer.role != NodeRole::Manager {
        return Err(Status::permission_denied(format!(
            "unauthorized peer role: {} (Raft allows swarm-manager)",
            peer.role.ou()
        )));
    }
    if peer.cluster_id != cluster_id {
        return Err(Status::permission_denied(
            "certificate is not from this cluster",
        ));
    }
    Ok(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_without_a_certificate_are_refused() {
        let err = authorize_manager("c1", &Request::new(())).expect_err("refused");
        assert_eq!(err.code(), tonic::Code::PermissionDenied);
        assert_eq!(err.message(), "no client certificate");
    }
}
