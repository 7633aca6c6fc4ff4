//! Renewing the node certificate: over mutual TLS with the current
//! certificate, a new key's CSR is traded for a certificate in the role the
//! managers record for the node. This is how a promoted node becomes a
//! manager and a demoted one a worker.

use rswarm_pki::{NodeIdentity, generate_node_key_and_csr};
use rswarm_proto::ca::IssueNodeCertificateRequest;
use rswarm_proto::ca::node_ca_client::NodeCaClient;
use rswarm_tls::{client_config, connect};

use super::{JoinError, RPC_TIMEOUT, describe};

/// A new identity for the node of `identity`, from the first of
/// `managers` (`ip:port`) that answers; not yet saved.
pub async fn renew(
    managers: &[String],
    identity: &NodeIdentity,
) -> Result<NodeIdentity, JoinError> {
    let mut last = JoinError::Unreachable {
        addr: String::new(),
        reason: "no manager address known".into(),
    };
    for addr in managers {
        match renew_at(addr, identity).await {
            Ok(renewed) => return Ok(renewed),
            Err(e) => {
                tracing::debug!("renewing the node certificate at {addr}: {e}");
                last = e;
            }
        }
    }
    Err(last)
}

async fn renew_at(addr: &str, identity: &NodeIdentity) -> Result<NodeIdentity, JoinError> {
    let (key_pem, csr_pem) =
        generate_node_key_and_csr().map_err(|e| JoinError::KeyGeneration(e.to_string()))?;
    let unreachable = |reason: String| JoinError::Unreachable {
        addr: addr.to_string(),
        reason,
    };
    let channel = connect(addr, client_config(identity)?)
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    let request = IssueNodeCertificateRequest {
        csr: csr_pem,
        ..Default::default()
    };
    let issued = tokio::time::timeout(
        RPC_TIMEOUT,
        NodeCaClient::new(channel).issue_node_certificate(request),
    )
    .await
    .map_err(|_| unreachable(format!("no answer within {RPC_TIMEOUT:?}")))?
    .map_err(|s| JoinError::Refused(describe(&s)))?
    .into_inner();
    let root = identity
        .root_ca()
        .map_err(|e| JoinError::BadCertificate(e.to_string()))?;
    root.verify(&issued.certificate)
        .map_err(|e| JoinError::BadCertificate(e.to_string()))?;
    let renewed = NodeIdentity::from_pems(issued.certificate, key_pem, root.cert_pem())
        .map_err(|e| JoinError::BadCertificate(e.to_string()))?;
    if renewed.node_id != identity.node_id || renewed.cluster_id != identity.cluster_id {
        return Err(JoinError::BadCertificate(format!(
            "it names node {} of cluster {}, expected {} of {}",
            renewed.node_id, renewed.cluster_id, identity.node_id, identity.cluster_id
        )));
    }
    Ok(renewed)
}
