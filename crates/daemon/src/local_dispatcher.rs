//! The agent's dispatcher client on a manager node: direct calls into
//! the local dispatcher (remote agents will use gRPC over mTLS).

use std::time::Duration;

use async_trait::async_trait;
use rswarm_agent::{AgentError, DispatcherClient};
use rswarm_manager::Dispatcher;
use rswarm_manager::dispatcher::TaskStatusUpdate;
use rswarm_rt::Shutdown;
use rswarm_types::{NodeDescription, Task, TaskStatus};
use tokio::sync::mpsc;

/// In-process dispatcher client.
#[derive(Debug)]
pub struct LocalDispatcherClient {
    dispatcher: Dispatcher,
    node_id: String,
    addr: String,
    shutdown: Shutdown,
    session: std::sync::Mutex<String>,
}

impl LocalDispatcherClient {
    /// A client for `node_id`.
    pub fn new(dispatcher: Dispatcher, node_id: String, addr: String, shutdown: Shutdown) -> Self {
        LocalDispatcherClient {
            dispatcher,
            node_id,
            addr,
            shutdown,
            session: std::sync::Mutex::default(),
        }
    }
}

impl LocalDispatcherClient {
    fn check_session(&self) -> Result<(), AgentError> {
        let session = self
            .session
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        self.dispatcher
            .check_session(&self.node_id, &session)
            .map_err(unavailable)
    }
}

fn unavailable(e: rswarm_types::ControlError) -> AgentError {
    AgentError::Unavailable(e.to_string())
}

#[async_trait]
impl DispatcherClient for LocalDispatcherClient {
    async fn register(&self, description: NodeDescription) -> Result<Duration, AgentError> {
        let ip = self
            .addr
            .rsplit_once(':')
            .map(|(ip, _)| ip)
            .unwrap_or(&self.addr);
        let session = self
            .dispatcher
            .register(&self.node_id, description, ip)
            .await
            .map_err(unavailable)?;
        *self.session.lock().unwrap_or_else(|e| e.into_inner()) = session;
        Ok(self.dispatcher.heartbeat_period())
    }

    async fn assignments(&self) -> Result<mpsc::Receiver<Vec<Task>>, AgentError> {
        Ok(self
            .dispatcher
            .assignments(&self.node_id, self.shutdown.clone()))
    }

    async fn update_task_status(
        &self,
        updates: Vec<(String, TaskStatus)>,
    ) -> Result<(), AgentError> {
        let updates = updates
            .into_iter()
            .map(|(task_id, status)| TaskStatusUpdate { task_id, status })
            .collect();
        self.check_session()?;
        self.dispatcher
            .update_task_status(&self.node_id, updates)
            .await
            .map_err(unavailable)
    }

    async fn heartbeat(&self) -> Result<Duration, AgentError> {
        self.check_session()?;
        Ok(self.dispatcher.heartbeat(&self.node_id))
    }
}
