//! The seam between the store and durability/replication.

use async_trait::async_trait;

use crate::{Action, StoreError, Tables};

/// Makes a commit durable (and, with Raft, replicated) before the store
/// applies it. A commit that fails to propose is not applied.
#[async_trait]
pub trait Proposer: Send + Sync + std::fmt::Debug {
    /// Persists `actions` as commit `index`.
    async fn propose(&self, index: u64, actions: &[Action]) -> Result<(), StoreError>;

    /// The state persisted so far and its index (empty for a new store).
    fn load(&self) -> Result<(Tables, u64), StoreError>;
}

/// Keeps nothing: for tests and throw-away stores.
#[derive(Debug, Default)]
pub struct MemoryProposer;

#[async_trait]
impl Proposer for MemoryProposer {
    async fn propose(&self, _index: u64, _actions: &[Action]) -> Result<(), StoreError> {
        Ok(())
    }

    fn load(&self) -> Result<(Tables, u64), StoreError> {
        Ok((Tables::default(), 0))
    }
}
