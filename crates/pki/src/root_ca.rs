//! The cluster root CA: generation, loading, digest and node certificate
//! signing.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName,
    DnType, DnValue, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256, SanType, SerialNumber,
};
use rswarm_types::NodeRole;
use sha2::{Digest, Sha256};
use x509_parser::certificate::X509Certificate;

use crate::base36;
use crate::csr::generate_node_key_and_csr;
use crate::error::{PkiError, Result};
use crate::pem::{certificate_ders, parse_der};

/// Common name of the root CA (`DefaultRootCN`).
pub const ROOT_CA_CN: &str = "swarm-ca";
/// Root CA lifetime: 630720000 s = 20 years (`RootCAExpiration`).
pub const ROOT_CA_VALIDITY: Duration = Duration::seconds(630_720_000);
/// Node certificate lifetime when none (or less than the minimum) is asked.
pub const DEFAULT_NODE_CERT_VALIDITY: Duration = Duration::hours(2160);
/// Shortest node certificate lifetime the CA honours.
pub const MIN_NODE_CERT_VALIDITY: Duration = Duration::hours(1);
/// NotBefore is set this far in the past to absorb clock skew (`CertBackdate`).
pub const CERT_BACKDATE: Duration = Duration::hours(1);

/// The cluster root CA: the exact certificate PEM and, on managers, its key.
///
/// The PEM bytes are kept exactly as given because the join-token digest is
/// the SHA-256 of those bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct RootCa {
    cert_pem: String,
    key_pem: Option<String>,
}

impl fmt::Debug for RootCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RootCa")
            .field("digest", &self.digest())
            .field("key_pem", &self.key_pem.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl RootCa {
    /// A new self-signed root: ECDSA P-256, CN `swarm-ca`, valid from
    /// `now - 1h` until `now + 20 years`.
    pub fn generate(now: DateTime<Utc>) -> Result<Self> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(PkiError::Generation)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = go_name(&[(DnType::CommonName, ROOT_CA_CN)]);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.not_before = to_cert_time(now - CERT_BACKDATE)?;
        params.not_after = to_cert_time(now + ROOT_CA_VALIDITY)?;
        params.serial_number = Some(random_serial());
        let cert = params.self_signed(&key).map_err(PkiError::Generation)?;
        Ok(RootCa {
            cert_pem: cert.pem(),
            key_pem: Some(key.serialize_pem()),
        })
    }

    /// A root that can sign: the certificate and its PKCS#8 key, checked to
    /// belong together.
    pub fn from_pems(cert_pem: impl Into<String>, key_pem: impl Into<String>) -> Result<Self> {
        let cert_pem = cert_pem.into();
        let key_pem = key_pem.into();
        let ders = validate_root_bundle(&cert_pem)?;
        let key = parse_key(&key_pem)?;
        let cert = parse_der(&ders[0])?;
        if !key_matches_cert(&key, &cert) {
            return Err(PkiError::KeyMismatch);
        }
        Ok(RootCa {
            cert_pem,
            key_pem: Some(key_pem),
        })
    }

    /// A root that can only verify (workers, joining nodes): the certificate
    /// PEM, a bundle of one or more CA certificates.
    pub fn from_cert_pem(cert_pem: impl Into<String>) -> Result<Self> {
        let cert_pem = cert_pem.into();
        validate_root_bundle(&cert_pem)?;
        Ok(RootCa {
            cert_pem,
            key_pem: None,
        })
    }

    /// The certificate PEM, byte for byte as generated or loaded.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The signing key PEM, when this node holds it.
    pub fn key_pem(&self) -> Option<&str> {
        self.key_pem.as_deref()
    }

    /// True when this root can sign node certificates.
    pub fn can_sign(&self) -> bool {
        self.key_pem.is_some()
    }

    /// The same root without its key, for handing to nodes.
    pub fn without_key(&self) -> RootCa {
        RootCa {
            cert_pem: self.cert_pem.clone(),
            key_pem: None,
        }
    }

    /// SHA-256 of the exact certificate PEM bytes.
    pub fn digest_bytes(&self) -> [u8; 32] {
        Sha256::digest(self.cert_pem.as_bytes()).into()
    }

    /// `sha256:<64 hex digits>`.
    pub fn digest(&self) -> String {
        format!("sha256:{}", base36::hex(&self.digest_bytes()))
    }

    /// The digest as it appears in join tokens: base 36, zero-padded to 50.
    pub fn digest_base36(&self) -> String {
        base36::encode_256(&self.digest_bytes())
    }

    /// Signs a node certificate for the public key in `csr_pem`.
    ///
    /// Only the CSR's public key is used; the subject is imposed:
    /// `CN=<node_id>, OU=swarm-manager|swarm-worker, O=<cluster_id>`, DNS
    /// SANs `[OU, CN]` plus `swarm-ca` for managers, key usages
    /// digitalSignature + keyEncipherment, EKU serverAuth + clientAuth.
    /// Valid from `now - 1h` to `now + validity`; like Swarm, a validity
    /// under one hour is replaced by the 90-day default.
    pub fn issue_node_certificate(
        &self,
        csr_pem: &str,
        node_id: &str,
        role: NodeRole,
        cluster_id: &str,
        validity: Duration,
        now: DateTime<Utc>,
    ) -> Result<String> {
        check_subject_value("node ID", node_id)?;
        check_subject_value("cluster ID", cluster_id)?;
        let key_pem = self.key_pem.as_deref().ok_or(PkiError::NoSigningKey)?;
        let key = parse_key(key_pem)?;
        let issuer = Issuer::from_ca_cert_pem(&self.cert_pem, key)
            .map_err(|e| PkiError::InvalidCertificate(format!("root CA: {e}")))?;
        let mut csr = CertificateSigningRequestParams::from_pem(csr_pem)
            .map_err(|e| PkiError::InvalidCsr(e.to_string()))?;

        let validity = if validity < MIN_NODE_CERT_VALIDITY {
            DEFAULT_NODE_CERT_VALIDITY
        } else {
            validity
        };
        csr.params = node_params(node_id, role, cluster_id)?;
        csr.params.not_before = to_cert_time(now - CERT_BACKDATE)?;
        csr.params.not_after = to_cert_time(now + validity)?;
        let cert = csr.signed_by(&issuer).map_err(PkiError::Generation)?;
        Ok(cert.pem())
    }

    /// Key and certificate for a node of this CA in one step (the first
    /// manager at `swarm init`): returns `(cert_pem, key_pem)` with the
    /// default 90-day validity.
    pub fn issue_self(
        &self,
        node_id: &str,
        role: NodeRole,
        cluster_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, String)> {
        let (key_pem, csr_pem) = generate_node_key_and_csr()?;
        let cert_pem = self.issue_node_certificate(
            &csr_pem,
            node_id,
            role,
            cluster_id,
            DEFAULT_NODE_CERT_VALIDITY,
            now,
        )?;
        Ok((cert_pem, key_pem))
    }

    /// Checks that `cert_pem` chains up to this root (see [`crate::verify_chain`]).
    pub fn verify(&self, cert_pem: &str) -> Result<()> {
        crate::chain::verify_chain(cert_pem, self)
    }
}

