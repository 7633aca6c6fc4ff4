//! Node key pairs and certificate signing requests.

use rcgen::{CertificateParams, DistinguishedName, KeyPair, PKCS_ECDSA_P256_SHA256};

use crate::error::{PkiError, Result};

/// A fresh ECDSA P-256 node key and a CSR for it: `(key_pem, csr_pem)`.
///
/// The key is PKCS#8 (`-----BEGIN PRIVATE KEY-----`). The CSR carries an
/// empty subject and no extensions: the CA imposes the subject and SANs, and
/// only trusts the public key.
pub fn generate_node_key_and_csr() -> Result<(String, String)> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(PkiError::Generation)?;
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    let csr = params
        .serialize_request(&key)
        .map_err(PkiError::Generation)?;
    let csr_pem = csr.pem().map_err(PkiError::Generation)?;
    Ok((key.serialize_pem(), csr_pem))
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::certification_request::X509CertificationRequest;
    use x509_parser::prelude::FromDer;

    #[test]
    fn key_is_pkcs8_and_csr_verifies() {
        let (key_pem, csr_pem) = generate_node_key_and_csr().expect("generate");
        assert!(
            key_pem.starts_with("-----BEGIN PRIVATE KEY-----"),
            "{key_pem}"
        );
        assert!(
            csr_pem.starts_with("-----BEGIN CERTIFICATE REQUEST-----"),
            "{csr_pem}"
        );

        let (_, pem) = x509_parser::pem::parse_x509_pem(csr_pem.as_bytes()).expect("pem");
        let (_, csr) = X509CertificationRequest::from_der(&pem.contents).expect("der");
        csr.verify_signature().expect("self-signature");
        assert_eq!(csr.certification_request_info.subject.iter().count(), 0);

        // The CSR's public key is the key's public key.
        let key = KeyPair::from_pem(&key_pem).expect("key");
        assert_eq!(
            csr.certification_request_info
                .subject_pki
                .subject_public_key
                .data
                .as_ref(),
            key.public_key_raw()
        );
    }

    #[test]
    fn keys_are_distinct() {
        let (a, _) = generate_node_key_and_csr().expect("a");
        let (b, _) = generate_node_key_and_csr().expect("b");
        assert_ne!(a, b);
    }
}
