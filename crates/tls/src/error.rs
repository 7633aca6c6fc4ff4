//! The one error type of this crate.

/// What can go wrong building TLS configurations, connecting, or reading a
/// peer's identity. Each variant names a condition.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate or key PEM that cannot be used.
    #[error("invalid {what}: {reason}")]
    InvalidPem {
        /// Which PEM: "node certificate", "node key", "root CA certificate".
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },

    /// rustls refused the configuration (key does not match, bad root...).
    #[error("cannot build the TLS configuration: {0}")]
    Config(#[from] rustls::Error),

    /// The client-certificate verifier could not be built.
    #[error("cannot build the client certificate verifier: {0}")]
    Verifier(String),

    /// The peer presented no certificate.
    #[error("no client certificate")]
    NoPeerCertificate,

    /// The peer's certificate is not a usable swarm node certificate.
    #[error("invalid peer certificate: {0}")]
    BadPeerCertificate(String),

    /// An address that cannot be turned into an endpoint.
    #[error("invalid address {addr:?}: {reason}")]
    InvalidAddress {
        /// The address given.
        addr: String,
        /// Why it is refused.
        reason: String,
    },

    /// Connecting (TCP or TLS handshake) failed.
    #[error("could not connect to {addr}: {reason}")]
    Connect {
        /// The address dialled.
        addr: String,
        /// The error and its causes.
        reason: String,
    },
}

/// An error and all its sources, joined with `": "`: tonic's transport
/// errors say only "transport error" at the top.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn chain_includes_sources() {
        let e = Outer(std::io::Error::other("connection refused"));
        assert_eq!(error_chain(&e), "outer: connection refused");
    }
}
