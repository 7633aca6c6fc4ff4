//! Durable Raft state in redb: the log (with vote and commit point) and
//! the state machine (the store's tables, snapshots).

pub(crate) mod db;
mod log_store;
pub(crate) mod snapshot;
mod state_machine;

pub use db::DB_FILE;
pub use log_store::LogStore;
pub(crate) use log_store::{read_entries, read_meta, remove_entries, write_meta};
pub use state_machine::{SnapshotBuilder, StateMachine};
