//! The log broker: brings the output of tasks on other nodes to this
//! manager (swarmkit's `LogBroker`, agent side).
//!
//! ```text
//!  Engine API logs ─subscribe(node, tasks)─► LogBroker ──Subscribe──► Listening (node's
//!        ▲                                     │  ▲                     ListenSubscriptions)
//!        └──── Subscription (lines) ◄──────────┘  └── Publisher ◄── node's PublishLogs
//! ```
//!
//! A node's agent keeps a [`Listening`] open (one per node; a new one
//! replaces the old). [`LogBroker::subscribe`] sends it a request and
//! returns a [`Subscription`] that yields the lines the node publishes
//! through the matching [`Publisher`]. The subscription ends when the
//! publisher is done (or goes away); dropping the subscription tells the
//! node to stop (a `Close` message) and makes the publisher's sends fail.
//!
//! Authorization lives here, whoever calls: a subscription only names
//! tasks the store places on its node, only that node may publish for it,
//! and only lines of those tasks.
//!
//! What it does not do: read local log files (the daemon does, for tasks
//! of its own node), wait for silent nodes (non-follow readers use
//! [`Subscription::collect`] with a timeout), or re-send subscriptions to
//! a node that reconnects.

mod subscription;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rswarm_store::Store;
use rswarm_types::Timestamp;
use tokio::sync::mpsc;

pub use subscription::{Listening, Publisher, Subscription};

/// How long a non-follow reader waits for a node to say something (first
/// lines, more lines or the end) before giving up on it.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(3);

/// Batches buffered between a publisher and its subscriber.
const BUFFERED_BATCHES: usize = 64;

/// Which lines a subscription wants from each task.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogSelection {
    /// Keep sending new lines until the subscription is dropped.
    pub follow: bool,
    /// Only the last N lines of each task (`None` = all).
    pub tail: Option<usize>,
    /// Only lines at or after this time.
    pub since: Option<Timestamp>,
    /// Include stdout lines.
    pub stdout: bool,
    /// Include stderr lines.
    pub stderr: bool,
}

/// A request sent to a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionRequest {
    /// The subscription's ID.
    pub id: String,
    /// Tasks on that node.
    pub task_ids: Vec<String>,
    /// Which lines.
    pub selection: LogSelection,
}

/// What a listening node receives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListenerMessage {
    /// Publish these lines.
    Subscribe(SubscriptionRequest),
    /// The subscriber of this ID went away: stop publishing.
    Close(String),
}

/// stdout or stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputStream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// One line of a remote task's output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteLogLine {
    /// The task.
    pub task_id: String,
    /// Its stream.
    pub stream: OutputStream,
    /// When it was produced.
    pub timestamp: Timestamp,
    /// The line, without its newline.
    pub line: String,
}

/// Why the broker refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BrokerError {
    /// The node has no open ListenSubscriptions stream (down, or not yet
    /// connected).
    #[error("node {0} is not connected to this manager")]
    NotListening(String),
    /// No subscription has this ID (never existed, or already over).
    #[error("unknown log subscription {0}")]
    UnknownSubscription(String),
    /// The subscription was sent to another node.
    #[error("log subscription {subscription} is not for node {node_id}")]
    WrongNode {
        /// The subscription.
        subscription: String,
        /// The node that tried to publish.
        node_id: String,
    },
    /// Someone already publishes for the subscription.
    #[error("log subscription {0} already has a publisher")]
    AlreadyPublishing(String),
    /// A published line belongs to a task outside the subscription.
    #[error("task {task_id} is not part of log subscription {subscription}")]
    ForeignTask {
        /// The subscription.
        subscription: String,
        /// The task of the refused line.
        task_id: String,
    },
    /// The subscriber went away.
    #[error("log subscription {0} is closed")]
    Closed(String),
}

/// The manager's log broker. Cheap to clone; clones share state.
#[derive(Clone, Debug)]
pub struct LogBroker {
    store: Store,
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    /// Node ID → its current listener.
    listeners: HashMap<String, Listener>,
    /// Subscription ID → where its lines go.
    routes: HashMap<String, Route>,
    next_listener: u64,
}

#[derive(Debug)]
struct Listener {
    id: u64,
    tx: mpsc::UnboundedSender<ListenerMessage>,
}

