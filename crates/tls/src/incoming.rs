//! The server side of tonic over rustls: accepted TCP connections become
//! TLS streams that carry their peer's certificates to the handlers.
//!
//! ```text
//! TcpListener ─accept─► handshake (own task, 10 s limit) ─► TlsIncoming ─► serve_with_incoming
//!                                                         └ TlsConnectInfo as a request extension
//! ```

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::Stream;
use rustls::ServerConfig;
use rustls::pki_types::CertificateDer;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tonic::transport::server::Connected;

use crate::error::TlsError;
use crate::peer::{PeerIdentity, peer_identity};

/// How long a client gets to finish its TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What a handler learns about its connection: take it from the request
/// with `request.extensions().get::<TlsConnectInfo>()`.
#[derive(Clone, Debug, Default)]
pub struct TlsConnectInfo {
    /// The peer's address.
    pub remote_addr: Option<SocketAddr>,
    /// Our address on this connection.
    pub local_addr: Option<SocketAddr>,
    /// The client's certificate chain, leaf first, already verified against
    /// the cluster root by rustls; `None` when the client sent none.
    pub peer_certificates: Option<Arc<Vec<CertificateDer<'static>>>>,
}

impl TlsConnectInfo {
    /// The peer's swarm identity; [`TlsError::NoPeerCertificate`] when it
    /// presented no certificate.
    pub fn peer_identity(&self) -> Result<PeerIdentity, TlsError> {
        match &self.peer_certificates {
            Some(chain) => peer_identity(chain),
            None => Err(TlsError::NoPeerCertificate),
        }
    }
}

/// An accepted, handshaken TLS connection.
#[derive(Debug)]
pub struct TlsServerStream {
    inner: TlsStream<TcpStream>,
    info: TlsConnectInfo,
}

impl TlsServerStream {
    fn new(inner: TlsStream<TcpStream>) -> Self {
        let (tcp, conn) = inner.get_ref();
        let info = TlsConnectInfo {
            remote_addr: tcp.peer_addr().ok(),
            local_addr: tcp.local_addr().ok(),
            peer_certificates: conn
                .peer_certificates()
                .filter(|c| !c.is_empty())
                .map(|c| Arc::new(c.to_vec())),
        };
        TlsServerStream { inner, info }
    }

    /// The connection's info (also given to handlers).
    pub fn info(&self) -> &TlsConnectInfo {
        &self.info
    }
}

impl Connected for TlsServerStream {
    type ConnectInfo = TlsConnectInfo;

    fn connect_info(&self) -> TlsConnectInfo {
        self.info.clone()
    }
}

impl AsyncRead for TlsServerStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsServerStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// A stream of handshaken TLS connections from a listener, for tonic's
/// `Server::serve_with_incoming` / `serve_with_incoming_shutdown`.
///
/// Handshakes run in their own tasks, so a slow or hostile client never
/// holds up others; failed handshakes are logged and dropped (a client
/// presenting a certificate from another CA ends here). Dropping the
/// stream stops accepting and closes the listener.
#[derive(Debug)]
pub struct TlsIncoming {
    rx: mpsc::Receiver<TlsServerStream>,
    accept: JoinHandle<()>,
}

impl TlsIncoming {
    /// Starts accepting on `listener` with `config`.
    pub fn new(listener: TcpListener, config: Arc<ServerConfig>) -> Self {
        let (tx, rx) = mpsc::channel(64);
        let accept = tokio::spawn(accept_loop(listener, TlsAcceptor::from(config), tx));
        TlsIncoming { rx, accept }
    }
}

impl Drop for TlsIncoming {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl Stream for TlsIncoming {
    type Item = Result<TlsServerStream, io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx).map(|c| c.map(Ok))
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    tx: mpsc::Sender<TlsServerStream>,
) {
    loop {
        let (tcp, addr) = tokio::select! {
            _ = tx.closed() => return,
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: pause, go on.
                    tracing::warn!("swarm port: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let acceptor = acceptor.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            let _ = tcp.set_nodelay(true);
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => {
                    let _ = tx.send(TlsServerStream::new(tls)).await;
                }
                Ok(Err(e)) => tracing::debug!("swarm port: TLS handshake with {addr} failed: {e}"),
                Err(_) => tracing::debug!("swarm port: TLS handshake with {addr} timed out"),
            }
        });
    }
}
