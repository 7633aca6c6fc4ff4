//! rswarm TLS: the rustls side of "all node-to-node traffic is mutual TLS
//! with certificates from the cluster CA".
//!
//! What it does:
//! - builds rustls configurations from a node's [`NodeIdentity`]
//!   ([`server_config`], [`client_config`]), for a joining node that only
//!   knows the root ([`ca_client_config`]), and the one unverified client
//!   used to download the root before its digest is checked against the
//!   join token ([`insecure_client_config`]);
//! - reads who a peer is from its verified certificate ([`PeerIdentity`]:
//!   CN = node ID, OU = role, O = cluster ID);
//! - plugs rustls into tonic: [`TlsIncoming`] turns a `TcpListener` into a
//!   stream of TLS connections for `Server::serve_with_incoming*`, each
//!   exposing a [`TlsConnectInfo`] (peer address and certificates) as a
//!   request extension; [`TlsConnector`] is the client side for
//!   `Endpoint::connect_with_connector*` ([`connect`], [`connect_lazy`]).
//!
//! Only the ring crypto provider is used. Every constructor here installs
//! it as the process default if none is installed yet
//! ([`install_default_provider`]).
//!
//! Use tonic without its own TLS features (`tls-ring` and friends): with
//! them, tonic refuses `https://` endpoints that have no tonic TLS config,
//! before our connector is reached.
//!
//! What it does not do: decide who may call what (the manager's gRPC
//! layer does), sign or parse node certificates beyond the subject (see
//! `rswarm-pki`), or rotate certificates of a running server.

mod config;
mod connector;
mod error;
mod incoming;
mod insecure;
mod peer;

pub use config::{
    ALPN_H2, SERVER_NAME, ca_client_config, client_config, insecure_client_config,
    install_default_provider, server_config,
};
pub use connector::{CONNECT_TIMEOUT, TlsConnector, connect, connect_lazy, endpoint};
pub use error::{TlsError, error_chain};
pub use incoming::{HANDSHAKE_TIMEOUT, TlsConnectInfo, TlsIncoming, TlsServerStream};
pub use peer::{PeerIdentity, peer_identity};
pub use rswarm_pki::NodeIdentity;
pub use rustls;
