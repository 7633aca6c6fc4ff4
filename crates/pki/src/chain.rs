//! Verifying that a certificate chains up to the cluster root.

use x509_parser::certificate::X509Certificate;

use crate::error::{PkiError, Result};
use crate::pem::{certificate_ders, parse_der};
use crate::root_ca::RootCa;

/// Checks that `cert_pem` (a leaf, optionally followed by intermediates, as
/// the CA issues it) is signed by one of the certificates of `root`.
///
/// Each certificate must be signed by the next one, intermediates must be
/// CAs, and the last must be signed by a root certificate whose subject is
/// its issuer. Validity dates are not checked here: an expired certificate
/// still belongs to the cluster and is renewed, see [`crate::CertInfo::is_valid_at`].
pub fn verify_chain(cert_pem: &str, root: &RootCa) -> Result<()> {
    let chain_ders = certificate_ders(cert_pem)?;
    let chain = chain_ders
        .iter()
        .map(|d| parse_der(d))
        .collect::<Result<Vec<_>>>()?;
    let root_ders = certificate_ders(root.cert_pem())?;
    let roots = root_ders
        .iter()
        .map(|d| parse_der(d))
        .collect::<Result<Vec<_>>>()?;

    for pair in chain.windows(2) {
        let (child, parent) = (&pair[0], &pair[1]);
        if !parent.is_ca() {
            return Err(PkiError::UntrustedCertificate(format!(
                "intermediate {} is not a CA",
                parent.subject()
            )));
        }
        check_signed_by(child, parent)?;
    }

    let last = chain
        .last()
        .ok_or_else(|| PkiError::InvalidCertificate("no PEM certificate found".to_string()))?;
    let mut last_err = None;
    for r in &roots {
        match check_signed_by(last, r) {
            Ok(()) => return Ok(()),
            Err(e) => last_err = Some(e),
        }
    }
    Err(last_err
        .unwrap_or_else(|| PkiError::UntrustedCertificate("the root bundle is empty".to_string())))
}

fn check_signed_by(child: &X509Certificate<'_>, parent: &X509Certificate<'_>) -> Result<()> {
    if child.issuer().as_raw() != parent.subject().as_raw() {
        return Err(PkiError::UntrustedCertificate(format!(
            "issuer {} of {} is not {}",
            child.issuer(),
            child.subject(),
            parent.subject()
        )));
    }
    child
        .verify_signature(Some(parent.public_key()))
        .map_err(|e| {
            PkiError::UntrustedCertificate(format!(
                "signature of {} does not verify against {}: {e}",
                child.subject(),
                parent.subject()
            ))
        })
}
