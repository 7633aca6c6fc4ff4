//! PEM helpers shared by the certificate code.

use x509_parser::certificate::X509Certificate;
use x509_parser::pem::Pem;
use x509_parser::prelude::FromDer;

use crate::error::{PkiError, Result};

/// The DER bodies of every `CERTIFICATE` block in `pem`, in order.
///
/// Fails when there is no block, a block is malformed, or a block has another
/// label (a key pasted into a certificate file, say).
pub(crate) fn certificate_ders(pem: &str) -> Result<Vec<Vec<u8>>> {
    let mut ders = Vec::new();
    for block in Pem::iter_from_buffer(pem.as_bytes()) {
        let block =
            block.map_err(|e| PkiError::InvalidCertificate(format!("malformed PEM: {e}")))?;
        if block.label != "CERTIFICATE" {
            return Err(PkiError::InvalidCertificate(format!(
                "expected a CERTIFICATE PEM block, found {:?}",
                block.label
            )));
        }
        ders.push(block.contents);
    }
    if ders.is_empty() {
        return Err(PkiError::InvalidCertificate(
            "no PEM certificate found".to_string(),
        ));
    }
    Ok(ders)
}

/// Parses one DER certificate, rejecting trailing bytes.
pub(crate) fn parse_der(der: &[u8]) -> Result<X509Certificate<'_>> {
    let (rest, cert) = X509Certificate::from_der(der)
        .map_err(|e| PkiError::InvalidCertificate(format!("cannot parse X.509: {e}")))?;
    if !rest.is_empty() {
        return Err(PkiError::InvalidCertificate(
            "trailing bytes after the certificate".to_string(),
        ));
    }
    Ok(cert)
}

/// The first text value of a subject attribute iterator, if any.
pub(crate) fn first_str<'a, 'b: 'a>(
    mut attrs: impl Iterator<Item = &'a x509_parser::x509::AttributeTypeAndValue<'b>>,
) -> Option<String> {
    attrs
        .next()
        .and_then(|a| a.as_str().ok())
        .map(str::to_string)
}
