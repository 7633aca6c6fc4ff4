//! The listeners: unix socket (stale file, permissions, cleanup) and TCP,
//! spoken to with raw HTTP/1.1 over real sockets.

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::oneshot;

use crate::fake::Fake;

async fn raw_request<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, request: &str) -> String {
    s.write_all(request.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out))
        .await
        .expect("timely")
        .expect("read");
    String::from_utf8_lossy(&out).into_owned()
}

const PING: &str = "HEAD /_ping HTTP/1.1\r\nHost: api.moby.localhost\r\nConnection: close\r\n\r\n";

#[tokio::test]
async fn unix_socket_replaces_stale_file_and_cleans_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("run/rswarm.sock");
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    drop(std::os::unix::net::UnixListener::bind(&path).expect("stale socket"));
    assert!(path.exists(), "a stale socket file is left behind");

    let (tx, rx) = oneshot::channel::<()>();
    let router = rswarm_engine_api::router(Arc::new(Fake::manager()));
    let server_path = path.clone();
    let server = tokio::spawn(async move {
        rswarm_engine_api::serve_unix(&server_path, router, async move {
            let _ = rx.await;
        })
        .await
    });
    let mut stream = None;
    for _ in 0..100 {
        if let Ok(s) = tokio::net::UnixStream::connect(&path).await {
            stream = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mode = std::fs::metadata(&path)
        .expect("socket")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o660);
    let reply = raw_request(stream.expect("connected"), PING).await;
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    let lower = reply.to_ascii_lowercase();
    assert!(lower.contains("api-version: 1.51\r\n"), "{reply}");
    assert!(lower.contains("swarm: active/manager\r\n"), "{reply}");

    let _ = tx.send(());
    let result = tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("stops")
        .expect("joined");
    assert!(result.is_ok(), "{result:?}");
    assert!(!path.exists(), "socket removed on shutdown");
}

#[tokio::test]
async fn tcp_serves_versioned_requests() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = oneshot::channel::<()>();
    let router = rswarm_engine_api::router(Arc::new(Fake::manager()));
    let server = tokio::spawn(rswarm_engine_api::serve_tcp(listener, router, async move {
        let _ = rx.await;
    }));
    let s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let reply = raw_request(
        s,
        "GET /v1.41/services/web HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    assert!(reply.contains("\"Name\":\"web\""), "{reply}");
    let _ = tx.send(());
    let result = tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("stops")
        .expect("joined");
    assert!(result.is_ok());
}
