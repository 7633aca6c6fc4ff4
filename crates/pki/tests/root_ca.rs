//! Root CA generation, loading and digest.

use chrono::{DateTime, Duration, Utc};
use rswarm_pki::{PkiError, ROOT_CA_CN, RootCa};
use sha2::{Digest, Sha256};
use x509_parser::pem::parse_x509_pem;

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 0).expect("fixed time")
}

#[test]
fn generated_root_is_p256_ca_named_swarm_ca_for_20_years() {
    let root = RootCa::generate(now()).expect("root");
    assert!(root.can_sign());
    assert!(root.cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(
        root.key_pem()
            .expect("key")
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );

    let (_, pem) = parse_x509_pem(root.cert_pem().as_bytes()).expect("pem");
    let cert = pem.parse_x509().expect("x509");
    assert!(cert.is_ca());
    assert_eq!(cert.subject().to_string(), "CN=swarm-ca");
    assert_eq!(cert.issuer().to_string(), "CN=swarm-ca");
    assert_eq!(ROOT_CA_CN, "swarm-ca");
    cert.verify_signature(None).expect("self-signed");

    let nb = cert.validity().not_before.timestamp();
    let na = cert.validity().not_after.timestamp();
    assert_eq!(nb, (now() - Duration::hours(1)).timestamp());
    assert_eq!(na, now().timestamp() + 630_720_000);

    // id-ecPublicKey with the prime256v1 curve.
    let spki = cert.public_key();
    assert_eq!(spki.algorithm.algorithm.to_id_string(), "1.2.840.10045.2.1");
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .expect("curve");
    assert_eq!(curve.to_id_string(), "1.2.840.10045.3.1.7");
    let ku = cert.key_usage().expect("ku").expect("ku present").value;
    assert!(ku.key_cert_sign() && ku.crl_sign());
}

#[test]
fn digest_is_sha256_of_exact_pem_bytes_and_stable() {
    let root = RootCa::generate(now()).expect("root");
    let expected: [u8; 32] = Sha256::digest(root.cert_pem().as_bytes()).into();
    assert_eq!(root.digest_bytes(), expected);
    let hex: String = expected.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(root.digest(), format!("sha256:{hex}"));

    let b36 = root.digest_base36();
    assert_eq!(b36.len(), 50);
    assert!(
        b36.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
    );

    // Stable across reloads and key removal.
    let reloaded = RootCa::from_pems(root.cert_pem(), root.key_pem().expect("key")).expect("load");
    assert_eq!(reloaded.digest(), root.digest());
    assert_eq!(reloaded.digest_base36(), b36);
    assert_eq!(root.without_key().digest_base36(), b36);
    assert_eq!(root.digest(), root.digest());

    // Any change to the PEM bytes changes the digest (the bundle is pinned).
    let padded = RootCa::from_cert_pem(format!("{}\n", root.cert_pem())).expect("padded");
    assert_ne!(padded.digest(), root.digest());
}

/// A root made by `openssl req -x509 -newkey ec ... -subj /CN=swarm-ca`
/// (test-only key); its digests were computed with `sha256sum` and Python.
const OPENSSL_ROOT_CRT: &str = include_str!("fixtures/openssl-root.crt");
const OPENSSL_ROOT_KEY: &str = include_str!("fixtures/openssl-root.key");

#[test]
fn fixture_root_has_known_digests() {
    let root = RootCa::from_pems(OPENSSL_ROOT_CRT, OPENSSL_ROOT_KEY).expect("openssl root");
    assert_eq!(
        root.digest(),
        "sha256:885dcd6d2dd2fa1ae1e884ea4bce9d54b6c26c6097eb677c7803685c8dedeac5"
    );
    assert_eq!(
        root.digest_base36(),
        "3ectr8sozrea21niusf73b348gwtfavypr03p2e1yfyekh9vwl"
    );
    let token =
        rswarm_pki::parse_join_token(&rswarm_pki::generate_join_token(&root)).expect("token");
    assert_eq!(token.ca_digest().expect("digest"), root.digest());

    // A root made elsewhere signs node certificates that verify against it.
    let (cert, _) = root
        .issue_self("node1", rswarm_types::NodeRole::Manager, "cluster1", now())
        .expect("issue");
    root.verify(&cert).expect("chain");
}

#[test]
fn base36_digest_decodes_to_sha256() {
    let root = RootCa::generate(now()).expect("root");
    let d = root.digest_bytes();
    let as_int_hi = u128::from_be_bytes(d[..16].try_into().expect("16"));
    let as_int_lo = u128::from_be_bytes(d[16..].try_into().expect("16"));
    // Cross-check the base36 form by decoding it with u128 arithmetic.
    let mut hi: u128 = 0;
    let mut lo: u128 = 0;
    for c in root.digest_base36().bytes() {
        let v = u128::from(char::from(c).to_digit(36).expect("digit"));
        // (hi, lo) = (hi, lo) * 36 + v, in 128-bit halves.
        let lo_lo = (lo & u128::from(u64::MAX)) * 36 + v;
        let lo_hi = (lo >> 64) * 36 + (lo_lo >> 64);
        lo = (lo_hi << 64) | (lo_lo & u128::from(u64::MAX));
        hi = hi * 36 + (lo_hi >> 64);
    }
    assert_eq!((hi, lo), (as_int_hi, as_int_lo));
}

#[test]
fn loading_checks_the_pems() {
    let a = RootCa::generate(now()).expect("a");
    let b = RootCa::generate(now()).expect("b");
    let err = RootCa::from_pems(a.cert_pem(), b.key_pem().expect("key")).expect_err("mismatch");
    assert!(matches!(err, PkiError::KeyMismatch), "{err}");

    let err = RootCa::from_pems(a.cert_pem(), "junk").expect_err("bad key");
    assert!(matches!(err, PkiError::InvalidPrivateKey(_)), "{err}");

    let err = RootCa::from_cert_pem("junk").expect_err("bad cert");
    assert!(err.to_string().contains("no PEM certificate"), "{err}");

    // A node certificate is not a CA.
    let (cert, _) = a
        .issue_self("node1", rswarm_types::NodeRole::Worker, "cluster1", now())
        .expect("issue");
    let err = RootCa::from_cert_pem(cert).expect_err("leaf as root");
    assert!(err.to_string().contains("not a CA"), "{err}");
}

#[test]
fn cert_only_root_cannot_sign_and_hides_key_in_debug() {
    let root = RootCa::generate(now()).expect("root");
    let dbg = format!("{root:?}");
    assert!(!dbg.contains("PRIVATE KEY"), "{dbg}");
    assert!(dbg.contains("redacted"));

    let verify_only = root.without_key();
    assert!(!verify_only.can_sign());
    let err = verify_only
        .issue_self("node1", rswarm_types::NodeRole::Worker, "c", now())
        .expect_err("no key");
    assert!(matches!(err, PkiError::NoSigningKey), "{err}");
}
