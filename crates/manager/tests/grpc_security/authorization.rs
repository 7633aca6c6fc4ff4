//! Authorization: who may call what, and certificates that must not work.

use rswarm_agent::AgentError;
use rswarm_agent::DispatcherClient;
use rswarm_pki::{NodeIdentity, RootCa};
use rswarm_proto::ca::ca_client::CaClient;
use rswarm_proto::ca::{GetRootCaCertificateRequest, GetUnlockKeyRequest};
use rswarm_types::{NodeDescription, NodeRole};
use tonic::Code;

use crate::harness::Swarm;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatcher_calls_need_a_certificate() {
    let swarm = Swarm::start().await;
    let anonymous = rswarm_tls::ca_client_config(swarm.root.cert_pem()).expect("config");

    // The CA's root is open to all, byte for byte.
    let channel = rswarm_tls::connect(&swarm.addr.to_string(), anonymous.clone())
        .await
        .expect("connect");
    let pem = CaClient::new(channel)
        .get_root_ca_certificate(GetRootCaCertificateRequest {})
        .await
        .expect("root")
        .into_inner()
        .certificate;
    assert_eq!(pem, swarm.root.cert_pem());

    // A live session of a real worker: only the caller's missing
    // certificate can make Heartbeat fail.
    let worker = swarm.join_worker().await;
    let worker_tls = rswarm_tls::client_config(&worker).expect("config");
    let session = swarm
        .raw_session(worker_tls.clone())
        .await
        .expect("worker session");
    let (code, message) = swarm
        .raw_session(anonymous.clone())
        .await
        .expect_err("Session without a certificate");
    assert_eq!(
        (code, message.as_str()),
        (Code::PermissionDenied, "no client certificate")
    );
    let (code, message) = swarm
        .heartbeat_on(anonymous, &session)
        .await
        .expect_err("Heartbeat without a certificate");
    assert_eq!(
        (code, message.as_str()),
        (Code::PermissionDenied, "no client certificate")
    );
    swarm
        .heartbeat_on(worker_tls, &session)
        .await
        .expect("the session is valid for its node");
    swarm.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_cannot_call_manager_only_rpcs() {
    let swarm = Swarm::start().await;
    let worker = swarm.join_worker().await;
    let get_unlock_key = |identity: &NodeIdentity| {
        let config = rswarm_tls::client_config(identity).expect("config");
        let addr = swarm.addr.to_string();
        async move {
            let channel = rswarm_tls::connect(&addr, config).await.expect("connect");
            CaClient::new(channel)
                .get_unlock_key(GetUnlockKeyRequest {})
                .await
                .map(|r| r.into_inner().unlock_key)
        }
    };
    let status = get_unlock_key(&worker).await.expect_err("worker");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(
        status
            .message()
            .starts_with("unauthorized peer role: swarm-worker"),
        "{}",
        status.message()
    );
    let key = get_unlock_key(&swarm.manager_identity)
        .await
        .expect("manager");
    assert_eq!(key, "");
    // The worker may use the dispatcher.
    let config = rswarm_tls::client_config(&worker).expect("config");
    assert!(swarm.raw_heartbeat(config).await.is_ok());
    swarm.stop().await;
}

/// A bare TLS handshake with `config`, then one read: what the server
/// sends first (its HTTP/2 settings), or the alert it refuses the client
/// certificate with.
async fn tls_handshake(
    addr: std::net::SocketAddr,
    config: std::sync::Arc<rswarm_tls::rustls::ClientConfig>,
) -> Result<usize, String> {
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let name = rswarm_tls::rustls::pki_types::ServerName::try_from(rswarm_tls::SERVER_NAME)
            .expect("server name");
        let mut conn = rswarm_tls::rustls::ClientConnection::new(config, name).expect("client");
        let mut tcp = std::net::TcpStream::connect(addr).expect("tcp");
        tcp.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .expect("timeout");
        let mut tls = rswarm_tls::rustls::Stream::new(&mut conn, &mut tcp);
        let mut buf = [0u8; 1];
        tls.read(&mut buf).map_err(|e| e.to_string())
    })
    .await
    .expect("handshake thread")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_from_elsewhere_are_refused() {
    let swarm = Swarm::start().await;
    let now = chrono::Utc::now();

    // Signed by another CA (same subject shape, same cluster ID): the TLS
    // handshake refuses it.
    let other = RootCa::generate(now).expect("other root");
    let (cert, key) = other
        .issue_self("intruder", NodeRole::Worker, &swarm.cluster_id, now)
        .expect("issue");
    let forged = NodeIdentity {
        node_id: "intruder".into(),
        cluster_id: swarm.cluster_id.clone(),
        role: NodeRole::Worker,
        cert_pem: cert,
        key_pem: key,
        root_ca_pem: swarm.root.cert_pem().to_string(),
    };
    let worker = swarm.join_worker().await;
    let worker_tls = rswarm_tls::client_config(&worker).expect("config");
    let session = swarm
        .raw_session(worker_tls.clone())
        .await
        .expect("worker session");
    let config = rswarm_tls::client_config(&forged).expect("config");
    let (code, message) = swarm
        .heartbeat_on(config, &session)
        .await
        .expect_err("foreign CA");
    // No handler answers (a transport failure, whose code depends on when
    // the client notices the connection end).
    assert!(
        matches!(code, Code::Unavailable | Code::Cancelled | Code::Unknown),
        "{code:?}: {message}"
    );
    // Because the TLS handshake refused the certificate (its signature does
    // not verify against our root), while a member's handshake succeeds.
    let forged_tls = rswarm_tls::client_config(&forged).expect("config");
    assert_eq!(
        tls_handshake(swarm.addr, forged_tls).await,
        Err("received fatal alert: DecryptError".to_string())
    );
    let member = tls_handshake(swarm.addr, worker_tls.clone()).await;
    assert!(matches!(member, Ok(1)), "{member:?}");
    let client = swarm.client(forged);
    let err = client
        .register(NodeDescription::default())
        .await
        .expect_err("foreign CA session");
    assert!(matches!(err, AgentError::Unavailable(_)), "{err}");

    // Signed by our CA, but for another cluster.
    let (cert, key) = swarm
        .root
        .issue_self("stranger", NodeRole::Worker, "another-cluster", now)
        .expect("issue");
    let stranger = NodeIdentity::from_pems(cert, key, swarm.root.cert_pem()).expect("identity");
    let config = rswarm_tls::client_config(&stranger).expect("config");
    let handshake = tls_handshake(swarm.addr, config.clone()).await;
    assert!(
        matches!(handshake, Ok(1)),
        "our CA: the handshake passes, the RPCs refuse: {handshake:?}"
    );
    let (code, message) = swarm
        .raw_session(config.clone())
        .await
        .expect_err("Session for another cluster");
    assert_eq!(
        (code, message.as_str()),
        (
            Code::PermissionDenied,
            "certificate is not from this cluster"
        )
    );
    let (code, message) = swarm
        .heartbeat_on(config, &session)
        .await
        .expect_err("Heartbeat for another cluster");
    assert_eq!(
        (code, message.as_str()),
        (
            Code::PermissionDenied,
            "certificate is not from this cluster"
        )
    );
    swarm
        .heartbeat_on(worker_tls, &session)
        .await
        .expect("the session is valid for its node");
    swarm.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_nodes_certificate_stops_working() {
    let swarm = Swarm::start().await;
    let identity = swarm.join_worker().await;
    let client = swarm.client(identity.clone());
    client
        .register(NodeDescription::default())
        .await
        .expect("register while a member");
    swarm
        .manager
        .control
        .remove_node(&identity.node_id, true)
        .await
        .expect("remove");

    let expected = format!("node {} is not a member of this swarm", identity.node_id);
    let err = client
        .heartbeat()
        .await
        .expect_err("heartbeat after removal");
    assert!(
        matches!(&err, AgentError::Rejected(m) if *m == expected),
        "{err}"
    );
    let fresh = swarm.client(identity);
    let err = fresh
        .register(NodeDescription::default())
        .await
        .expect_err("session after removal");
    assert!(
        matches!(&err, AgentError::Rejected(m) if *m == expected),
        "{err}"
    );
    swarm.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_on_a_stale_or_unknown_session_are_refused() {
    let swarm = Swarm::start().await;
    let worker = swarm.join_worker().await;
    let config = rswarm_tls::client_config(&worker).expect("config");
    let channel = rswarm_tls::connect(&swarm.addr.to_string(), config)
        .await
        .expect("connect");
    let beat = |session_id: String| {
        let channel = channel.clone();
        async move {
            rswarm_proto::dispatcher::dispatcher_client::DispatcherClient::new(channel)
                .heartbeat(rswarm_proto::dispatcher::HeartbeatRequest { session_id })
                .await
        }
    };
    let err = beat("bogus".into()).await.expect_err("unknown session");
    assert_eq!(err.code(), Code::Unavailable);
    assert!(
        err.message().contains("session invalid"),
        "{}",
        err.message()
    );
    let first = crate::harness::open_session(channel.clone())
        .await
        .expect("first");
    beat(first.clone()).await.expect("current session");
    let second = crate::harness::open_session(channel.clone())
        .await
        .expect("second");
    assert_ne!(first, second);
    let err = beat(first).await.expect_err("stale session");
    assert!(
        err.message().contains("session invalid"),
        "{}",
        err.message()
    );
    beat(second).await.expect("the new session works");
    swarm.stop().await;
}
