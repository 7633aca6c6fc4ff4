//! What a node reports about the certificate it actually holds
//! (`NodeDescription.TLSInfo`), as swarmkit's agent does: the root it
//! trusts, and the raw subject and public key of its certificate's issuer
//! (base64 of the DER). `node ls` compares these with the cluster's root:
//! a node whose certificate another root issued shows `Needs Rotation`.

use base64::Engine;
use rswarm_types::TlsInfo;

use crate::Result;
use crate::pem::{certificate_ders, parse_der};

/// The TLS info of a node holding `cert_pem` (leaf first, then any
/// intermediates) and trusting `root_ca_pem`. The issuer's public key is
/// taken from whichever of those certificates has the leaf's issuer as
/// subject and whose key verifies the leaf's signature (roots may share
/// the subject `CN=swarm-ca`); it is empty when none does.
pub fn node_tls_info(cert_pem: &str, root_ca_pem: &str) -> Result<TlsInfo> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let chain = certificate_ders(cert_pem)?;
    let roots = certificate_ders(root_ca_pem)?;
    let Some(leaf_der) = chain.first() else {
        return Err(crate::PkiError::InvalidCertificate(
            "no certificate in the node certificate file".into(),
        ));
    };
    let leaf = parse_der(leaf_der)?;
    let issuer = leaf.tbs_certificate.issuer.as_raw();
    let mut issuer_key = Vec::new();
    for der in chain.iter().skip(1).chain(roots.iter()) {
        let cert = parse_der(der)?;
        if cert.tbs_certificate.subject.as_raw() == issuer
            && leaf
                .verify_signature(Some(&cert.tbs_certificate.subject_pki))
                .is_ok()
        {
            issuer_key = cert.tbs_certificate.subject_pki.raw.to_vec();
            break;
        }
    }
    Ok(TlsInfo {
        trust_root: root_ca_pem.to_string(),
        cert_issuer_subject: b64.encode(issuer),
        cert_issuer_public_key: b64.encode(issuer_key),
    })
}
