//! Joining a swarm as a worker: pin the root CA with the join token, then
//! trade the token and a CSR for a node certificate.

use std::time::Duration;

use rswarm_pki::{JoinToken, NodeIdentity, RootCa, generate_node_key_and_csr, parse_join_token};
use rswarm_proto::ca::ca_client::CaClient;
use rswarm_proto::ca::node_ca_client::NodeCaClient;
use rswarm_proto::ca::{GetRootCaCertificateRequest, IssueNodeCertificateRequest};
use rswarm_tls::{TlsError, ca_client_config, connect, insecure_client_config};
use rswarm_types::Availability;
use tonic::Code;

use super::{RPC_TIMEOUT, describe};

/// How often the root CA download is tried.
pub const FETCH_ATTEMPTS: u32 = 5;
/// Pause between root CA download attempts.
pub const FETCH_RETRY_DELAY: Duration = Duration::from_secs(1);

/// Why a join failed; each variant names a condition.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    /// The token is not `SWMTKN-1-<digest>-<secret>`.
    #[error("{0}")]
    MalformedToken(String),
    /// The manager could not be reached (after retries, for the root CA).
    #[error("could not connect to {addr}: {reason}")]
    Unreachable {
        /// The manager address given.
        addr: String,
        /// The last error.
        reason: String,
    },
    /// The manager's root CA is not the one the token pins (Docker's words).
    #[error("remote CA does not match fingerprint. Expected: {expected}")]
    CaMismatch {
        /// The pinned SHA-256, 64 hex digits.
        expected: String,
    },
    /// The manager refused the token (gRPC `InvalidArgument`).
    #[error("{0}")]
    InvalidToken(String),
    /// The manager does not support this kind of join (gRPC `Unimplemented`).
    #[error("{0}")]
    NotSupported(String),
    /// The manager refused for another reason.
    #[error("the manager refused the join: {0}")]
    Refused(String),
    /// The certificate the manager returned does not make an identity
    /// under the pinned root.
    #[error("the manager returned an unusable node certificate: {0}")]
    BadCertificate(String),
    /// The node key or CSR could not be generated.
    #[error("cannot generate the node key: {0}")]
    KeyGeneration(String),
    /// The TLS configuration could not be built.
    #[error("{0}")]
    Tls(#[from] TlsError),
}

/// Joins the swarm of the manager at `manager_addr` (`ip:port`) as the
/// token grants (worker or manager: the certificate's role says which) and
/// returns the node's new identity (not yet saved).
///
/// `advertise_ip` is recorded as the node's address (empty: the manager
/// uses the address it sees); `availability` defaults to active.
pub async fn join(
    manager_addr: &str,
    token: &str,
    availability: Option<Availability>,
    advertise_ip: &str,
) -> Result<NodeIdentity, JoinError> {
    let parsed =
        parse_join_token(token.trim()).map_err(|e| JoinError::MalformedToken(e.to_string()))?;
    let root = fetch_pinned_root(manager_addr, &parsed).await?;
    let (key_pem, csr_pem) =
        generate_node_key_and_csr().map_err(|e| JoinError::KeyGeneration(e.to_string()))?;

    let channel = connect(manager_addr, ca_client_config(root.cert_pem())?)
        .await
        .map_err(|e| connect_failed(manager_addr, e))?;
    let request = IssueNodeCertificateRequest {
        csr: csr_pem,
        token: token.trim().to_string(),
        availability: availability
            .map(|a| a.as_str().to_string())
            .unwrap_or_default(),
        addr: advertise_ip.to_string(),
    };
    let mut ca = NodeCaClient::new(channel);
    let call = ca.issue_node_certificate(request);
    let issued = tokio::time::timeout(RPC_TIMEOUT, call)
        .await
        .map_err(|_| JoinError::Unreachable {
            addr: manager_addr.to_string(),
            reason: format!("no answer within {RPC_TIMEOUT:?}"),
        })?
        .map_err(|s| match s.code() {
            Code::InvalidArgument => JoinError::InvalidToken(s.message().to_string()),
            Code::Unimplemented => JoinError::NotSupported(s.message().to_string()),
            Code::Unavailable => JoinError::Unreachable {
                addr: manager_addr.to_string(),
                reason: describe(&s),
            },
            _ => JoinError::Refused(describe(&s)),
        })?
        .into_inner();

    root.verify(&issued.certificate)
        .map_err(|e| JoinError::BadCertificate(e.to_string()))?;
    let identity = NodeIdentity::from_pems(issued.certificate, key_pem, root.cert_pem())
        .map_err(|e| JoinError::BadCertificate(e.to_string()))?;
    if identity.node_id != issued.node_id {
        return Err(JoinError::BadCertificate(format!(
            "it names node {} ({}), expected {}",
            identity.node_id,
            identity.role.as_str(),
            issued.node_id
        )));
    }
    Ok(identity)
}

/// Downloads the root CA without verifying the server (up to
/// [`FETCH_ATTEMPTS`] tries) and keeps it only if it is the one `token` pins.
async fn fetch_pinned_root(addr: &str, token: &JoinToken) -> Result<RootCa, JoinError> {
    let mut last = String::new();
    let mut pem = None;
    for attempt in 0..FETCH_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(FETCH_RETRY_DELAY).await;
        }
        match fetch_root(addr).await {
            Ok(p) => {
                pem = Some(p);
                break;
            }
            Err(e) => {
                tracing::debug!("join: fetching the root CA from {addr} failed: {e}");
                last = e;
            }
        }
    }
    let pem = pem.ok_or_else(|| JoinError::Unreachable {
        addr: addr.to_string(),
        reason: last,
    })?;
    RootCa::from_cert_pem(pem)
        .ok()
        .filter(|root| token.matches_ca(root))
        .ok_or_else(|| JoinError::CaMismatch {
            expected: token
                .ca_digest()
                .map(|d| d.trim_start_matches("sha256:").to_string())
                .unwrap_or_else(|_| token.digest_base36.clone()),
        })
}

async fn fetch_root(addr: &str) -> Result<String, String> {
    let channel = connect(addr, insecure_client_config())
        .await
        .map_err(|e| match e {
            TlsError::Connect { reason, .. } => reason,
            e => e.to_string(),
        })?;
    let mut ca = CaClient::new(channel);
    let call = ca.get_root_ca_certificate(GetRootCaCertificateRequest {});
    match tokio::time::timeout(RPC_TIMEOUT, call).await {
        Ok(Ok(r)) => Ok(r.into_inner().certificate),
        Ok(Err(s)) => Err(describe(&s)),
        Err(_) => Err(format!("no answer within {RPC_TIMEOUT:?}")),
    }
}

fn connect_failed(addr: &str, e: TlsError) -> JoinError {
    match e {
        TlsError::Connect { addr, reason } => JoinError::Unreachable { addr, reason },
        e => JoinError::Unreachable {
            addr: addr.to_string(),
            reason: e.to_string(),
        },
    }
}
