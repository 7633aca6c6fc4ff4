//! Executors run tasks on a node. This crate holds the executor contract
//! the agent drives ([`Executor`], [`Controller`]), the built-in
//! `process` executor ([`ProcessExecutor`]), which runs a task's command as
//! a host process, the `docker` executor ([`DockerExecutor`]), which runs it
//! as a container on the node's Docker engine, and the [`LogStore`] keeping
//! task output.
//!
//! What it does not do: decide anything about task states (the agent maps
//! controller results to states) or talk to managers.

pub mod contract;
pub mod docker;
pub mod logs;
pub mod process;
pub mod unsupported;

pub use contract::*;
pub use docker::{DockerController, DockerExecutor};
pub use logs::{LogStore, LogWriter};
pub use process::{ProcessController, ProcessExecutor, kill_leftovers};
