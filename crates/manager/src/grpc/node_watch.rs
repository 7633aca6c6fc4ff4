//! One reader of the store's commits for every node's streams, as
//! swarmkit's dispatcher keeps one watch for all its sessions.
//!
//! ```text
//! Store commits ──broadcast──▶ NodeWatch (one task)
//!                                ├─ task changes on node N ──▶ N's Assignments streams
//!                                └─ any node object changed ──▶ every Session stream
//! ```
//!
//! Without it each of a thousand agents' streams woke for every commit
//! and scanned all its events for its own node; now a commit is read
//! once, and a stream wakes only when something it serves changed.
//!
//! The rules:
//! - A signal carries how many changes concern the subscriber (task
//!   events on its node, or 1 when node objects changed); streams batch
//!   on that count.
//! - A subscriber registers *before* it reads its first view, so no
//!   commit after that view is missed; a commit between registering and
//!   the view gives a spurious signal, which is harmless because every
//!   stream recomputes from the store's current state.
//! - When this reader lags behind the store (its broadcast receiver
//!   overflowed), every subscriber gets a signal.
//! - A subscriber that went away is dropped at the next signal for it.
//!
//! It does not read or send task contents: the streams read the store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rswarm_rt::Shutdown;
use rswarm_store::{Commit, Event, Kind, Object, Store};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// A count of changes for one subscriber.
pub(super) type Signals = UnboundedReceiver<usize>;

#[derive(Debug, Default)]
struct Subscribers {
    /// Assignments streams, by node ID.
    tasks: HashMap<String, Vec<UnboundedSender<usize>>>,
    /// Session streams.
    nodes: Vec<UnboundedSender<usize>>,
}

/// The fan-out; clones share it.
#[derive(Clone, Debug, Default)]
pub(super) struct NodeWatch {
    subs: Arc<Mutex<Subscribers>>,
}

impl NodeWatch {
    /// Starts reading `store`'s commits until `shutdown` fires or the
    /// store closes.
    pub(super) fn start(store: &Store, shutdown: Shutdown) -> NodeWatch {
        let watch = NodeWatch::default();
        let mut events = store.watch();
        let this = watch.clone();
        tokio::spawn(async move {
            loop {
                let r = tokio::select! {
                    _ = shutdown.wait() => return,
                    r = events.recv() => r,
                };
                match r {
                    Ok(commit) => this.dispatch(&commit),
                    Err(RecvError::Lagged(_)) => this.signal_all(),
                    Err(RecvError::Closed) => return,
                }
            }
        });
        watch
    }

    /// Signals of task changes on `node_id`.
    pub(super) fn tasks_on(&self, node_id: &str) -> Signals {
        let (tx, rx) = unbounded_channel();
        if let Ok(mut s) = self.subs.lock() {
            s.tasks.entry(node_id.to_string()).or_default().push(tx);
        }
        rx
    }

    /// Signals of changes to node objects.
    pub(super) fn nodes(&self) -> Signals {
        let (tx, rx) = unbounded_channel();
        if let Ok(mut s) = self.subs.lock() {
            s.nodes.push(tx);
        }
        rx
    }

    fn dispatch(&self, commit: &Commit) {
        let Ok(mut s) = self.subs.lock() else {
            return;
        };
        let mut counts: HashMap<&str, usize> = HashMap::new();
        let mut nodes_changed = false;
        for e in &commit.events {
            let (old, new) = match e {
                Event::Created(o) | Event::Deleted(o) => (None, o),
                Event::Updated { old, new } => (Some(old), new),
            };
            nodes_changed |= new.kind() == Kind::Node;
            if let Object::Task(t) = new {
                *counts.entry(t.node_id.as_str()).or_default() += 1;
                if let Some(Object::Task(o)) = old
                    && o.node_id != t.node_id
                {
                    *counts.entry(o.node_id.as_str()).or_default() += 1;
                }
            }
        }
        for (node, n) in counts {
            if let Some(senders) = s.tasks.get_mut(node) {
                senders.retain(|tx| tx.send(n).is_ok());
                if senders.is_empty() {
                    s.tasks.remove(node);
                }
            }
        }
        if nodes_changed {
            s.nodes.retain(|tx| tx.send(1).is_ok());
        }
    }

    fn signal_all(&self) {
        if let Ok(mut s) = self.subs.lock() {
            for senders in s.tasks.values_mut() {
                senders.retain(|tx| tx.send(1).is_ok());
            }
            s.tasks.retain(|_, v| !v.is_empty());
            s.nodes.retain(|tx| tx.send(1).is_ok());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rswarm_rt::SystemClock;
    use rswarm_store::MemoryProposer;
    use rswarm_types::{Node, Task};

    use super::*;

    fn task(id: &str, node: &str) -> Object {
        Object::Task(Task {
            id: id.into(),
            node_id: node.into(),
            ..Default::default()
        })
    }

    #[tokio::test]
    async fn signals_go_to_the_nodes_a_commit_touches() {
        let store = Store::open(Arc::new(MemoryProposer), Arc::new(SystemClock)).expect("store");
        let watch = NodeWatch::start(&store, Shutdown::new());
        let mut n1 = watch.tasks_on("n1");
        let mut n2 = watch.tasks_on("n2");
        let mut sessions = watch.nodes();
        store
            .update(|tx| {
                tx.create(task("a", "n1"))?;
                tx.create(task("b", "n1"))
            })
            .await
            .expect("create");
        assert_eq!(n1.recv().await, Some(2));
        // A task moving from n1 to n2 concerns both.
        store
            .update(|tx| {
                let mut a = tx.task("a").expect("a");
                a.node_id = "n2".into();
                tx.update(Object::Task(a))
            })
            .await
            .expect("move");
        assert_eq!(n1.recv().await, Some(1));
        assert_eq!(n2.recv().await, Some(1));
        assert!(n2.try_recv().is_err(), "one signal per commit");
        assert!(sessions.try_recv().is_err(), "no node changed yet");
        store
            .update(|tx| {
                tx.create(Object::Node(Node {
                    id: "n3".into(),
                    ..Default::default()
                }))
            })
            .await
            .expect("node");
        assert_eq!(sessions.recv().await, Some(1));
        assert!(n1.try_recv().is_err() && n2.try_recv().is_err());
    }

    #[tokio::test]
    async fn a_subscriber_that_went_away_is_dropped() {
        let store = Store::open(Arc::new(MemoryProposer), Arc::new(SystemClock)).expect("store");
        let watch = NodeWatch::start(&store, Shutdown::new());
        drop(watch.tasks_on("n1"));
        store
            .update(|tx| tx.create(task("a", "n1")))
            .await
            .expect("create");
        tokio::task::yield_now().await;
        let mut later = watch.tasks_on("n2");
        store
            .update(|tx| tx.create(task("b", "n2")))
            .await
            .expect("create");
        assert_eq!(later.recv().await, Some(1));
        assert!(!watch.subs.lock().expect("lock").tasks.contains_key("n1"));
    }
}
