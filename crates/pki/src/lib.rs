//! rswarm PKI: the cluster's root CA, node certificates, join tokens and
//! unlock keys, in Docker Swarm's exact formats.
//!
//! What it does:
//! - generates and loads the root CA (ECDSA P-256, CN `swarm-ca`, 20 years)
//!   and computes its digest (`sha256:<hex>` and the base-36 token form);
//! - makes and parses join tokens `SWMTKN-1-<digest>-<secret>`;
//! - generates node keys (PKCS#8) and CSRs, and signs node certificates with
//!   the subject imposed by the CA (CN = node ID, OU = role, O = cluster ID);
//! - parses node certificates back and verifies them against the root;
//! - saves and loads a node's identity files (`swarm-root-ca.crt`,
//!   `swarm-node.crt`, `swarm-node.key`) atomically with Swarm's modes;
//! - makes and parses unlock keys `SWMKEY-1-<base64>`;
//! - computes the TLS info a node reports about the certificate it holds.
//!
//! What it does not do: networking of any kind (no sockets, no TLS
//! configuration, no CA server), async, deciding which role a token grants
//! (the CA server compares whole tokens), root CA rotation, or encrypting the
//! node key at rest with the unlock key.
//!
//! Time and randomness: every function that needs "now" takes it as an
//! argument; random bytes come from `rswarm_rt::id::random_bytes`.

mod base36;
pub mod cert_info;
pub mod chain;
pub mod csr;
pub mod error;
pub mod identity;
mod pem;
pub mod root_ca;
pub mod tls_info;
pub mod token;
pub mod unlock_key;

pub use cert_info::{CertInfo, parse_node_certificate};
pub use chain::verify_chain;
pub use csr::generate_node_key_and_csr;
pub use error::{PkiError, Result};
pub use identity::NodeIdentity;
pub use root_ca::{
    CERT_BACKDATE, DEFAULT_NODE_CERT_VALIDITY, MIN_NODE_CERT_VALIDITY, ROOT_CA_CN,
    ROOT_CA_VALIDITY, RootCa,
};
pub use tls_info::node_tls_info;
pub use token::{
    JOIN_TOKEN_PREFIX, JoinToken, constant_time_eq, generate_join_token, parse_join_token,
    token_matches_ca,
};
pub use unlock_key::{UNLOCK_KEY_PREFIX, format_unlock_key, generate_unlock_key, parse_unlock_key};
