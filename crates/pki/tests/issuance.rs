//! Signing node certificates and reading them back.

use chrono::{DateTime, Duration, Utc};
use rcgen::{CertificateParams, DnType, KeyPair, SanType};
use rswarm_pki::{
    DEFAULT_NODE_CERT_VALIDITY, PkiError, RootCa, generate_node_key_and_csr,
    parse_node_certificate, verify_chain,
};
use rswarm_types::NodeRole;
use x509_parser::pem::parse_x509_pem;

const NODE: &str = "0123456789abcdefghijklmno";
const CLUSTER: &str = "zyxwvutsrqponmlkjihgfedcb";

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 0).expect("fixed time")
}

fn issue(root: &RootCa, role: NodeRole, validity: Duration) -> (String, String) {
    let (key, csr) = generate_node_key_and_csr().expect("csr");
    let cert = root
        .issue_node_certificate(&csr, NODE, role, CLUSTER, validity, now())
        .expect("issue");
    (cert, key)
}

#[test]
fn manager_cert_has_swarm_subject_sans_and_usages() {
    let root = RootCa::generate(now()).expect("root");
    let (cert_pem, key_pem) = issue(&root, NodeRole::Manager, Duration::hours(24));

    let info = parse_node_certificate(&cert_pem).expect("parse");
    assert_eq!(info.node_id, NODE);
    assert_eq!(info.role, NodeRole::Manager);
    assert_eq!(info.cluster_id, CLUSTER);
    assert_eq!(info.dns_names, ["swarm-manager", NODE, "swarm-ca"]);
    assert_eq!(info.not_before, now() - Duration::hours(1));
    assert_eq!(info.not_after, now() + Duration::hours(24));
    assert_eq!(info.lifetime(), Duration::hours(25));
    assert!(info.is_valid_at(now()));
    assert!(!info.is_valid_at(now() + Duration::hours(25)));
    assert_eq!(info.serial.len(), 32);

    let (_, pem) = parse_x509_pem(cert_pem.as_bytes()).expect("pem");
    let cert = pem.parse_x509().expect("x509");
    assert_eq!(
        cert.subject().to_string(),
        format!("CN={NODE}, OU=swarm-manager, O={CLUSTER}")
    );
    assert_eq!(cert.issuer().to_string(), "CN=swarm-ca");
    assert!(!cert.is_ca());
    let ku = cert.key_usage().expect("ku").expect("ku present").value;
    assert!(ku.digital_signature() && ku.key_encipherment());
    assert!(!ku.key_cert_sign());
    let eku = cert
        .extended_key_usage()
        .expect("eku")
        .expect("eku present")
        .value;
    assert!(eku.server_auth && eku.client_auth);
    assert!(!eku.code_signing && !eku.any);

    // The certificate carries the node key's public key.
    let key = KeyPair::from_pem(&key_pem).expect("key");
    assert_eq!(
        cert.public_key().subject_public_key.data.as_ref(),
        key.public_key_raw()
    );

    verify_chain(&cert_pem, &root).expect("chain");
    root.without_key()
        .verify(&cert_pem)
        .expect("chain without key");
}

#[test]
fn worker_cert_has_no_swarm_ca_san() {
    let root = RootCa::generate(now()).expect("root");
    let (cert_pem, _) = issue(&root, NodeRole::Worker, Duration::hours(2));
    let info = parse_node_certificate(&cert_pem).expect("parse");
    assert_eq!(info.role, NodeRole::Worker);
    assert_eq!(info.dns_names, ["swarm-worker", NODE]);
}

#[test]
fn short_validity_falls_back_to_90_days() {
    let root = RootCa::generate(now()).expect("root");
    for v in [Duration::zero(), Duration::minutes(59), Duration::hours(-5)] {
        let (cert_pem, _) = issue(&root, NodeRole::Worker, v);
        let info = parse_node_certificate(&cert_pem).expect("parse");
        assert_eq!(info.not_after, now() + DEFAULT_NODE_CERT_VALIDITY);
        assert_eq!(DEFAULT_NODE_CERT_VALIDITY, Duration::days(90));
    }
    let (cert_pem, _) = issue(&root, NodeRole::Worker, Duration::hours(1));
    let info = parse_node_certificate(&cert_pem).expect("parse");
    assert_eq!(info.not_after, now() + Duration::hours(1));
}

