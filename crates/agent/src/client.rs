//! The agent's view of the dispatcher.

use std::time::Duration;

use async_trait::async_trait;
use rswarm_types::{NodeDescription, Task, TaskStatus};
use tokio::sync::mpsc;

use crate::AgentError;

/// A session endpoint on the managers' side.
#[async_trait]
pub trait DispatcherClient: Send + Sync + 'static {
    /// Registers this node's session; returns the heartbeat period.
    async fn register(&self, description: NodeDescription) -> Result<Duration, AgentError>;
    /// Full sets of the tasks assigned to this node: the current set first,
    /// then a new set whenever it changes. The channel closes when the
    /// session ends.
    async fn assignments(&self) -> Result<mpsc::Receiver<Vec<Task>>, AgentError>;
    /// Reports observed task statuses.
    async fn update_task_status(
        &self,
        updates: Vec<(String, TaskStatus)>,
    ) -> Result<(), AgentError>;
    /// Keeps the session alive; returns the period before the next beat.
    async fn heartbeat(&self) -> Result<Duration, AgentError>;
}
