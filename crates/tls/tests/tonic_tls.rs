//! tonic over rustls on real sockets: the incoming stream exposes the
//! verified peer certificate to handlers, the connector dials
//! `swarm-manager`, and certificates from elsewhere are refused.

use std::net::SocketAddr;
use std::sync::Arc;

use rswarm_pki::{NodeIdentity, RootCa};
use rswarm_proto::ca::ca_client::CaClient;
use rswarm_proto::ca::ca_server::{Ca, CaServer};
use rswarm_proto::ca::{
    GetRootCaCertificateRequest, GetRootCaCertificateResponse, GetUnlockKeyRequest,
    GetUnlockKeyResponse,
};
use rswarm_tls::{
    TlsConnectInfo, TlsIncoming, ca_client_config, client_config, connect, connect_lazy,
    insecure_client_config, server_config,
};
use rswarm_types::NodeRole;
use tokio::sync::oneshot;
use tonic::{Request, Response, Status};

/// Answers GetRootCACertificate with who the caller is.
struct WhoAmI;

#[tonic::async_trait]
impl Ca for WhoAmI {
    async fn get_root_ca_certificate(
        &self,
        request: Request<GetRootCaCertificateRequest>,
    ) -> Result<Response<GetRootCaCertificateResponse>, Status> {
        let info = request
            .extensions()
            .get::<TlsConnectInfo>()
            .ok_or_else(|| Status::internal("no connect info"))?;
        assert!(info.remote_addr.is_some());
        let who = match info.peer_identity() {
            Ok(p) => format!("{}/{}/{}", p.node_id, p.role.ou(), p.cluster_id),
            Err(e) => e.to_string(),
        };
        Ok(Response::new(GetRootCaCertificateResponse {
            certificate: who,
        }))
    }

    async fn get_unlock_key(
        &self,
        _request: Request<GetUnlockKeyRequest>,
    ) -> Result<Response<GetUnlockKeyResponse>, Status> {
        Ok(Response::new(GetUnlockKeyResponse::default()))
    }
}

fn identity(root: &RootCa, node_id: &str, role: NodeRole) -> NodeIdentity {
    let (cert, key) = root
        .issue_self(node_id, role, "cluster1", chrono::Utc::now())
        .expect("issue");
    NodeIdentity::from_pems(cert, key, root.cert_pem()).expect("identity")
}

async fn start(server: &NodeIdentity) -> (SocketAddr, oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let incoming = TlsIncoming::new(listener, server_config(server).expect("server config"));
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(CaServer::new(WhoAmI))
            .serve_with_incoming_shutdown(incoming, async {
                let _ = stopped.await;
            }),
    );
    (addr, stop)
}

async fn who(addr: SocketAddr, config: Arc<rustls::ClientConfig>) -> Result<String, String> {
    let channel = connect(&addr.to_string(), config)
        .await
        .map_err(|e| e.to_string())?;
    CaClient::new(channel)
        .get_root_ca_certificate(GetRootCaCertificateRequest {})
        .await
        .map(|r| r.into_inner().certificate)
        .map_err(|s| s.to_string())
}

#[tokio::test]
async fn handlers_see_the_verified_peer() {
    let root = RootCa::generate(chrono::Utc::now()).expect("root");
    let manager = identity(&root, "mgr1", NodeRole::Manager);
    let worker = identity(&root, "wrk1", NodeRole::Worker);
    let (addr, _stop) = start(&manager).await;

    let mtls = client_config(&worker).expect("client config");
    assert_eq!(
        who(addr, mtls.clone()).await.expect("mtls"),
        "wrk1/swarm-worker/cluster1"
    );
    // Without a client certificate the server still answers (CA RPCs).
    let anon = ca_client_config(root.cert_pem()).expect("ca client");
    assert_eq!(
        who(addr, anon).await.expect("anonymous"),
        "no client certificate"
    );
    assert_eq!(
        who(addr, insecure_client_config()).await.expect("insecure"),
        "no client certificate"
    );
    // A lazy channel connects on first use.
    let lazy = connect_lazy(&addr.to_string(), mtls).expect("lazy");
    let r = CaClient::new(lazy)
        .get_root_ca_certificate(GetRootCaCertificateRequest {})
        .await
        .expect("lazy call");
    assert_eq!(r.into_inner().certificate, "wrk1/swarm-worker/cluster1");
}

#[tokio::test]
async fn foreign_certificates_and_roots_are_refused() {
    let root = RootCa::generate(chrono::Utc::now()).expect("root");
    let other = RootCa::generate(chrono::Utc::now()).expect("other root");
    let manager = identity(&root, "mgr1", NodeRole::Manager);
    let (addr, _stop) = start(&manager).await;

    // A client certificate from another CA, presented to our server.
    let foreign = identity(&other, "intruder", NodeRole::Manager);
    let mut presented = foreign.clone();
    presented.root_ca_pem = root.cert_pem().to_string();
    let err = who(addr, client_config(&presented).expect("config"))
        .await
        .expect_err("foreign client certificate");
    // TLS 1.3: the server checks the client certificate after the client
    // has finished, so the refusal shows on the first call.
    assert!(
        err.contains("transport error") || err.contains("could not connect"),
        "{err}"
    );

    // A client that trusts another root does not accept our server.
    let err = who(addr, client_config(&foreign).expect("config"))
        .await
        .expect_err("untrusted server");
    assert!(err.contains("could not connect"), "{err}");
    let err = who(addr, ca_client_config(other.cert_pem()).expect("config"))
        .await
        .expect_err("untrusted server");
    assert!(err.contains("could not connect"), "{err}");
}

#[tokio::test]
async fn a_worker_certificate_cannot_serve_as_a_manager() {
    let root = RootCa::generate(chrono::Utc::now()).expect("root");
    let worker = identity(&root, "wrk1", NodeRole::Worker);
    let (addr, _stop) = start(&worker).await;
    let err = who(addr, ca_client_config(root.cert_pem()).expect("config"))
        .await
        .expect_err("worker cert has no swarm-manager name");
    assert!(err.contains("could not connect"), "{err}");
    assert!(
        err.contains(r#"not valid for name "swarm-manager""#),
        "{err}"
    );
}
