//! The agent: every node runs one. It holds a session with the managers'
//! dispatcher (through [`DispatcherClient`], in-process on a manager or
//! over the network on a worker), receives the set of tasks assigned to
//! its node, runs one [`task_manager`] per task on the node's executor, and
//! reports status changes in batches.
//!
//! ```text
//!  dispatcher ──assignments──► Agent ──spawn/desired──► TaskManager ─► Controller
//!      ▲                                                    │
//!      └──────────── batched status ◄── StatusReporter ◄────┘
//! ```
//!
//! Rule on daemon shutdown: the agent stops every task process it runs
//! (stop signal, grace period, kill). After a restart, tasks the store
//! still shows as running on this node are reported `failed` ("task
//! process lost"), and their restart policy brings them back.
//!
//! With a data plane ([`Agent::with_data_plane`]) the agent also follows
//! the node's network map during each session and hands every update to
//! it ([`network_maps`]).
//!
//! What it does not do: decide placement or restarts (managers do).

pub mod agent;
pub mod client;
pub mod error;
pub mod network_maps;
pub mod remote;
pub mod reporter;
pub mod task_manager;
pub mod task_network;

pub use agent::{Agent, node_description};
pub use client::{DispatcherClient, NetworkMapStream};
pub use error::AgentError;
