//! The cluster store: every manager component reads and writes cluster
//! state only through it, and learns about changes only from its events.
//!
//! ```text
//!  local (one manager):
//!  update(|tx| ...) ──► WriteTx (reads see own writes) ──► Proposer::propose
//!                                                          (durable, redb)
//!                                                            │ ok
//!                                         apply to Tables ◄──┘
//!                                                │
//!                     broadcast Commit{index, events} ──► watchers
//!
//!  replicated (Raft, see rswarm-raft):
//!  update(|tx| ...) ──► Replicator::ready (leader? caught up?) ──► WriteTx
//!        ▲                                                           │
//!        │ Ok once applied here          Replicator::replicate(Proposal)
//!        │                                                           ▼
//!        └──── apply_committed(index, Proposal) ◄── committed log, on every manager
//!                 re-check, stamp, apply to Tables, broadcast Commit
//! ```
//!
//! * [`Store::view`] reads a consistent state; [`Store::update`] runs a
//!   write transaction. Writes are serialized; every commit gets a higher
//!   index (the next one locally, the log index when replicated), which
//!   becomes the `Version.Index` of each object it writes.
//! * Updates check optimistic versions: writing an object whose
//!   `meta.version` is not the stored one fails with
//!   [`StoreError::SequenceConflict`]. A replicated entry is checked again
//!   when it is applied (on every manager, deterministically): one that
//!   no longer fits changes nothing and its proposer gets the error, so a
//!   leader that had not applied everything yet cannot fork the state.
//! * Service names are unique case-insensitively.
//! * [`Store::view_and_watch`] gives a snapshot plus a gap-free event
//!   stream. A watcher that lags gets `RecvError::Lagged` and must resync
//!   from a fresh view. An installed snapshot ([`Store::install`]) is
//!   published as one commit holding the difference.
//! * Durability is the [`Proposer`]'s job for one manager
//!   ([`RedbProposer`] persists each commit to a local redb file) and the
//!   [`Replicator`]'s for several ([`Store::replicated`],
//!   [`Store::attach_replicator`], [`Store::apply_committed`],
//!   [`Store::snapshot`]).
//!
//! What it does not do: validate specs, make decisions, talk to other
//! managers or forward writes to the leader.

mod apply;
pub mod error;
pub mod object;
pub mod proposer;
pub mod redb_proposer;
pub mod replicator;
pub mod store;
pub mod tables;
pub mod tx;

pub use error::{NO_LEADER, StoreError};
pub use object::{Action, Commit, Event, Kind, Object};
pub use proposer::{MemoryProposer, Proposer};
pub use redb_proposer::RedbProposer;
pub use replicator::{Proposal, Replicator};
pub use store::Store;
pub use tables::Tables;
pub use tx::WriteTx;
