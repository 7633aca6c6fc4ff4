//! The manager side of a node: the control API that validates and writes
//! user requests, the leader-only loops that turn specs into placed tasks,
//! and the dispatcher that hands tasks to agents and records their status.
//!
//! ```text
//!  control API ──writes specs──► store ◄──status── dispatcher ◄── agents
//!                                 │  ▲                 │
//!                    commit events│  │plans            └─► assignments
//!                                 ▼  │
//!            orchestrator loop (reconcile) ─ allocator+scheduler loop
//! ```
//!
//! Components never call each other: the store and its events are the
//! only bus. Decisions are made by the pure crates (`rswarm-orchestrator`,
//! `rswarm-scheduler`); the loops here only feed them and apply plans.
//!
//! The [`grpc`] module serves the CA, the dispatcher and the agent side of
//! the [`logbroker`] to other nodes over mutual TLS, checking each caller's
//! role and cluster.
//!
//! What it does not do: run tasks (the agent does) or speak HTTP.

pub mod allocator;
pub mod control;
pub mod dispatcher;
pub mod grpc;
pub mod logbroker;
pub mod loops;
pub mod manager;
pub mod mesh_map;
pub mod network_map;
pub mod sessions;
mod status_batch;

pub use control::ControlApi;
pub use dispatcher::Dispatcher;
pub use logbroker::LogBroker;
pub use manager::Manager;
