//! Wires the leader loops together and runs them while this manager
//! leads; sends control writes to the leader when it does not.
//!
//! ```text
//!  Raft leadership watch ──gain──► lead(term): orchestrator, scheduler,
//!                        ◄─loss───             dispatcher heartbeats,
//!                                              manager statuses, roles
//!  submit(op) ── leader? ── yes ──► ControlApi::execute (local store)
//!                      └─── no ───► Forwarder ──Control.Forward──► leader
//! ```
//!
//! A manager without Raft ([`Manager::new`]) is always the leader: that
//! is the single-manager form the component tests use.

use std::sync::Arc;
use std::time::Duration;

use rswarm_pki::NodeIdentity;
use rswarm_raft::RaftNode;
use rswarm_rt::{Clock, Shutdown};
use rswarm_store::Store;
use rswarm_types::ControlError;

use crate::control::{ControlOp, ControlReply};
use crate::grpc::Forwarder;
use crate::loops::{
    manager_status_loop, network_key_loop, orchestrator_loop, role_loop, scheduler_loop,
};
use crate::{ControlApi, Dispatcher, LogBroker};

/// Swarm's words when no leader can take a write.
pub const NO_LEADER: &str = "The swarm does not have a leader. It's possible that too few managers are online. Make sure more than half of the managers are online.";

/// A running manager: its store, control API and dispatcher.
#[derive(Clone, Debug)]
pub struct Manager {
    /// The cluster store.
    pub store: Store,
    /// User-facing operations.
    pub control: ControlApi,
    /// Agent-facing operations.
    pub dispatcher: Dispatcher,
    /// Output of tasks on other nodes.
    pub log_broker: LogBroker,
    replication: Option<Replication>,
    clock: Arc<dyn Clock>,
    /// How often the leader rotates the key of encrypted networks.
    network_key_period: Duration,
}

/// This manager's Raft node and the way to its leader.
#[derive(Clone, Debug)]
struct Replication {
    raft: RaftNode,
    forwarder: Arc<Forwarder>,
}

impl Manager {
    /// A single manager over `store` (always the leader).
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Manager {
        Manager {
            control: ControlApi::new(store.clone(), clock.clone()),
            dispatcher: Dispatcher::new(store.clone(), clock.clone()),
            log_broker: LogBroker::new(store.clone()),
            store,
            replication: None,
            clock,
            network_key_period: network_key_loop::DEFAULT_PERIOD,
        }
    }

    /// Rotates the key of encrypted networks every `period` while leading
    /// (Swarm's 12 hours by default).
    pub fn with_network_key_period(mut self, period: Duration) -> Manager {
        self.network_key_period = period;
        self
    }

    /// A manager over `raft`'s replicated store; `identity` (its manager
    /// certificate) is how it reaches the leader with forwarded writes.
    pub fn replicated(
        raft: RaftNode,
        identity: &NodeIdentity,
        clock: Arc<dyn Clock>,
    ) -> Result<Manager, ControlError> {
        let forwarder = Forwarder::new(identity)
            .map_err(|e| ControlError::Internal(format!("manager TLS client: {e}")))?;
        let mut manager = Manager::new(raft.store(), clock);
        manager.control = manager.control.with_raft(raft.clone());
        manager.replication = Some(Replication {
            raft,
            forwarder: Arc::new(forwarder),
        });
        Ok(manager)
    }

    /// This manager's Raft node (`None` for a single manager without Raft).
    pub fn raft(&self) -> Option<&RaftNode> {
        self.replication.as_ref().map(|r| &r.raft)
    }

    /// True when this manager runs the leader loops and takes writes.
    pub fn is_leader(&self) -> bool {
        self.replication.as_ref().is_none_or(|r| r.raft.is_leader())
    }

    /// Runs a control write here when this manager leads, else on the
    /// leader; without a leader it fails with Swarm's 503 message.
    pub async fn submit(&self, op: ControlOp) -> Result<ControlReply, ControlError> {
        let Some(r) = &self.replication else {
            return self.control.execute(op).await;
        };
        if r.raft.is_leader() {
            return self.control.execute(op).await;
        }
        match r.raft.leader() {
            Some(leader) if leader.node_id != r.raft.me().node_id => {
                r.forwarder.forward(&leader, &op, r.raft.leadership()).await
            }
            _ => Err(ControlError::Unavailable(NO_LEADER.into())),
        }
    }

    /// Runs the leader loops whenever this manager leads, until
    /// `shutdown` fires.
    pub async fn run(self, shutdown: Shutdown) {
        let Some(r) = self.replication.clone() else {
            return self.lead(shutdown).await;
        };
        let mut leadership = r.raft.leadership();
        loop {
            // Wait to lead.
            while !leadership.borrow_and_update().is_leader {
                tokio::select! {
                    _ = shutdown.wait() => return,
                    changed = leadership.changed() => if changed.is_err() { return },
                }
            }
            tracing::info!("manager: this node is the swarm leader; starting the leader loops");
            let term = shutdown.child();
            let loops = tokio::spawn(self.clone().lead(term.clone()));
            // Lead until leadership is lost.
            let stop = loop {
                tokio::select! {
                    _ = shutdown.wait() => break true,
                    changed = leadership.changed() => {
                        if changed.is_err() { break true }
                        if !leadership.borrow_and_update().is_leader { break false }
                    }
                }
            };
            term.trigger();
            if let Err(e) = loops.await {
                tracing::error!("manager loops panicked: {e}");
            }
            if stop {
                return;
            }
            tracing::info!("manager: leadership lost; leader loops stopped");
        }
    }

    /// The leader-only loops, until `term` ends.
    async fn lead(self, term: Shutdown) {
        let mut handles = vec![
            tokio::spawn(orchestrator_loop::run(
                self.store.clone(),
                self.clock.clone(),
                term.clone(),
            )),
            tokio::spawn(scheduler_loop::run(
                self.store.clone(),
                self.clock.clone(),
                term.clone(),
            )),
            tokio::spawn(self.dispatcher.clone().run(term.clone())),
            tokio::spawn(network_key_loop::run(
                self.store.clone(),
                self.network_key_period,
                term.clone(),
            )),
        ];
        if let Some(r) = &self.replication {
            handles.push(tokio::spawn(manager_status_loop::run(
                r.raft.clone(),
                self.store.clone(),
                STATUS_PERIOD,
                term.clone(),
            )));
            handles.push(tokio::spawn(role_loop::run(
                r.raft.clone(),
                self.store.clone(),
                STATUS_PERIOD,
                term.clone(),
            )));
        }
        term.wait().await;
        for h in handles {
            if let Err(e) = h.await {
                tracing::error!("manager loop panicked: {e}");
            }
        }
    }
}

/// How often the leader refreshes the managers' `ManagerStatus`.
const STATUS_PERIOD: Duration = Duration::from_millis(500);
