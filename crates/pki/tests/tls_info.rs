//! The TLS info a node reports is that of the certificate it holds.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rswarm_pki::{RootCa, generate_node_key_and_csr, node_tls_info};
use rswarm_types::NodeRole;
use x509_parser::pem::parse_x509_pem;

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 0).expect("fixed time")
}

fn node_cert(root: &RootCa) -> String {
    let (_key, csr) = generate_node_key_and_csr().expect("csr");
    root.issue_node_certificate(
        &csr,
        "0123456789abcdefghijklmno",
        NodeRole::Worker,
        "zyxwvutsrqponmlkjihgfedcb",
        Duration::hours(24),
        now(),
    )
    .expect("issue")
}

/// Base64 of a root's raw subject and public key, as `swarm inspect`
/// shows them for the cluster.
fn root_facts(root: &RootCa) -> (String, String) {
    let b64 = base64::engine::general_purpose::STANDARD;
    let (_, pem) = parse_x509_pem(root.cert_pem().as_bytes()).expect("pem");
    let cert = pem.parse_x509().expect("x509");
    (
        b64.encode(cert.tbs_certificate.subject.as_raw()),
        b64.encode(cert.tbs_certificate.subject_pki.raw),
    )
}

#[test]
fn a_node_reports_the_issuer_of_its_own_certificate() {
    let cluster = RootCa::generate(now()).expect("cluster root");
    let other = RootCa::generate(now()).expect("another root");
    let (subject, key) = root_facts(&cluster);

    let mine = node_tls_info(&node_cert(&cluster), cluster.cert_pem()).expect("info");
    assert_eq!(mine.trust_root, cluster.cert_pem());
    assert_eq!(
        (mine.cert_issuer_subject, mine.cert_issuer_public_key),
        (subject.clone(), key.clone())
    );

    // A certificate from another root (same CN `swarm-ca`, other key):
    // the subject bytes match, the key does not, so `node ls` shows
    // `Needs Rotation`.
    let both = format!("{}{}", cluster.cert_pem(), other.cert_pem());
    let foreign = node_tls_info(&node_cert(&other), &both).expect("info");
    let (_, other_key) = root_facts(&other);
    assert_eq!(foreign.cert_issuer_public_key, other_key);
    assert_ne!(foreign.cert_issuer_public_key, key);

    // The issuer is not among the certificates the node has: no key.
    let unknown = node_tls_info(&node_cert(&other), cluster.cert_pem()).expect("info");
    assert_eq!(unknown.cert_issuer_public_key, "");
    assert!(node_tls_info("garbage", cluster.cert_pem()).is_err());
}

#[test]
fn the_root_subject_is_encoded_as_docker_swarms() {
    // Go's crypto/x509 writes CN=swarm-ca as a PrintableString; these are
    // the base64 subject bytes `docker swarm inspect` shows.
    let root = RootCa::generate(now()).expect("root");
    assert_eq!(root_facts(&root).0, "MBMxETAPBgNVBAMTCHN3YXJtLWNh");
}
