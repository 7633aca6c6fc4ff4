//! The agent's view of the dispatcher.

use std::pin::Pin;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::Stream;
use rswarm_types::{NetworkMapUpdate, NodeDescription, Task, TaskStatus};
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
    /// Updates of this node's network map: a snapshot, then deltas, in
    /// order. The stream ends when the session's stream breaks; opening
    /// it again starts with a snapshot. By default it never yields (a
    /// dispatcher without network maps).
    async fn network_maps(&self) -> Result<NetworkMapStream, AgentError> {
        Ok(Box::pin(futures_util::stream::pending()))
    }
}

/// Network map updates as [`DispatcherClient::network_maps`] yields them.
pub type NetworkMapStream = Pin<Box<dyn Stream<Item = NetworkMapUpdate> + Send>>;
