//! The seam between the store and a replicated log (Raft).
//!
//! A replicated store does not apply its own writes: [`crate::Store::update`]
//! hands the transaction's actions to the [`Replicator`] as a
//! [`Proposal`]; the log commits it, and every manager (the proposer too)
//! applies it through [`crate::Store::apply_committed`], in log order.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{Action, StoreError};

/// A write transaction as it travels through the replicated log.
///
/// Its actions carry the versions the transaction read (the *base*
/// versions, not yet stamped) and the proposer's `updated_at` /
/// `created_at` times, so every manager applies exactly the same change:
/// at apply time the actions are checked again against the tables (see
/// [`crate::Store::apply_committed`]) and stamped with the log index.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// The changes, in order.
    pub actions: Vec<Action>,
}

/// Replicates write transactions; implemented by the Raft node.
#[async_trait]
pub trait Replicator: Send + Sync + std::fmt::Debug {
    /// Called under the store's write lock before a transaction runs.
    /// Fails fast when this manager cannot commit
    /// ([`StoreError::NotLeader`], [`StoreError::NoLeader`]); returns once
    /// the local tables hold every entry committed before this call, so
    /// the transaction reads the latest state.
    async fn ready(&self) -> Result<(), StoreError>;

    /// Appends the proposal to the log and returns its log index once it
    /// is committed **and** applied locally. An entry that no longer fits
    /// the tables when applied changes nothing and fails with the check's
    /// error (e.g. [`StoreError::SequenceConflict`]); an entry that cannot
    /// be committed in time fails with [`StoreError::NoLeader`].
    async fn replicate(&self, proposal: Proposal) -> Result<u64, StoreError>;
}