#[derive(Debug)]
struct Route {
    node_id: String,
    task_ids: Arc<HashSet<String>>,
    /// Taken by the publisher; `Some` until one binds.
    tx: Option<mpsc::Sender<Vec<RemoteLogLine>>>,
}

impl LogBroker {
    /// A broker checking placements in `store`.
    pub fn new(store: Store) -> LogBroker {
        LogBroker {
            store,
            state: Arc::default(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `node_id` has a listener now.
    pub fn is_listening(&self, node_id: &str) -> bool {
        self.state().listeners.contains_key(node_id)
    }

    /// Registers `node_id`'s listener, replacing (and ending) an older one.
    pub fn listen(&self, node_id: &str) -> Listening {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut state = self.state();
        state.next_listener += 1;
        let id = state.next_listener;
        state
            .listeners
            .insert(node_id.to_string(), Listener { id, tx });
        Listening::new(rx, node_id.to_string(), id, self.clone())
    }

    /// Asks `node_id` for the lines of `task_ids` (those the store places
    /// on that node; the others are dropped). Fails at once when the node
    /// is not listening.
    pub fn subscribe(
        &self,
        node_id: &str,
        task_ids: Vec<String>,
        selection: LogSelection,
    ) -> Result<Subscription, BrokerError> {
        let task_ids: Vec<String> = self.store.view(|t| {
            task_ids
                .into_iter()
                .filter(|id| t.task(id).is_some_and(|t| t.node_id == node_id))
                .collect()
        });
        let id = rswarm_rt::new_id();
        let (tx, rx) = mpsc::channel(BUFFERED_BATCHES);
        if task_ids.is_empty() {
            // Nothing to ask for: a subscription that is already over.
            return Ok(Subscription::new(id, rx, self.clone()));
        }
        let mut state = self.state();
        let listener = state
            .listeners
            .get(node_id)
            .ok_or_else(|| BrokerError::NotListening(node_id.to_string()))?;
        let request = SubscriptionRequest {
            id: id.clone(),
            task_ids: task_ids.clone(),
            selection,
        };
        listener
            .tx
            .send(ListenerMessage::Subscribe(request))
            .map_err(|_| BrokerError::NotListening(node_id.to_string()))?;
        state.routes.insert(
            id.clone(),
            Route {
                node_id: node_id.to_string(),
                task_ids: Arc::new(task_ids.into_iter().collect()),
                tx: Some(tx),
            },
        );
        drop(state);
        Ok(Subscription::new(id, rx, self.clone()))
    }

    /// Binds `node_id` as the publisher of `subscription_id`.
    pub fn publisher(
        &self,
        node_id: &str,
        subscription_id: &str,
    ) -> Result<Publisher, BrokerError> {
        let mut state = self.state();
        let route = state
            .routes
            .get_mut(subscription_id)
            .ok_or_else(|| BrokerError::UnknownSubscription(subscription_id.to_string()))?;
        if route.node_id != node_id {
            return Err(BrokerError::WrongNode {
                subscription: subscription_id.to_string(),
                node_id: node_id.to_string(),
            });
        }
        let tx = route
            .tx
            .take()
            .ok_or_else(|| BrokerError::AlreadyPublishing(subscription_id.to_string()))?;
        Ok(Publisher::new(
            subscription_id.to_string(),
            route.task_ids.clone(),
            tx,
            self.clone(),
        ))
    }

    /// The subscriber went away: forget the route and tell the node.
    fn unsubscribe(&self, subscription_id: &str) {
        let mut state = self.state();
        let Some(route) = state.routes.remove(subscription_id) else {
            return;
        };
        if let Some(listener) = state.listeners.get(&route.node_id) {
            let _ = listener
                .tx
                .send(ListenerMessage::Close(subscription_id.to_string()));
        }
    }

    /// The publisher is done: forget the route.
    fn unpublish(&self, subscription_id: &str) {
        self.state().routes.remove(subscription_id);
    }

    /// A listener went away: if it is still the node's current one, the
    /// node's subscriptions that no publisher took will never be answered,
    /// so they end now.
    fn unlisten(&self, node_id: &str, id: u64) {
        let mut state = self.state();
        if state.listeners.get(node_id).is_none_or(|l| l.id != id) {
            return;
        }
        state.listeners.remove(node_id);
        state
            .routes
            .retain(|_, r| r.node_id != node_id || r.tx.is_none());
    }
}
