//! The dispatcher: the manager's side of agent sessions. Agents register
//! (their node becomes `ready`), receive the full set of tasks assigned to
//! them whenever it changes, send heartbeats and report task status.
//! A node that misses its heartbeats for 3 periods goes `down`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rswarm_rt::{Clock, Shutdown};
use rswarm_store::{Event, Object, Store};
use rswarm_types::{
    ControlError, DEFAULT_HEARTBEAT_PERIOD, NodeDescription, NodeState, Task, TaskState,
    TaskStatus, Timestamp,
};
use tokio::sync::mpsc;

use crate::allocator;
use crate::sessions::Sessions;
use crate::status_batch::StatusBatcher;

/// One status report from an agent.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskStatusUpdate {
    /// The task.
    pub task_id: String,
    /// Its new observed status.
    pub status: TaskStatus,
}

/// The manager's session endpoint for agents.
#[derive(Clone, Debug)]
pub struct Dispatcher {
    store: Store,
    clock: Arc<dyn Clock>,
    last_beat: Arc<Mutex<HashMap<String, Timestamp>>>,
    /// Nodes that have not beaten since this dispatcher started get their
    /// grace period from here (Swarm's grace after a leader change).
    started: Timestamp,
    sessions: Arc<Sessions>,
    /// Status reports, written in batches (see `status_batch`).
    statuses: Arc<StatusBatcher>,
}

impl Dispatcher {
    /// A dispatcher over `store`.
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Dispatcher {
        let started = clock.now();
        let statuses = Arc::new(StatusBatcher::new(store.clone()));
        Dispatcher {
            store,
            clock,
            last_beat: Arc::default(),
            started,
            sessions: Arc::default(),
            statuses,
        }
    }

    /// The heartbeat period agents must respect.
    pub fn heartbeat_period(&self) -> Duration {
        let nanos = self
            .store
            .view(|t| t.cluster().and_then(|c| c.spec.dispatcher.heartbeat_period))
            .unwrap_or(DEFAULT_HEARTBEAT_PERIOD);
        Duration::from_nanos(nanos.max(0) as u64)
    }

    /// Registers a node's session: records its description and address,
    /// marks it `ready` and returns the new session's ID (any earlier
    /// session of the node becomes invalid).
    pub async fn register(
        &self,
        node_id: &str,
        description: NodeDescription,
        addr: &str,
    ) -> Result<String, ControlError> {
        let session = self
            .sessions
            .open(node_id, self.clock.now(), rswarm_rt::new_id)?;
        self.beat(node_id);
        let node_id = node_id.to_string();
        let addr = addr.to_string();
        self.store
            .update(|tx| {
                let mut node = tx
                    .node(&node_id)
                    .ok_or_else(|| ControlError::not_found("node", node_id.clone()))?;
                // The agent reports the TLS info of the certificate it holds;
                // an agent that reports none keeps what was recorded.
                let mut description = description;
                if description.tls_info.is_none() {
                    description.tls_info = node.description.tls_info.take();
                }
                node.description = description;
                node.status.state = NodeState::Ready;
                node.status.message.clear();
                if !addr.is_empty() {
                    node.status.addr = addr;
                }
                // Its routing-mesh endpoint, the first time it registers.
                if let Some(ingress) = allocator::ingress::ingress_network(tx.base()) {
                    let mut used = allocator::addresses_in_use(tx.base(), &ingress.id);
                    allocator::ingress::give_node_address(ingress, &mut node, &mut used);
                }
                tx.update(Object::Node(node))?;
                Ok::<_, ControlError>(())
            })
            .await?;
        Ok(session)
    }

    /// Checks that `session_id` is `node_id`'s current session; a stale
    /// session must register again.
    pub fn check_session(&self, node_id: &str, session_id: &str) -> Result<(), ControlError> {
        self.sessions.check(node_id, session_id)
    }

    /// Records a heartbeat; returns the period before the next one is due.
    pub fn heartbeat(&self, node_id: &str) -> Duration {
        self.beat(node_id);
        self.heartbeat_period()
    }