#[test]
fn issue_self_uses_default_validity() {
    let root = RootCa::generate(now()).expect("root");
    let (cert_pem, key_pem) = root
        .issue_self(NODE, NodeRole::Manager, CLUSTER, now())
        .expect("issue_self");
    assert!(key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    let info = parse_node_certificate(&cert_pem).expect("parse");
    assert_eq!(info.not_after - now(), DEFAULT_NODE_CERT_VALIDITY);
    assert_eq!(info.role, NodeRole::Manager);
    verify_chain(&cert_pem, &root).expect("chain");
}

#[test]
fn serials_are_unique_even_for_the_same_key() {
    let root = RootCa::generate(now()).expect("root");
    let (_, csr) = generate_node_key_and_csr().expect("csr");
    let a = root
        .issue_node_certificate(
            &csr,
            NODE,
            NodeRole::Worker,
            CLUSTER,
            Duration::hours(2),
            now(),
        )
        .expect("a");
    let b = root
        .issue_node_certificate(
            &csr,
            NODE,
            NodeRole::Worker,
            CLUSTER,
            Duration::hours(2),
            now(),
        )
        .expect("b");
    let sa = parse_node_certificate(&a).expect("a").serial;
    let sb = parse_node_certificate(&b).expect("b").serial;
    assert_ne!(sa, sb);
}

#[test]
fn csr_subject_and_sans_are_ignored() {
    let root = RootCa::generate(now()).expect("root");
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(vec!["evil.example".to_string()]).expect("params");
    params
        .distinguished_name
        .push(DnType::CommonName, "attacker");
    params
        .distinguished_name
        .push(DnType::OrganizationalUnitName, "swarm-manager");
    params.subject_alt_names.push(SanType::DnsName(
        "swarm-ca".to_string().try_into().expect("ia5"),
    ));
    let csr = params
        .serialize_request(&key)
        .expect("csr")
        .pem()
        .expect("pem");

    let cert_pem = root
        .issue_node_certificate(
            &csr,
            NODE,
            NodeRole::Worker,
            CLUSTER,
            Duration::hours(2),
            now(),
        )
        .expect("issue");
    let info = parse_node_certificate(&cert_pem).expect("parse");
    assert_eq!(info.node_id, NODE);
    assert_eq!(info.role, NodeRole::Worker);
    assert_eq!(info.dns_names, ["swarm-worker", NODE]);
    assert!(!cert_pem.contains("evil"));
}

#[test]
fn bad_csrs_and_subjects_are_rejected() {
    let root = RootCa::generate(now()).expect("root");
    let err = root
        .issue_node_certificate(
            "junk",
            NODE,
            NodeRole::Worker,
            CLUSTER,
            Duration::hours(2),
            now(),
        )
        .expect_err("junk csr");
    assert!(matches!(err, PkiError::InvalidCsr(_)), "{err}");

    // A CSR whose signature does not match its content.
    let (_, csr) = generate_node_key_and_csr().expect("csr");
    let (_, pem) = parse_x509_pem(csr.as_bytes()).expect("pem");
    let mut der = pem.contents.clone();
    let last = der.len() - 1;
    der[last] ^= 0x01;
    let tampered = pem_encode("CERTIFICATE REQUEST", &der);
    let err = root
        .issue_node_certificate(
            &tampered,
            NODE,
            NodeRole::Worker,
            CLUSTER,
            Duration::hours(2),
            now(),
        )
        .expect_err("tampered csr");
    assert!(matches!(err, PkiError::InvalidCsr(_)), "{err}");

    for (node, cluster, want) in [
        ("", CLUSTER, "node ID is empty"),
        (NODE, "", "cluster ID is empty"),
        ("a b", CLUSTER, "printable ASCII"),
    ] {
        let err = root
            .issue_node_certificate(
                &csr,
                node,
                NodeRole::Worker,
                cluster,
                Duration::hours(2),
                now(),
            )
            .expect_err(want);
        assert!(err.to_string().contains(want), "{err}");
    }
    let long = "x".repeat(65);
    let err = root
        .issue_node_certificate(
            &csr,
            &long,
            NodeRole::Worker,
            CLUSTER,
            Duration::hours(2),
            now(),
        )
        .expect_err("long");
    assert!(matches!(err, PkiError::InvalidSubject(_)), "{err}");
}

#[test]
fn chain_from_another_ca_is_rejected() {
    let ours = RootCa::generate(now()).expect("ours");
    let theirs = RootCa::generate(now()).expect("theirs");
    let (cert_pem, _) = issue(&theirs, NodeRole::Manager, Duration::hours(2));
    let err = verify_chain(&cert_pem, &ours).expect_err("foreign cert");
    assert!(matches!(err, PkiError::UntrustedCertificate(_)), "{err}");
    assert!(err.to_string().contains("does not verify"), "{err}");

    // A bundle holding both roots accepts it.
    let bundle =
        RootCa::from_cert_pem(format!("{}{}", ours.cert_pem(), theirs.cert_pem())).expect("bundle");
    verify_chain(&cert_pem, &bundle).expect("bundle chain");

    // The root itself is not a node certificate.
    let err = parse_node_certificate(ours.cert_pem()).expect_err("root as node");
    assert!(matches!(err, PkiError::UnknownRole(_)), "{err}");
}

#[test]
fn chain_with_an_intermediate_verifies() {
    // Build root -> intermediate -> leaf with rcgen directly, then check that
    // a leaf+intermediate PEM verifies against the root.
    let root = RootCa::generate(now()).expect("root");
    let root_key = KeyPair::from_pem(root.key_pem().expect("key")).expect("root key");
    let root_issuer = rcgen::Issuer::from_ca_cert_pem(root.cert_pem(), root_key).expect("issuer");

    let inter_key = KeyPair::generate().expect("inter key");
    let mut inter = CertificateParams::default();
    inter.distinguished_name = rcgen::DistinguishedName::new();
    inter
        .distinguished_name
        .push(DnType::CommonName, "swarm-ca");
    inter
        .distinguished_name
        .push(DnType::OrganizationName, "next");
    inter.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    inter.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign];
    let inter_cert = inter.signed_by(&inter_key, &root_issuer).expect("inter");
    // Not a root (not self-signed) but usable as an issuer for the test.
    let inter_ca =
        RootCa::from_pems(inter_cert.pem(), inter_key.serialize_pem()).expect("intermediate");
    let (leaf, _) = inter_ca
        .issue_self(NODE, NodeRole::Worker, CLUSTER, now())
        .expect("leaf");

    let chain = format!("{leaf}{}", inter_cert.pem());
    verify_chain(&chain, &root).expect("leaf + intermediate");
    let err = verify_chain(&leaf, &root).expect_err("leaf alone");
    assert!(matches!(err, PkiError::UntrustedCertificate(_)), "{err}");
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("ascii"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
