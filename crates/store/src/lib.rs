//! The cluster store: every manager component reads and writes cluster
//! state only through it, and learns about changes only from its events.
//!
//! ```text
//!  update(|tx| ...) ──► WriteTx (reads see own writes) ──► Proposer::propose
//!                                                     (durable / replicated)
//!                                                            │ ok
//!                                         apply to Tables ◄──┘
//!                                                │
//!                     broadcast Commit{index, events} ──► watchers
//! ```
//!
//! * [`Store::view`] reads a consistent state; [`Store::update`] runs a
//!   write transaction. Writes are serialized; every commit gets the next
//!   index, which becomes the `Version.Index` of each object it writes.
//! * Updates check optimistic versions: writing an object whose
//!   `meta.version` is not the stored one fails with
//!   [`StoreError::SequenceConflict`].
//! * Service names are unique case-insensitively.
//! * [`Store::view_and_watch`] gives a snapshot plus a gap-free event
//!   stream. A watcher that lags gets `RecvError::Lagged` and must resync
//!   from a fresh view.
//! * Durability is the [`Proposer`]'s job: [`RedbProposer`] persists each
//!   commit to a local redb file; Raft replication will implement the same
//!   trait.
//!
//! What it does not do: validate specs or make decisions.

pub mod error;
pub mod object;
pub mod proposer;
pub mod redb_proposer;
pub mod store;
pub mod tables;
pub mod tx;

pub use error::StoreError;
pub use object::{Action, Commit, Event, Kind, Object};
pub use proposer::{MemoryProposer, Proposer};
pub use redb_proposer::RedbProposer;
pub use store::Store;
pub use tables::Tables;
pub use tx::WriteTx;
