//! rustls configurations for the swarm port.
//!
//! Swarm's TLS policy (`ca/config.go`): TLS 1.2 minimum with ECDHE
//! AES-GCM / ChaCha20 suites only (exactly ring's defaults), the server
//! *requests* a client certificate but does not require one (the CA RPCs
//! must be reachable by joining nodes), and clients always dial the server
//! name `swarm-manager`, which only manager certificates carry.

use std::sync::{Arc, Once};

use rswarm_pki::NodeIdentity;
use rustls::crypto::{CryptoProvider, ring};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig, SupportedProtocolVersion};

use crate::error::TlsError;
use crate::insecure::NoServerVerification;

/// The name clients verify in the server certificate (a DNS SAN of every
/// manager certificate).
pub const SERVER_NAME: &str = "swarm-manager";

/// The ALPN protocol both sides offer: gRPC runs over HTTP/2.
pub const ALPN_H2: &[u8] = b"h2";

/// TLS 1.3 and 1.2; nothing older.
static VERSIONS: &[&SupportedProtocolVersion] = &[&rustls::version::TLS13, &rustls::version::TLS12];

/// Installs ring as the process-wide rustls provider unless one is
/// installed already. Safe to call any number of times.
pub fn install_default_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err means another provider was installed first: keep it.
        let _ = ring::default_provider().install_default();
    });
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

/// The server side for a manager: presents the node certificate, asks for
/// (but does not require) a client certificate and verifies any given one
/// against the cluster root, offers ALPN `h2`.
pub fn server_config(identity: &NodeIdentity) -> Result<Arc<ServerConfig>, TlsError> {
    install_default_provider();
    let roots = root_store(&identity.root_ca_pem)?;
    let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider())
        .allow_unauthenticated()
        .build()
        .map_err(|e| TlsError::Verifier(e.to_string()))?;
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(VERSIONS)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            cert_chain(&identity.cert_pem)?,
            private_key(&identity.key_pem)?,
        )?;
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok(Arc::new(config))
}

/// The client side for a member node: trusts only the cluster root and
/// presents the node certificate. Dial with [`SERVER_NAME`].
pub fn client_config(identity: &NodeIdentity) -> Result<Arc<ClientConfig>, TlsError> {
    install_default_provider();
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(VERSIONS)?
        .with_root_certificates(root_store(&identity.root_ca_pem)?)
        .with_client_auth_cert(
            cert_chain(&identity.cert_pem)?,
            private_key(&identity.key_pem)?,
        )?;
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok(Arc::new(config))
}

/// The client side for a node that has the (pinned) root but no
/// certificate yet: verifies the server against `root_ca_pem`, presents
/// nothing. Used for `NodeCA.IssueNodeCertificate` during a join.
pub fn ca_client_config(root_ca_pem: &str) -> Result<Arc<ClientConfig>, TlsError> {
    install_default_provider();
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(VERSIONS)?
        .with_root_certificates(root_store(root_ca_pem)?)
        .with_no_client_auth();
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok(Arc::new(config))
}

/// A client that does **not** verify the server's certificate (it still
/// checks the handshake signatures). Only for downloading the root CA
/// during a join: the caller must then check the downloaded root against
/// the digest pinned in the join token before trusting anything.
pub fn insecure_client_config() -> Arc<ClientConfig> {
    install_default_provider();
    let verifier = Arc::new(NoServerVerification::new(
        ring::default_provider().signature_verification_algorithms,
    ));
    let mut config = ClientConfig::builder_with_protocol_versions(VERSIONS)
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    Arc::new(config)
}

/// Every certificate of a PEM chain (leaf first).
pub(crate) fn cert_chain(pem: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bad = |reason: String| TlsError::InvalidPem {
        what: "node certificate",
        reason,
    };
    let chain = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    if chain.is_empty() {
        return Err(bad("no PEM certificate found".into()));
    }
    Ok(chain)
}

fn private_key(pem: &str) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|e| TlsError::InvalidPem {
        what: "node key",
        reason: e.to_string(),
    })
}

/// The trust anchors of a root bundle; every certificate must be usable.
fn root_store(pem: &str) -> Result<Arc<RootCertStore>, TlsError> {
    let bad = |reason: String| TlsError::InvalidPem {
        what: "root CA certificate",
        reason,
    };
    let mut store = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        let cert = cert.map_err(|e| bad(e.to_string()))?;
        store.add(cert).map_err(|e| bad(e.to_string()))?;
    }
    if store.is_empty() {
        return Err(bad("no PEM certificate found".into()));
    }
    Ok(Arc::new(store))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_pems_are_named() {
        let err = root_store("nothing").expect_err("empty");
        assert_eq!(
            err.to_string(),
            "invalid root CA certificate: no PEM certificate found"
        );
        let err = cert_chain("").expect_err("empty chain");
        assert!(
            err.to_string().starts_with("invalid node certificate"),
            "{err}"
        );
        let err = private_key("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
            .expect_err("no key");
        assert!(err.to_string().starts_with("invalid node key"), "{err}");
    }

    #[test]
    fn insecure_config_offers_h2() {
        let c = insecure_client_config();
        assert_eq!(c.alpn_protocols, vec![b"h2".to_vec()]);
    }
}
