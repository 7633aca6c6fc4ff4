//! Forwarding the names that are not the swarm's to upstream servers.
//! Each query gets a fresh socket (random source port) opened in the host
//! namespace, where the host's resolvers are reachable; servers are tried
//! in order, each for at most `timeout`. The answer is passed back as is
//! (a truncated UDP answer makes the client retry over TCP, which is then
//! forwarded over TCP).

use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::error::NetError;
use crate::netns::{Netns, run_in};

/// Sends `query` to the first server that answers; `None` when none does.
pub async fn forward(
    host: &Netns,
    servers: &[SocketAddr],
    query: &[u8],
    tcp: bool,
    timeout: Duration,
) -> Option<Vec<u8>> {
    for server in servers {
        let r = if tcp {
            tokio::time::timeout(timeout, tcp_query(host, *server, query, timeout)).await
        } else {
            tokio::time::timeout(timeout, udp_query(host, *server, query)).await
        };
        if let Ok(Ok(answer)) = r {
            return Some(answer);
        }
    }
    None
}

async fn udp_query(host: &Netns, server: SocketAddr, query: &[u8]) -> Result<Vec<u8>, NetError> {
    let sock = match host {
        Netns::Own => bind_udp(server)?,
        ns => run_in(ns, move || bind_udp(server)).await?,
    };
    let sock = tokio::net::UdpSocket::from_std(sock).map_err(NetError::io("register socket"))?;
    sock.send(query)
        .await
        .map_err(NetError::io("send upstream"))?;
    let mut buf = vec![0u8; 65535];
    loop {
        let n = sock
            .recv(&mut buf)
            .await
            .map_err(NetError::io("receive upstream"))?;
        if n >= 2 && query.len() >= 2 && buf[..2] == query[..2] {
            buf.truncate(n);
            return Ok(buf);
        }
    }
}

fn bind_udp(server: SocketAddr) -> Result<UdpSocket, NetError> {
    let any: SocketAddr = if server.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let s = UdpSocket::bind(any).map_err(NetError::io("bind upstream socket"))?;
    s.connect(server)
        .map_err(NetError::io("connect upstream socket"))?;
    s.set_nonblocking(true)
        .map_err(NetError::io("set nonblocking"))?;
    Ok(s)
}

async fn tcp_query(
    host: &Netns,
    server: SocketAddr,
    query: &[u8],
    timeout: Duration,
) -> Result<Vec<u8>, NetError> {
    let connect = move || {
        let s = TcpStream::connect_timeout(&server, timeout)
            .map_err(NetError::io(format!("connect {server}")))?;
        s.set_nonblocking(true)
            .map_err(NetError::io("set nonblocking"))?;
        Ok(s)
    };
    let s = match host {
        Netns::Own => {
            let s = tokio::net::TcpStream::connect(server)
                .await
                .map_err(NetError::io(format!("connect {server}")))?;
            s.into_std().map_err(NetError::io("socket"))?
        }
        ns => run_in(ns, connect).await?,
    };
    let mut s = tokio::net::TcpStream::from_std(s).map_err(NetError::io("register socket"))?;
    let len = u16::try_from(query.len()).map_err(|_| NetError::Io {
        op: "query too long".into(),
        source: std::io::ErrorKind::InvalidInput.into(),
    })?;
    s.write_all(&len.to_be_bytes())
        .await
        .map_err(NetError::io("send upstream"))?;
    s.write_all(query)
        .await
        .map_err(NetError::io("send upstream"))?;
    let n = s
        .read_u16()
        .await
        .map_err(NetError::io("receive upstream"))?;
    let mut buf = vec![0u8; usize::from(n)];
    s.read_exact(&mut buf)
        .await
        .map_err(NetError::io("receive upstream"))?;
    Ok(buf)
}
