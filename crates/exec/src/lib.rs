//! Executors run tasks on a node. This crate holds the executor contract
//! the agent drives ([`Executor`], [`Controller`]) and the built-in
//! `process` executor, which runs a task's command as a host process.
//!
//! What it does not do: decide anything about task states (the agent maps
//! controller results to states) or talk to managers.

pub mod contract;

pub use contract::*;
