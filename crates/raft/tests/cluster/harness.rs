//! Start, stop and restart Raft nodes for real; wait for conditions.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use rswarm_pki::{NodeIdentity, RootCa};
use rswarm_raft::{RaftNode, RaftNodeConfig, RaftTiming};
use rswarm_rt::SystemClock;
use rswarm_store::{Object, Store, StoreError};
use rswarm_tls::TlsIncoming;
use rswarm_types::{NodeRole, Service, Task};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Bound on every wait: generous for a loaded 2-core machine; a healthy
/// run takes a few seconds.
pub const WAIT: Duration = Duration::from_secs(30);

/// A cluster CA.
pub struct Ca {
    pub root: RootCa,
    pub cluster_id: String,
}

impl Ca {
    pub fn new() -> Ca {
        Ca {
            root: RootCa::generate(chrono::Utc::now()).expect("root CA"),
            cluster_id: rswarm_rt::new_id(),
        }
    }

    /// A certificate for `node_id` with `role`, for `cluster_id`.
    pub fn identity_for(&self, node_id: &str, role: NodeRole, cluster_id: &str) -> NodeIdentity {
        let (cert, key) = self
            .root
            .issue_self(node_id, role, cluster_id, chrono::Utc::now())
            .expect("certificate");
        NodeIdentity::from_pems(cert, key, self.root.cert_pem()).expect("identity")
    }

    /// A manager certificate of this cluster.
    pub fn manager(&self) -> NodeIdentity {
        self.identity_for(&rswarm_rt::new_id(), NodeRole::Manager, &self.cluster_id)
    }
}

/// A distinct loopback address per node of the test process.
fn next_ip() -> String {
    static NEXT: AtomicU8 = AtomicU8::new(2);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    format!("127.0.{}.{}", n / 250, n % 250 + 2)
}

/// What survives a restart of a node: its directory, address, identity.
#[derive(Clone)]
pub struct Seat {
    pub dir: PathBuf,
    pub addr: SocketAddr,
    pub identity: NodeIdentity,
    pub timing: RaftTiming,
}

/// A running node: Raft plus its gRPC server.
pub struct TestNode {
    pub node: RaftNode,
    pub seat: Seat,
    stop_server: oneshot::Sender<()>,
    server: JoinHandle<Result<(), tonic::transport::Error>>,
}

impl TestNode {
    /// A new node in a fresh directory under `root`.
    pub async fn new(
        root: &tempfile::TempDir,
        identity: NodeIdentity,
        timing: RaftTiming,
    ) -> TestNode {
        let listener = TcpListener::bind(format!("{}:0", next_ip()))
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seat = Seat {
            dir: root.path().join(&identity.node_id).join("swarm/raft"),
            addr,
            identity,
            timing,
        };
        TestNode::serve(seat, listener, false).await
    }

    /// Starts again from a stopped node's seat (its redb files).
    pub async fn restart(seat: Seat, force_new_cluster: bool) -> TestNode {
        let listener = eventually_async("the port is free again", || async {
            TcpListener::bind(seat.addr).await.ok()
        })
        .await;
        TestNode::serve(seat, listener, force_new_cluster).await
    }

    async fn serve(seat: Seat, listener: TcpListener, force_new_cluster: bool) -> TestNode {
        let node = RaftNode::open(
            RaftNodeConfig {
                dir: seat.dir.clone(),
                addr: seat.addr.to_string(),
                identity: seat.identity.clone(),
                timing: seat.timing.clone(),
                force_new_cluster,
            },
            Arc::new(SystemClock),
        )
        .await
        .expect("open raft node");
        let tls = rswarm_tls::server_config(&seat.identity).expect("server TLS");
        let incoming = TlsIncoming::new(listener, tls);
        let (stop_server, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(node.service())
                .serve_with_incoming_shutdown(incoming, async {
                    let _ = stopped.await;
                }),
        );
        TestNode {
            node,
            seat,
            stop_server,
            server,
        }
    }

    pub fn id(&self) -> &str {
        &self.seat.identity.node_id
    }

    pub fn addr(&self) -> String {
        self.seat.addr.to_string()
    }

    pub fn store(&self) -> Store {
        self.node.store()
    }

    /// Stops serving and stops Raft (as a crash would, minus the lost
    /// page cache: redb commits are durable). Returns the seat.
    pub async fn stop(self) -> Seat {
        let _ = self.stop_server.send(());
        let mut server = self.server;
        if tokio::time::timeout(Duration::from_secs(5), &mut server)
            .await
            .is_err()
        {
            server.abort();
        }
        self.node.shutdown().await.expect("shutdown");
        self.seat
    }
}

/// Polls `f` every 20 ms until it returns `Some`, at most [`WAIT`].
pub async fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    eventually_async(what, || std::future::ready(f())).await
}

/// [`eventually`] with an async probe.
pub async fn eventually_async<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until exactly one of `nodes` leads and all agree on it; returns
/// its position.
pub async fn leader_of(nodes: &[&TestNode]) -> usize {
    eventually("one leader that everybody follows", || {
        let leaders: Vec<usize> = (0..nodes.len())
            .filter(|i| nodes[*i].node.is_leader())
            .collect();
        let [l] = leaders[..] else { return None };
        let id = nodes[l].id();
        nodes
            .iter()
            .all(|n| n.node.leader().is_some_and(|p| p.node_id == id))
            .then_some(l)
    })
    .await
}

/// Every object and the index of a store.
pub fn state(store: &Store) -> (Vec<Object>, u64) {
    (store.view(|t| t.objects().collect()), store.index())
}

/// Waits until all stores hold the same objects at the same index as the
/// first one, and returns that state.
pub async fn converged(stores: &[Store]) -> (Vec<Object>, u64) {
    eventually("identical tables on every node", || {
        let first = state(&stores[0]);
        stores[1..]
            .iter()
            .all(|s| state(s) == first)
            .then_some(first)
    })
    .await
}

pub fn service(id: &str, name: &str) -> Object {
    let mut s = Service {
        id: id.into(),
        ..Default::default()
    };
    s.spec.name = name.into();
    Object::Service(s)
}

pub fn task(id: &str, service_id: &str) -> Object {
    Object::Task(Task {
        id: id.into(),
        service_id: service_id.into(),
        ..Default::default()
    })
}

/// Creates `obj` through `store`.
pub async fn create(store: &Store, obj: Object) -> Result<(), StoreError> {
    store.update(|tx| tx.create(obj)).await
}

/// Starts a 3-manager cluster: the first initializes, the second joins
/// through it, the third through the second (a follower: redirected).
pub async fn three(root: &tempfile::TempDir, ca: &Ca, timing: RaftTiming) -> Vec<TestNode> {
    let n1 = TestNode::new(root, ca.manager(), timing.clone()).await;
    n1.node.initialize().await.expect("initialize");
    let n2 = TestNode::new(root, ca.manager(), timing.clone()).await;
    n2.node.join(&n1.addr()).await.expect("n2 joins");
    let n3 = TestNode::new(root, ca.manager(), timing).await;
    n3.node
        .join(&n2.addr())
        .await
        .expect("n3 joins via a follower");
    let nodes = vec![n1, n2, n3];
    eventually("three voters seen by everybody", || {
        nodes
            .iter()
            .all(|n| n.node.members().iter().filter(|m| m.voter).count() == 3)
            .then_some(())
    })
    .await;
    nodes
}
