//! The rswarm daemon puts one node together: it owns the data root,
//! serves the Docker Engine API on its sockets, and — once the node is in
//! a swarm — runs the manager (Raft node and its store, control API,
//! leader loops, dispatcher) and the agent with its executor.
//!
//! ```text
//!  unix/tcp sockets ─► engine-api router ─► NodeBackend ─► Manager::submit
//!                                                  (here if leader, else forwarded)
//!  Agent ── RemoteDispatcherClient (mTLS) ──► the leader's Dispatcher
//!           (own manager first; followers answer "not the leader")
//! ```
//!
//! `service logs` reads this node's tasks from its files and other nodes'
//! tasks through the manager's log broker (`task_logs`); a worker's agent
//! serves those subscriptions from its own files.
//!
//! Data root layout:
//! `swarm/certificates/` (root CA cert, node cert and key),
//! `swarm/raft/raft.redb` (Raft log, vote and snapshots: cluster state), `swarm/state.json` (node
//! config), `tasks/logs/` (task output).
//!
//! What it does not do: any orchestration decision (the manager does).

pub mod addr;
pub mod args;
pub mod backend;
pub mod backup;
pub mod error;
pub mod force_new_cluster;
pub mod networking;
pub mod node;
pub mod paths;
pub mod restore;
pub mod role;
pub mod run;
pub mod swarm_init;
pub mod swarm_join;
pub mod task_logs;

pub use args::DaemonArgs;
pub use run::run;
