//! The embedded DNS server of one task: a UDP socket and a TCP listener
//! on 127.0.0.11:53 opened inside the task's namespace, served from the
//! daemon's runtime. [`DnsServer::stop`] closes every socket it opened
//! there (listener, connections, sockets of in-flight answers) before it
//! returns: an open socket would keep the namespace and its veths alive.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};

use crate::dns::forward::forward;
use crate::dns::message::{Outcome, handle, servfail};
use crate::dns::records::Records;
use crate::error::NetError;
use crate::netns::{Netns, run_in};
use crate::resolv::DNS_ADDR;

/// How long a TCP client may stay silent.
const TCP_IDLE: Duration = Duration::from_secs(10);

/// What a task's server answers from.
#[derive(Clone, Debug)]
pub struct DnsContext {
    /// The swarm's names (replaced as the network map changes).
    pub records: watch::Receiver<Arc<Records>>,
    /// The task's networks, in attach order.
    pub networks: Vec<String>,
    /// Whether other names are forwarded (the task has a way out).
    pub forwarding: bool,
    /// Upstream servers.
    pub upstream: Vec<SocketAddr>,
    /// Where upstream sockets are opened.
    pub host: Netns,
    /// Per upstream server.
    pub timeout: Duration,
}

/// A running server. Dropping it aborts it (its sockets close soon
/// after); [`DnsServer::stop`] waits until they are closed.
#[derive(Debug)]
pub struct DnsServer {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl DnsServer {
    /// Binds 127.0.0.11:53 (UDP and TCP) inside `ns` (its `lo` must be up)
    /// and starts serving.
    pub async fn start(ns: &Netns, ctx: DnsContext) -> Result<DnsServer, NetError> {
        let (udp, tcp) = run_in(ns, || {
            let addr = SocketAddr::from((DNS_ADDR, 53));
            let u = std::net::UdpSocket::bind(addr).map_err(NetError::io("bind DNS UDP"))?;
            u.set_nonblocking(true)
                .map_err(NetError::io("set nonblocking"))?;
            let t = std::net::TcpListener::bind(addr).map_err(NetError::io("bind DNS TCP"))?;
            t.set_nonblocking(true)
                .map_err(NetError::io("set nonblocking"))?;
            Ok((u, t))
        })
        .await?;
        let udp = UdpSocket::from_std(udp).map_err(NetError::io("register DNS socket"))?;
        let tcp = TcpListener::from_std(tcp).map_err(NetError::io("register DNS listener"))?;
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(serve(udp, tcp, Arc::new(ctx), stopped));
        Ok(DnsServer {
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// Stops serving; every socket is closed when this returns.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn serve(
    udp: UdpSocket,
    tcp: TcpListener,
    ctx: Arc<DnsContext>,
    mut stopped: oneshot::Receiver<()>,
) {
    let udp = Arc::new(udp);
    let rotation = Arc::new(AtomicUsize::new(0));
    let mut jobs = JoinSet::new();
    let mut buf = vec![0u8; 4096];
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            r = udp.recv_from(&mut buf) => {
                let Ok((n, peer)) = r else { continue };
                let query = buf[..n].to_vec();
                match answer(&ctx, &rotation, &query, true) {
                    Outcome::Reply(b) => { let _ = udp.send_to(&b, peer).await; }
                    Outcome::Forward => {
                        let (udp, ctx) = (udp.clone(), ctx.clone());
                        jobs.spawn(async move {
                            if let Some(b) = forwarded(&ctx, &query, false).await {
                                let _ = udp.send_to(&b, peer).await;
                            }
                        });
                    }
                    Outcome::Drop => {}
                }
            }
            r = tcp.accept() => {
                if let Ok((s, _)) = r {
                    jobs.spawn(serve_tcp(s, ctx.clone(), rotation.clone()));
                }
            }
            Some(_) = jobs.join_next(), if !jobs.is_empty() => {}
        }
    }
    jobs.shutdown().await;
}

async fn serve_tcp(mut s: TcpStream, ctx: Arc<DnsContext>, rotation: Arc<AtomicUsize>) {
    loop {
        let Ok(Ok(len)) = tokio::time::timeout(TCP_IDLE, s.read_u16()).await else {
            return;
        };
        let mut query = vec![0u8; usize::from(len)];
        if s.read_exact(&mut query).await.is_err() {
            return;
        }
        let reply = match answer(&ctx, &rotation, &query, false) {
            Outcome::Reply(b) => Some(b),
            Outcome::Forward => forwarded(&ctx, &query, true).await,
            Outcome::Drop => None,
        };
        let Some(b) = reply else { return };
        let Ok(n) = u16::try_from(b.len()) else {
            return;
        };
        if s.write_all(&n.to_be_bytes()).await.is_err() || s.write_all(&b).await.is_err() {
            return;
        }
    }
}

fn answer(ctx: &DnsContext, rotation: &AtomicUsize, query: &[u8], udp: bool) -> Outcome {
    let records = ctx.records.borrow().clone();
    let k = rotation.fetch_add(1, Ordering::Relaxed);
    handle(&records, &ctx.networks, query, k, ctx.forwarding, udp)
}

async fn forwarded(ctx: &DnsContext, query: &[u8], tcp: bool) -> Option<Vec<u8>> {
    match forward(&ctx.host, &ctx.upstream, query, tcp, ctx.timeout).await {
        Some(b) => Some(b),
        None => servfail(query),
    }
}
