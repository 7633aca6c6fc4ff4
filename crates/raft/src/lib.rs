//! rswarm raft: the cluster store replicated between managers with
//! openraft, so any minority of managers can fail without losing an
//! acknowledged write.
//!
//! ```text
//!  manager: store.update(|tx| ..) ───────────────┐ (leader only)
//!                                                ▼
//!   Replicator::ready ── ensure_linearizable (quorum? caught up?)
//!   Replicator::replicate ── openraft client_write(Proposal)
//!                                │ append (redb, fsync)
//!                                ▼
//!   Network ══ gRPC rswarm.raft.Raft over mTLS ══► RaftService (peers)
//!        AppendEntries / Vote / InstallSnapshot chunks    │ authorize: manager cert
//!                                                         ▼   of this cluster
//!   committed ──► StateMachine::apply ──► Store::apply_committed (every manager)
//!                      │                    re-check versions, stamp log index,
//!                      │                    apply to tables, broadcast Commit
//!                      └─ every N entries (swarm spec, live): snapshot (tables
//!                         as JSON) in redb, log compacted but for the last
//!                         M; lagging peers get it in chunks
//! ```
//!
//! # Using it (the manager / daemon wiring)
//!
//! ```text
//! let node = RaftNode::open(RaftNodeConfig {
//!     dir: data_root.join("swarm/raft"),
//!     addr: advertise_addr.clone(),            // host:port of the swarm port
//!     identity: node_identity.clone(),         // manager certificate
//!     timing: RaftTiming::default(),
//!     force_new_cluster: false,                // swarm init --force-new-cluster
//! }, clock).await?;
//! let store = node.store();                    // give this to Manager::new
//! grpc_server.add_service(node.service());     // on the swarm port, beside CA etc.
//! node.initialize().await?;                    // swarm init (no-op if it has a cluster)
//! node.join("10.0.0.1:2377").await?;           // or: a new manager joins (any manager)
//! let mut lead = node.leadership();            // start/stop leader-only loops
//! ```
//!
//! * [`RaftNode::store`]: reads are local everywhere; `update` works on
//!   the leader and returns once committed and applied; on a follower it
//!   fails with `StoreError::NotLeader { leader_id, leader_addr }` (forward
//!   it), without a quorum with `StoreError::NoLeader` (Swarm's "The swarm
//!   does not have a leader..." → `ControlError::Unavailable`, 503).
//! * A write that fails with `NoLeader` because its quorum vanished
//!   *after* `ready` confirmed it (the entry was appended, then
//!   `commit_timeout` passed) may still commit later, as with any Raft
//!   log: the error means "not acknowledged", not "never applied". A
//!   leader that already lost its quorum refuses before appending.
//! * Versions: an object's `Version.Index` is the Raft log index of the
//!   entry that wrote it (same on every manager). Entries are re-checked
//!   when applied; one that no longer fits changes nothing anywhere and
//!   its writer gets `update out of sequence`.
//! * Leadership: [`RaftNode::is_leader`], [`RaftNode::leader`],
//!   [`RaftNode::leadership`] (a watch; `is_leader` only while a quorum
//!   answers, so an isolated leader stops its loops),
//!   [`RaftNode::wait_leadership`].
//! * Membership (leader only unless noted): [`RaftNode::initialize`],
//!   [`RaftNode::join`] (on the new manager),
//!   [`RaftNode::add_learner`], [`RaftNode::add_voter`] (promote),
//!   [`RaftNode::remove`] (demote / leave / `node rm`), guarded by
//!   [`RaftNode::can_remove`] (Swarm's quorum rule, "can't remove member
//!   from the raft: this would result in a loss of quorum", and never the
//!   last manager); [`RaftNode::members`] with [`Reachability`] for
//!   `node ls` MANAGER STATUS.
//! * Disaster recovery: `force_new_cluster: true` in the config.
//! * Backup and restore: [`RaftNode::backup`] (online, leader or
//!   follower) gives a [`Backup`]; [`Backup::encode`] / [`Backup::decode`]
//!   are the file format (magic, version, SHA-256);
//!   [`Backup::restore_into`] writes a new one-manager Raft state from it.
//! * Node IDs: Raft IDs are derived from swarm node IDs ([`raft_id`]); the
//!   membership keeps each member's [`Peer`] (node ID, address).
//! * Storage: `<dir>/raft.redb` (owner-only): log, vote, commit point,
//!   latest snapshot. Restart = open again.
//! * Timing: [`RaftTiming`], from Swarm's ticks with
//!   [`RaftTiming::from_ticks`] (default 100 ms tick: heartbeat 300 ms,
//!   election 1-1.5 s; fixed until the node reopens), 1 MiB chunks.
//! * Compaction: a snapshot every `Raft.SnapshotInterval` entries, the log
//!   behind it purged but for `Raft.LogEntriesForSlowFollowers`, both read
//!   from the cluster spec while the node runs (`swarm update
//!   --snapshot-interval` applies at once on every manager); the
//!   [`RaftTiming`] values until a cluster object exists.
//!
//! What it does not do: forward writes to the leader (the manager does,
//! from `NotLeader`), encrypt the log at rest (autolock), rotate TLS
//! certificates of a running node, update node objects' `ManagerStatus`
//! (the manager writes what [`RaftNode::members`] says), or issue the
//! restored manager's certificate (the daemon does).

mod append_budget;
mod auth;
mod backup;
mod compaction;
mod config;
mod contacts;
mod error;
mod force_new_cluster;
mod leadership;
mod members;
mod membership;
mod network;
mod node;
mod one_member;
mod replicator;
mod service;
#[allow(
    clippy::result_large_err,
    reason = "openraft's StorageError is the error type its storage traits impose"
)]
mod storage;
mod types;

pub use auth::authorize_manager;
pub use backup::{BACKUP_MAGIC, BACKUP_VERSION, Backup, BackupError};
pub use config::{DEFAULT_ELECTION_TICK, DEFAULT_HEARTBEAT_TICK, DEFAULT_TICK, RaftTiming};
pub use contacts::Reachability;
pub use error::{RaftNodeError, WOULD_LOSE_QUORUM};
pub use leadership::Leadership;
pub use members::{Member, can_remove};
pub use network::{Network, PeerClient};
pub use node::{RaftNode, RaftNodeConfig};
pub use service::{LEADER_ADDR_KEY, RaftService};
pub use storage::{DB_FILE, LogStore, SnapshotBuilder, StateMachine};
pub use types::{Applied, Peer, Raft, TypeConfig, raft_id};
