//! Reading a node certificate back: who it names and when it is valid.

use chrono::{DateTime, Utc};
use rswarm_types::NodeRole;
use x509_parser::extensions::GeneralName;
use x509_parser::time::ASN1Time;

use crate::base36;
use crate::error::{PkiError, Result};
use crate::pem::{certificate_ders, first_str, parse_der};

/// What a node certificate says about its node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertInfo {
    /// The subject CN.
    pub node_id: String,
    /// From the subject OU (`swarm-manager` / `swarm-worker`).
    pub role: NodeRole,
    /// The subject O.
    pub cluster_id: String,
    /// Start of validity (backdated one hour by the CA).
    pub not_before: DateTime<Utc>,
    /// End of validity.
    pub not_after: DateTime<Utc>,
    /// DNS subject alternative names, in certificate order.
    pub dns_names: Vec<String>,
    /// Serial number, lower-case hex of its big-endian bytes.
    pub serial: String,
}

impl CertInfo {
    /// True when `now` lies within `[not_before, not_after]`.
    pub fn is_valid_at(&self, now: DateTime<Utc>) -> bool {
        self.not_before <= now && now <= self.not_after
    }

    /// The certificate's lifetime, NotBefore to NotAfter.
    pub fn lifetime(&self) -> chrono::Duration {
        self.not_after - self.not_before
    }
}

/// Parses the first certificate of `pem` (the leaf) as a swarm node
/// certificate.
///
/// Fails when the PEM holds no certificate, or the subject lacks a CN, a
/// swarm OU or an O. The signature is not checked: see [`crate::verify_chain`].
pub fn parse_node_certificate(pem: &str) -> Result<CertInfo> {
    let ders = certificate_ders(pem)?;
    let cert = parse_der(&ders[0])?;
    let subject = cert.subject();

    let node_id = first_str(subject.iter_common_name())
        .ok_or_else(|| PkiError::InvalidCertificate("subject has no CN (node ID)".to_string()))?;
    let ous: Vec<String> = subject
        .iter_organizational_unit()
        .filter_map(|a| a.as_str().ok())
        .map(str::to_string)
        .collect();
    let role = ous
        .iter()
        .find_map(|ou| role_from_ou(ou))
        .ok_or_else(|| PkiError::UnknownRole(ous.join(",")))?;
    let cluster_id = first_str(subject.iter_organization())
        .ok_or_else(|| PkiError::InvalidCertificate("subject has no O (cluster ID)".to_string()))?;

    let dns_names = match cert.subject_alternative_name() {
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .filter_map(|n| match n {
                GeneralName::DNSName(d) => Some((*d).to_string()),
                _ => None,
            })
            .collect(),
        Ok(None) => Vec::new(),
        Err(e) => {
            return Err(PkiError::InvalidCertificate(format!(
                "bad subject alternative names: {e}"
            )));
        }
    };

    let validity = cert.validity();
    Ok(CertInfo {
        node_id,
        role,
        cluster_id,
        not_before: to_chrono(validity.not_before)?,
        not_after: to_chrono(validity.not_after)?,
        dns_names,
        serial: base36::hex(cert.raw_serial()),
    })
}

/// The role an OU names, if it names one.
pub fn role_from_ou(ou: &str) -> Option<NodeRole> {
    [NodeRole::Manager, NodeRole::Worker]
        .into_iter()
        .find(|r| r.ou() == ou)
}

fn to_chrono(t: ASN1Time) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp(t.timestamp(), 0)
        .ok_or_else(|| PkiError::InvalidCertificate(format!("validity time {t} out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ou_maps_to_role() {
        assert_eq!(role_from_ou("swarm-manager"), Some(NodeRole::Manager));
        assert_eq!(role_from_ou("swarm-worker"), Some(NodeRole::Worker));
        assert_eq!(role_from_ou("swarm-admin"), None);
        assert_eq!(role_from_ou(""), None);
    }

    #[test]
    fn garbage_is_rejected() {
        let err = parse_node_certificate("not a pem").expect_err("garbage");
        assert!(err.to_string().contains("no PEM certificate"), "{err}");
        let key_only = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        let err = parse_node_certificate(key_only).expect_err("key");
        assert!(err.to_string().contains("PRIVATE KEY"), "{err}");
        let bad_der = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let err = parse_node_certificate(bad_der).expect_err("der");
        assert!(matches!(err, PkiError::InvalidCertificate(_)), "{err}");
    }
}
