//! The cluster as clients see it: `ClusterInfo` (inside `/info`) and
//! `Swarm` (`GET /swarm`, ClusterInfo plus join tokens).
//!
//! These are separate output types, not the stored [`Cluster`], so the
//! root CA key can never leak: there is no field for it, and the
//! user-supplied `SigningCAKey` of the spec is blanked as swarmkit does.

use base64::Engine as _;
use rswarm_types::{Cluster, JoinTokens, Meta, SwarmSpec};
use serde::Serialize;

/// `TLSInfo` of the cluster's root CA (the domain type; same JSON).
pub use rswarm_types::TlsInfo;

/// `swarm.ClusterInfo`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ClusterInfo {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(flatten)]
    pub meta: Meta,
    pub spec: SwarmSpec,
    #[serde(rename = "TLSInfo")]
    pub tls_info: TlsInfo,
    pub root_rotation_in_progress: bool,
    /// `null` until set at `swarm init --default-addr-pool`, as in Docker.
    pub default_addr_pool: Option<Vec<String>>,
    pub subnet_size: u32,
    pub data_path_port: u32,
}

/// `swarm.Swarm`: ClusterInfo flattened, plus the join tokens.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Swarm {
    #[serde(flatten)]
    pub cluster: ClusterInfo,
    pub join_tokens: JoinTokens,
}

impl ClusterInfo {
    /// The client view of a stored cluster (no keys).
    pub fn from_cluster(c: &Cluster) -> ClusterInfo {
        let mut spec = c.spec.clone();
        spec.ca_config.signing_ca_key.clear();
        ClusterInfo {
            id: c.id.clone(),
            meta: c.meta.clone(),
            spec,
            tls_info: tls_info(&c.ca_cert_pem),
            root_rotation_in_progress: false,
            default_addr_pool: (!c.default_addr_pool.is_empty())
                .then(|| c.default_addr_pool.clone()),
            subnet_size: if c.subnet_size == 0 {
                24
            } else {
                c.subnet_size
            },
            data_path_port: if c.data_path_port == 0 {
                4789
            } else {
                c.data_path_port
            },
        }
    }
}

impl Swarm {
    /// The client view of a stored cluster, with its join tokens.
    pub fn from_cluster(c: &Cluster) -> Swarm {
        Swarm {
            cluster: ClusterInfo::from_cluster(c),
            join_tokens: c.join_tokens.clone(),
        }
    }
}

/// TLSInfo of a root CA certificate; subject and key are empty when the
/// PEM does not parse.
pub fn tls_info(ca_cert_pem: &str) -> TlsInfo {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut info = TlsInfo {
        trust_root: ca_cert_pem.to_string(),
        ..Default::default()
    };
    if let Ok((_, pem)) = x509_parser::pem::parse_x509_pem(ca_cert_pem.as_bytes())
        && let Ok(cert) = pem.parse_x509()
    {
        info.cert_issuer_subject = b64.encode(cert.tbs_certificate.subject.as_raw());
        info.cert_issuer_public_key = b64.encode(cert.tbs_certificate.subject_pki.raw);
    }
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_carries_keys_and_fills_network_defaults() {
        let mut c = Cluster {
            id: "c1".into(),
            ca_key_pem: "-----BEGIN PRIVATE KEY-----SECRET".into(),
            ..Default::default()
        };
        c.spec.ca_config.signing_ca_key = "USERKEY".into();
        let j = serde_json::to_string(&Swarm::from_cluster(&c)).expect("json");
        assert!(
            !j.contains("SECRET") && !j.contains("USERKEY") && !j.contains("PRIVATE"),
            "{j}"
        );
        let v: serde_json::Value = serde_json::from_str(&j).expect("parse");
        assert_eq!(v["DefaultAddrPool"], serde_json::Value::Null);
        assert_eq!(v["SubnetSize"], 24);
        assert_eq!(v["DataPathPort"], 4789);
        assert_eq!(v["TLSInfo"]["CertIssuerSubject"], "");
        assert!(v["JoinTokens"]["Worker"].is_string());
        assert_eq!(tls_info("garbage").trust_root, "garbage");
    }
}
