//! Who is on the other end: the swarm identity in a peer's certificate.

use rswarm_pki::cert_info::role_from_ou;
use rswarm_types::NodeRole;
use rustls::pki_types::CertificateDer;
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;
use x509_parser::x509::AttributeTypeAndValue;

use crate::error::TlsError;

/// A peer as its verified certificate names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerIdentity {
    /// The subject CN.
    pub node_id: String,
    /// From the subject OU (`swarm-worker` / `swarm-manager`).
    pub role: NodeRole,
    /// The subject O.
    pub cluster_id: String,
}

/// Reads CN, OU and O from the leaf (first certificate) of a chain that
/// rustls has already verified against the cluster root.
///
/// Fails with [`TlsError::NoPeerCertificate`] for an empty chain and
/// [`TlsError::BadPeerCertificate`] when the leaf does not parse or lacks a
/// CN, a swarm OU or an O.
pub fn peer_identity(chain: &[CertificateDer<'_>]) -> Result<PeerIdentity, TlsError> {
    let leaf = chain.first().ok_or(TlsError::NoPeerCertificate)?;
    let bad = |why: String| TlsError::BadPeerCertificate(why);
    let (_, cert) = X509Certificate::from_der(leaf.as_ref())
        .map_err(|e| bad(format!("cannot parse X.509: {e}")))?;
    let subject = cert.subject();
    let node_id = first_str(subject.iter_common_name())
        .ok_or_else(|| bad("subject has no CN (node ID)".into()))?;
    let ous: Vec<&str> = subject
        .iter_organizational_unit()
        .filter_map(|a| a.as_str().ok())
        .collect();
    let role = ous.iter().find_map(|ou| role_from_ou(ou)).ok_or_else(|| {
        bad(format!(
            "OU is {:?}, expected swarm-manager or swarm-worker",
            ous.join(",")
        ))
    })?;
    let cluster_id = first_str(subject.iter_organization())
        .ok_or_else(|| bad("subject has no O (cluster ID)".into()))?;
    Ok(PeerIdentity {
        node_id,
        role,
        cluster_id,
    })
}

/// The first text value of a subject attribute iterator.
fn first_str<'a, 'b: 'a>(
    mut attrs: impl Iterator<Item = &'a AttributeTypeAndValue<'b>>,
) -> Option<String> {
    attrs
        .next()
        .and_then(|a| a.as_str().ok())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_pki::RootCa;
    use rustls::pki_types::pem::PemObject;

    fn ders(pem: &str) -> Vec<CertificateDer<'static>> {
        CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<_, _>>()
            .expect("pem")
    }

    #[test]
    fn reads_cn_ou_o_of_the_leaf() {
        let now = chrono::Utc::now();
        let root = RootCa::generate(now).expect("root");
        let (cert, _) = root
            .issue_self("node1", NodeRole::Worker, "cluster1", now)
            .expect("issue");
        let p = peer_identity(&ders(&cert)).expect("peer");
        assert_eq!(
            p,
            PeerIdentity {
                node_id: "node1".into(),
                role: NodeRole::Worker,
                cluster_id: "cluster1".into()
            }
        );
        let (cert, _) = root
            .issue_self("m1", NodeRole::Manager, "cluster1", now)
            .expect("issue");
        assert_eq!(
            peer_identity(&ders(&cert)).expect("peer").role,
            NodeRole::Manager
        );
    }

    #[test]
    fn refuses_empty_and_non_swarm_certificates() {
        assert!(matches!(
            peer_identity(&[]),
            Err(TlsError::NoPeerCertificate)
        ));
        // The root CA has CN swarm-ca but no OU / O.
        let root = RootCa::generate(chrono::Utc::now()).expect("root");
        let err = peer_identity(&ders(root.cert_pem())).expect_err("root is no node");
        assert!(err.to_string().contains("expected swarm-manager"), "{err}");
        let err = peer_identity(&[CertificateDer::from(vec![1, 2, 3])]).expect_err("garbage");
        assert!(err.to_string().contains("cannot parse X.509"), "{err}");
    }
}
