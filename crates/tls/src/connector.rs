//! The client side of tonic over rustls: a connector for
//! `Endpoint::connect_with_connector` that dials TCP and runs the TLS
//! handshake with server name `swarm-manager`.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tonic::transport::{Channel, Endpoint, Uri};
use tower_service::Service;

use crate::config::SERVER_NAME;
use crate::error::{TlsError, error_chain};

/// Limit on TCP connect + TLS handshake set by [`endpoint`].
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Dials `host:port` of the URI and wraps the connection in TLS, verifying
/// the server as `swarm-manager` (whatever the URI's host is: swarm
/// certificates carry no IP addresses).
#[derive(Clone)]
pub struct TlsConnector {
    connector: tokio_rustls::TlsConnector,
}

impl std::fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConnector")
            .field("server_name", &SERVER_NAME)
            .finish_non_exhaustive()
    }
}

impl TlsConnector {
    /// A connector using `config` (see [`crate::client_config`] and friends).
    pub fn new(config: Arc<ClientConfig>) -> Self {
        TlsConnector {
            connector: tokio_rustls::TlsConnector::from(config),
        }
    }
}

impl Service<Uri> for TlsConnector {
    type Response = TokioIo<TlsStream<TcpStream>>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, io::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), io::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connector = self.connector.clone();
        Box::pin(async move {
            let server_name = ServerName::try_from(SERVER_NAME)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            let host = uri
                .host()
                .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_string())
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "URI has no host"))?;
            let port = uri
                .port_u16()
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "URI has no port"))?;
            let tcp = TcpStream::connect((host.as_str(), port)).await?;
            let _ = tcp.set_nodelay(true);
            let tls = connector.connect(server_name, tcp).await?;
            Ok(TokioIo::new(tls))
        })
    }
}

/// An endpoint `https://<addr>` (`addr` is `ip:port` or `host:port`) with
/// [`CONNECT_TIMEOUT`].
pub fn endpoint(addr: &str) -> Result<Endpoint, TlsError> {
    let invalid = |reason: String| TlsError::InvalidAddress {
        addr: addr.to_string(),
        reason,
    };
    let uri: Uri = format!("https://{addr}")
        .parse()
        .map_err(|e: tonic::codegen::http::uri::InvalidUri| invalid(e.to_string()))?;
    if uri.port_u16().is_none() {
        return Err(invalid("expected host:port".into()));
    }
    if uri.path() != "/" {
        return Err(invalid("expected host:port".into()));
    }
    Ok(Endpoint::from(uri).connect_timeout(CONNECT_TIMEOUT))
}

/// Connects to `addr` now, over TLS with `config`.
pub async fn connect(addr: &str, config: Arc<ClientConfig>) -> Result<Channel, TlsError> {
    endpoint(addr)?
        .connect_with_connector(TlsConnector::new(config))
        .await
        .map_err(|e| TlsError::Connect {
            addr: addr.to_string(),
            reason: error_chain(&e),
        })
}

/// A channel to `addr` that connects on first use (and reconnects after
/// failures), over TLS with `config`.
pub fn connect_lazy(addr: &str, config: Arc<ClientConfig>) -> Result<Channel, TlsError> {
    Ok(endpoint(addr)?.connect_with_connector_lazy(TlsConnector::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_need_host_and_port() {
        let e = endpoint("127.0.0.1:2377").expect("ok");
        assert_eq!(e.uri().to_string(), "https://127.0.0.1:2377/");
        assert!(endpoint("[::1]:2377").is_ok());
        let err = endpoint("127.0.0.1").expect_err("no port");
        assert!(err.to_string().contains("expected host:port"), "{err}");
        assert!(endpoint("not an address").is_err());
        assert!(endpoint("1.2.3.4:1/x").is_err());
    }
}
