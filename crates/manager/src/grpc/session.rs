//! The Session stream of one node: a first message (session ID, heartbeat
//! period, the managers' addresses, the node's recorded role), then one
//! more each time the node's role or the set of manager addresses changes,
//! until the agent goes away or the server stops.
//!
//! The role is what tells a node it was promoted or demoted (swarmkit
//! sends the whole node object for the same reason): the node renews its
//! certificate and starts or stops its manager.

use std::pin::Pin;

use futures_util::Stream;
use rswarm_proto::dispatcher::SessionMessage;
use rswarm_rt::Shutdown;
use rswarm_store::{Store, Tables};
use tokio::sync::mpsc;
use tonic::Status;

use super::node_watch::{NodeWatch, Signals};

type Messages = Pin<Box<dyn Stream<Item = Result<SessionMessage, Status>> + Send>>;

/// What the stream tells the node beyond its first message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Seen {
    role: String,
    managers: Vec<String>,
}

/// The node's role and the managers' addresses, as recorded in `t`.
fn seen(t: &Tables, node_id: &str) -> Seen {
    Seen {
        role: t
            .node(node_id)
            .map(|n| n.role.as_str().to_string())
            .unwrap_or_default(),
        managers: managers(t),
    }
}

/// `ip:port` of every manager that has one.
pub(super) fn managers(t: &Tables) -> Vec<String> {
    t.nodes()
        .filter_map(|n| n.manager_status.as_ref())
        .map(|m| m.addr.clone())
        .filter(|a| !a.is_empty())
        .collect()
}

/// The stream served to `node_id`: `first` (completed with what the
/// store says), then a message for each change of what it says.
pub(super) fn stream(
    store: Store,
    watch: &NodeWatch,
    node_id: String,
    first: SessionMessage,
    shutdown: Shutdown,
) -> Messages {
    let (tx, rx) = mpsc::channel(4);
    let signals = watch.nodes();
    tokio::spawn(async move {
        tokio::select! {
            _ = shutdown.wait() => {}
            _ = tx.closed() => {}
            _ = serve(&store, signals, &node_id, first, &tx) => {}
        }
    });
    Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|m| (m, rx))
    }))
}

async fn serve(
    store: &Store,
    mut signals: Signals,
    node_id: &str,
    first: SessionMessage,
    tx: &mpsc::Sender<Result<SessionMessage, Status>>,
) {
    // Subscribed before this view (see `node_watch`).
    let mut last = store.view(|t| seen(t, node_id));
    let message = |s: &Seen| SessionMessage {
        node_role: s.role.clone(),
        managers: s.managers.clone(),
        ..first.clone()
    };
    if tx.send(Ok(message(&last))).await.is_err() {
        return;
    }
    // Woken when node objects changed.
    while signals.recv().await.is_some() {
        let now = store.view(|t| seen(t, node_id));
        if now != last {
            if tx.send(Ok(message(&now))).await.is_err() {
                return;
            }
            last = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use std::sync::Arc;

    use rswarm_rt::SystemClock;
    use rswarm_store::{MemoryProposer, Object};
    use rswarm_types::{ManagerStatus, Node, NodeRole};

    fn node(id: &str, role: NodeRole, addr: Option<&str>) -> Node {
        Node {
            id: id.into(),
            role,
            manager_status: addr.map(|a| ManagerStatus {
                addr: a.into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn role_and_manager_changes_are_pushed() {
        let store = Store::open(Arc::new(MemoryProposer), Arc::new(SystemClock)).expect("store");
        store
            .update(|tx| {
                tx.create(Object::Node(node(
                    "m",
                    NodeRole::Manager,
                    Some("10.0.0.1:2377"),
                )))?;
                tx.create(Object::Node(node("w", NodeRole::Worker, None)))
            })
            .await
            .expect("nodes");
        let first = SessionMessage {
            session_id: "s".into(),
            heartbeat_period: 5,
            ..Default::default()
        };
        let shutdown = Shutdown::new();
        let watch = NodeWatch::start(&store, shutdown.clone());
        let mut s = stream(store.clone(), &watch, "w".into(), first, shutdown.clone());
        let m = s.next().await.expect("first").expect("ok");
        assert_eq!((m.session_id.as_str(), m.heartbeat_period), ("s", 5));
        assert_eq!(m.node_role, "worker");
        assert_eq!(m.managers, vec!["10.0.0.1:2377".to_string()]);

        // A change elsewhere (a service) sends nothing; a promotion does.
        store
            .update(|tx| {
                let mut w = tx.node("w").expect("w");
                w.role = NodeRole::Manager;
                tx.update(Object::Node(w))
            })
            .await
            .expect("promote");
        let m = s.next().await.expect("second").expect("ok");
        assert_eq!(m.node_role, "manager");
        assert_eq!(m.session_id, "s");
        shutdown.trigger();
        assert!(s.next().await.is_none());
    }
}
