//! The one error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong in the PKI: each variant names a condition.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// A join token that is not `SWMTKN-1-<50 base36>-<25 base36>`.
    #[error("invalid join token: {0}")]
    InvalidJoinToken(String),

    /// An unlock key that is not `SWMKEY-1-<base64 of 32 bytes>`.
    #[error("invalid unlock key: {0}")]
    InvalidUnlockKey(String),

    /// PEM or DER that does not hold a usable X.509 certificate.
    #[error("invalid certificate: {0}")]
    InvalidCertificate(String),

    /// PEM that does not hold a usable PKCS#8 private key.
    #[error("invalid private key: {0}")]
    InvalidPrivateKey(String),

    /// A certificate signing request that cannot be parsed, or whose
    /// signature does not verify.
    #[error("invalid certificate signing request: {0}")]
    InvalidCsr(String),

    /// A node ID or cluster ID that cannot go into a certificate subject.
    #[error("invalid certificate subject: {0}")]
    InvalidSubject(String),

    /// A node certificate whose OU is neither `swarm-manager` nor `swarm-worker`.
    #[error("certificate has no swarm role: OU is {0:?}, expected swarm-manager or swarm-worker")]
    UnknownRole(String),

    /// A certificate that does not chain up to the cluster root CA.
    #[error("certificate is not signed by the cluster root CA: {0}")]
    UntrustedCertificate(String),

    /// A private key whose public half is not the certificate's public key.
    #[error("private key does not match the certificate's public key")]
    KeyMismatch,

    /// Signing was asked of a root CA that was loaded without its key.
    #[error("the root CA has no signing key on this node")]
    NoSigningKey,

    /// A time that cannot be written into a certificate.
    #[error("time out of range for a certificate: {0}")]
    TimeOutOfRange(String),

    /// Key generation, CSR creation or signing failed inside rcgen.
    #[error("certificate generation failed: {0}")]
    Generation(#[source] rcgen::Error),

    /// One of the node identity files does not exist.
    #[error("{} is missing", path.display())]
    IdentityFileMissing {
        /// The missing file.
        path: PathBuf,
    },

    /// One of the node identity files exists but cannot be used.
    #[error("{} is corrupt: {reason}", path.display())]
    IdentityFileCorrupt {
        /// The bad file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// A filesystem operation failed.
    #[error("cannot {action} {}: {error}", path.display())]
    Io {
        /// What was being done: "read", "write", "create directory", ...
        action: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
}

impl PkiError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        error: std::io::Error,
    ) -> Self {
        PkiError::Io {
            action,
            path: path.into(),
            error,
        }
    }
}

/// Result alias for this crate.
pub type Result<T, E = PkiError> = std::result::Result<T, E>;