/// A subject encoded as Go's `crypto/x509` encodes a `pkix.Name`: each
/// value a PrintableString when it can be one, else a UTF8String, so the
/// raw subject bytes (`CertIssuerSubject` in `swarm inspect`) are the ones
/// Docker Swarm shows.
fn go_name(pairs: &[(DnType, &str)]) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    for (kind, value) in pairs {
        let v = match rcgen::string::PrintableString::try_from(*value) {
            Ok(p) => DnValue::PrintableString(p),
            Err(_) => DnValue::Utf8String((*value).to_string()),
        };
        name.push(kind.clone(), v);
    }
    name
}

/// The imposed parameters of a node certificate (validity set by the caller).
fn node_params(node_id: &str, role: NodeRole, cluster_id: &str) -> Result<CertificateParams> {
    let ou = role.ou();
    let mut params = CertificateParams::default();
    params.distinguished_name = go_name(&[
        (DnType::CommonName, node_id),
        (DnType::OrganizationalUnitName, ou),
        (DnType::OrganizationName, cluster_id),
    ]);
    let mut names = vec![ou, node_id];
    if role == NodeRole::Manager {
        names.push(ROOT_CA_CN);
    }
    params.subject_alt_names = names
        .into_iter()
        .map(|n| {
            n.to_string()
                .try_into()
                .map(SanType::DnsName)
                .map_err(|e| PkiError::InvalidSubject(format!("{n:?} as a DNS name: {e}")))
        })
        .collect::<Result<_>>()?;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.use_authority_key_identifier_extension = true;
    params.serial_number = Some(random_serial());
    Ok(params)
}

/// Node and cluster IDs go into the subject and a DNS SAN: printable ASCII
/// without spaces, at most 64 characters (the X.520 CN limit).
fn check_subject_value(what: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(PkiError::InvalidSubject(format!("{what} is empty")));
    }
    if value.len() > 64 {
        return Err(PkiError::InvalidSubject(format!(
            "{what} is longer than 64 characters"
        )));
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(PkiError::InvalidSubject(format!(
            "{what} {value:?} must be printable ASCII without spaces"
        )));
    }
    Ok(())
}

/// Checks a root bundle: at least one certificate, each a CA.
fn validate_root_bundle(cert_pem: &str) -> Result<Vec<Vec<u8>>> {
    let ders = certificate_ders(cert_pem)?;
    for der in &ders {
        let cert = parse_der(der)?;
        if !cert.is_ca() {
            return Err(PkiError::InvalidCertificate(format!(
                "root certificate {} is not a CA",
                cert.subject()
            )));
        }
    }
    Ok(ders)
}

/// A PKCS#8 private key from PEM.
pub(crate) fn parse_key(key_pem: &str) -> Result<KeyPair> {
    KeyPair::from_pem(key_pem).map_err(|e| PkiError::InvalidPrivateKey(e.to_string()))
}

/// True when `key` is the private half of `cert`'s public key.
pub(crate) fn key_matches_cert(key: &KeyPair, cert: &X509Certificate<'_>) -> bool {
    key.public_key_raw() == cert.public_key().subject_public_key.data.as_ref()
}

/// A random positive 128-bit serial number.
fn random_serial() -> SerialNumber {
    let mut bytes = rswarm_rt::id::random_bytes::<16>();
    // Positive and a fixed 16-byte length: top bit clear, next bit set.
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    SerialNumber::from_slice(&bytes)
}

/// chrono time to the `time` type rcgen uses (whole seconds, as X.509 does).
fn to_cert_time(t: DateTime<Utc>) -> Result<time::OffsetDateTime> {
    time::OffsetDateTime::from_unix_timestamp(t.timestamp())
        .map_err(|e| PkiError::TimeOutOfRange(format!("{t}: {e}")))
}
