//! Wires the leader loops together and runs them until shutdown.

use std::sync::Arc;

use rswarm_rt::{Clock, Shutdown};
use rswarm_store::Store;

use crate::loops::{orchestrator_loop, scheduler_loop};
use crate::{ControlApi, Dispatcher, LogBroker};

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
    clock: Arc<dyn Clock>,
}

impl Manager {
    /// A manager over `store`.
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Manager {
        Manager {
            control: ControlApi::new(store.clone(), clock.clone()),
            dispatcher: Dispatcher::new(store.clone(), clock.clone()),
            log_broker: LogBroker::new(store.clone()),
            store,
            clock,
        }
    }

    /// Runs the leader loops until `shutdown` fires. (With a single
    /// manager this node is always the leader.)
    pub async fn run(self, shutdown: Shutdown) {
        let orch = tokio::spawn(orchestrator_loop::run(
            self.store.clone(),
            self.clock.clone(),
            shutdown.clone(),
        ));
        let sched = tokio::spawn(scheduler_loop::run(
            self.store.clone(),
            self.clock.clone(),
            shutdown.clone(),
        ));
        let hb = tokio::spawn(self.dispatcher.clone().run(shutdown.clone()));
        shutdown.wait().await;
        for h in [orch, sched, hb] {
            if let Err(e) = h.await {
                tracing::error!("manager loop panicked: {e}");
            }
        }
    }
}