    fn beat(&self, node_id: &str) {
        let now = self.clock.now();
        if let Ok(mut m) = self.last_beat.lock() {
            m.insert(node_id.to_string(), now);
        }
    }

    /// The tasks assigned to a node: every task on it that the scheduler
    /// has placed (state ≥ assigned), as a full set.
    pub fn assigned_tasks(&self, node_id: &str) -> Vec<Task> {
        self.store.view(|t| assigned(t, node_id))
    }

    /// A stream of full assignment sets for `node_id`: the current set at
    /// once, then a new set after every commit that touches the node's
    /// tasks. Ends when the receiver is dropped or `shutdown` fires.
    pub fn assignments(&self, node_id: &str, shutdown: Shutdown) -> mpsc::Receiver<Vec<Task>> {
        let (tx, rx) = mpsc::channel(16);
        let this = self.clone();
        let node_id = node_id.to_string();
        tokio::spawn(async move {
            let (initial, mut events) = this.store.view_and_watch(|t| assigned(t, &node_id));
            if tx.send(initial).await.is_err() {
                return;
            }
            loop {
                let changed = tokio::select! {
                    _ = shutdown.wait() => return,
                    _ = tx.closed() => return,
                    r = events.recv() => match r {
                        Ok(c) => c.events.iter().any(|e| touches_node(e, &node_id)),
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => true,
                        Err(_) => return,
                    },
                };
                if changed && tx.send(this.assigned_tasks(&node_id)).await.is_err() {
                    return;
                }
            }
        });
        rx
    }

    /// Records task status reports from `node_id`, batched with other
    /// agents' reports into one write (`status_batch`). Reports for tasks
    /// of other nodes are refused; states never move backwards.
    pub async fn update_task_status(
        &self,
        node_id: &str,
        updates: Vec<TaskStatusUpdate>,
    ) -> Result<(), ControlError> {
        if updates.is_empty() {
            return Ok(());
        }
        self.beat(node_id);
        self.statuses.submit(node_id, updates).await
    }

    /// Marks nodes `down` when they miss 3 heartbeat periods. Runs until shutdown.
    pub async fn run(self, shutdown: Shutdown) {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tokio::select! {
                _ = shutdown.wait() => return,
                _ = tick.tick() => {}
            }
            if let Err(e) = self.expire().await {
                tracing::warn!("dispatcher: marking nodes down failed: {e}");
            }
        }
    }

    async fn expire(&self) -> Result<(), ControlError> {
        let now = self.clock.now();
        let grace = chrono::Duration::from_std(self.heartbeat_period() * 3).unwrap_or_default();
        let beats = self.last_beat.lock().map(|m| m.clone()).unwrap_or_default();
        let expired: Vec<String> = self.store.view(|t| {
            t.nodes()
                .filter(|n| n.status.state == NodeState::Ready)
                .filter(|n| match beats.get(&n.id) {
                    Some(at) => now - *at > grace,
                    // Not seen since this manager started: twice the grace
                    // to re-register, as Swarm gives after a leader change.
                    None => now - self.started > grace * 2,
                })
                .map(|n| n.id.clone())
                .collect()
        });
        if expired.is_empty() {
            return Ok(());
        }
        self.store
            .update(|tx| {
                for id in expired {
                    if let Some(mut node) = tx.node(&id) {
                        node.status.state = NodeState::Down;
                        node.status.message = "heartbeat failure".into();
                        tx.update(Object::Node(node))?;
                    }
                }
                Ok(())
            })
            .await
    }
}

/// The tasks on `node_id` that the scheduler has placed (state ≥ assigned).
fn assigned(t: &rswarm_store::Tables, node_id: &str) -> Vec<Task> {
    t.tasks_on_node(node_id)
        .filter(|t| t.status.state >= TaskState::Assigned)
        .cloned()
        .collect()
}

fn touches_node(e: &Event, node_id: &str) -> bool {
    match e {
        Event::Created(Object::Task(t)) | Event::Deleted(Object::Task(t)) => t.node_id == node_id,
        Event::Updated {
            old: Object::Task(a),
            new: Object::Task(b),
        } => a.node_id == node_id || b.node_id == node_id,
        _ => false,
    }
}
