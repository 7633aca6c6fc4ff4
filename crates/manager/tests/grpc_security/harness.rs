//! A bootstrapped one-manager swarm serving the swarm port on 127.0.0.1,
//! and small helpers.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rswarm_agent::remote::{RemoteDispatcherClient, join};
use rswarm_manager::Manager;
use rswarm_manager::grpc;
use rswarm_pki::{NodeIdentity, RootCa, generate_join_token};
use rswarm_proto::dispatcher::HeartbeatRequest;
use rswarm_proto::dispatcher::dispatcher_client::DispatcherClient as GrpcDispatcher;
use rswarm_rt::{Clock, Shutdown, SystemClock};
use rswarm_store::{MemoryProposer, Store};
use rswarm_types::{
    Cluster, JoinTokens, ManagerStatus, Node, NodeRole, NodeSpec, NodeState, NodeStatus, Task,
    TaskState, TaskStatus,
};
use tokio::task::JoinHandle;
use tonic::Code;

/// A bootstrapped one-manager swarm serving the swarm port.
pub struct Swarm {
    pub manager: Manager,
    pub root: RootCa,
    pub cluster_id: String,
    pub manager_identity: NodeIdentity,
    pub addr: SocketAddr,
    pub shutdown: Shutdown,
    pub server: JoinHandle<Result<(), grpc::GrpcError>>,
}

impl Swarm {
    pub async fn start() -> Swarm {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let store = Store::open(Arc::new(MemoryProposer), clock.clone()).expect("store");
        let manager = Manager::new(store, clock.clone());
        let now = clock.now();
        let root = RootCa::generate(now).expect("root CA");
        let cluster_id = rswarm_rt::new_id();
        let manager_id = rswarm_rt::new_id();
        let (cert, key) = root
            .issue_self(&manager_id, NodeRole::Manager, &cluster_id, now)
            .expect("manager certificate");
        let manager_identity =
            NodeIdentity::from_pems(cert, key, root.cert_pem()).expect("identity");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");

        let mut cluster = Cluster {
            id: cluster_id.clone(),
            ca_cert_pem: root.cert_pem().to_string(),
            ca_key_pem: root.key_pem().unwrap_or_default().to_string(),
            join_tokens: JoinTokens {
                worker: generate_join_token(&root),
                manager: generate_join_token(&root),
            },
            ..Default::default()
        };
        cluster.spec.fill_defaults();
        let node = Node {
            id: manager_id,
            spec: NodeSpec {
                role: NodeRole::Manager,
                ..Default::default()
            },
            status: NodeStatus {
                state: NodeState::Ready,
                addr: "127.0.0.1".into(),
                ..Default::default()
            },
            manager_status: Some(ManagerStatus {
                leader: true,
                reachability: "reachable".into(),
                addr: addr.to_string(),
            }),
            role: NodeRole::Manager,
            ..Default::default()
        };
        manager
            .control
            .bootstrap(cluster, node)
            .await
            .expect("bootstrap");
        let shutdown = Shutdown::new();
        let server = tokio::spawn(grpc::serve(
            listener,
            manager_identity.clone(),
            manager.clone(),
            shutdown.clone(),
        ));
        Swarm {
            manager,
            root,
            cluster_id,
            manager_identity,
            addr,
            shutdown,
            server,
        }
    }

    pub fn tokens(&self) -> JoinTokens {
        self.manager
            .store
            .view(|t| t.cluster().map(|c| c.join_tokens.clone()))
            .expect("cluster")
    }

    pub fn node_count(&self) -> usize {
        self.manager.store.view(|t| t.nodes().count())
    }

    pub fn node(&self, id: &str) -> Node {
        self.manager
            .store
            .view(|t| t.node(id).cloned())
            .expect("node exists")
    }

    pub async fn join_worker(&self) -> NodeIdentity {
        join(
            &self.addr.to_string(),
            &self.tokens().worker,
            None,
            "127.0.0.1",
        )
        .await
        .expect("join")
    }

    pub fn client(&self, identity: NodeIdentity) -> RemoteDispatcherClient {
        RemoteDispatcherClient::new(vec![self.addr.to_string()], identity, "127.0.0.1".into())
    }

    /// A raw Dispatcher.Heartbeat with the given TLS client configuration.
    pub async fn raw_heartbeat(
        &self,
        config: Arc<rswarm_tls::rustls::ClientConfig>,
    ) -> Result<i64, (Code, String)> {
        let channel = rswarm_tls::connect(&self.addr.to_string(), config)
            .await
            .map_err(|e| (Code::Unavailable, e.to_string()))?;
        let session_id = open_session(channel.clone()).await?;
        GrpcDispatcher::new(channel)
            .heartbeat(HeartbeatRequest { session_id })
            .await
            .map(|r| r.into_inner().period)
            .map_err(|s| (s.code(), s.message().to_string()))
    }

    /// A raw Dispatcher.Heartbeat on `session_id` with the given TLS client
    /// configuration, without opening a session first (so Heartbeat's own
    /// checks answer).
    pub async fn heartbeat_on(
        &self,
        config: Arc<rswarm_tls::rustls::ClientConfig>,
        session_id: &str,
    ) -> Result<i64, (Code, String)> {
        let channel = rswarm_tls::connect(&self.addr.to_string(), config)
            .await
            .map_err(|e| (Code::Unavailable, e.to_string()))?;
        GrpcDispatcher::new(channel)
            .heartbeat(HeartbeatRequest {
                session_id: session_id.to_string(),
            })
            .await
            .map(|r| r.into_inner().period)
            .map_err(|s| (s.code(), s.message().to_string()))
    }

    /// Opens a dispatcher session with the given TLS client configuration.
    pub async fn raw_session(
        &self,
        config: Arc<rswarm_tls::rustls::ClientConfig>,
    ) -> Result<String, (Code, String)> {
        let channel = rswarm_tls::connect(&self.addr.to_string(), config)
            .await
            .map_err(|e| (Code::Unavailable, e.to_string()))?;
        open_session(channel).await
    }

    pub async fn stop(self) {
        self.shutdown.trigger();
        let stopped = tokio::time::timeout(Duration::from_secs(10), self.server)
            .await
            .expect("server stops after shutdown")
            .expect("server task");
        stopped.expect("server ends cleanly");
    }
}

/// Opens a dispatcher session on `channel` and returns its ID.
pub async fn open_session(channel: tonic::transport::Channel) -> Result<String, (Code, String)> {
    let mut stream = GrpcDispatcher::new(channel)
        .session(rswarm_proto::dispatcher::SessionRequest::default())
        .await
        .map_err(|s| (s.code(), s.message().to_string()))?
        .into_inner();
    match stream.message().await {
        Ok(Some(first)) => Ok(first.session_id),
        Ok(None) => Err((Code::Unavailable, "session stream ended".into())),
        Err(s) => Err((s.code(), s.message().to_string())),
    }
}

pub fn task_on(node_id: &str) -> Task {
    Task {
        id: rswarm_rt::new_id(),
        service_id: "svc".into(),
        node_id: node_id.into(),
        status: TaskStatus {
            timestamp: chrono::Utc::now(),
            state: TaskState::Assigned,
            message: "assigned".into(),
            ..Default::default()
        },
        desired_state: TaskState::Running,
        ..Default::default()
    }
}

pub fn running() -> TaskStatus {
    TaskStatus {
        timestamp: chrono::Utc::now(),
        state: TaskState::Running,
        message: "started".into(),
        ..Default::default()
    }
}

pub async fn wait_for(what: &str, mut pred: impl FnMut() -> bool) {
    for _ in 0..200 {
        if pred() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}
