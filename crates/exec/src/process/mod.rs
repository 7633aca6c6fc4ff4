//! The built-in `process` runtime: a task's `Command ++ Args` runs as a host
//! process ([`ProcessExecutor`] → [`ProcessController`]).
//!
//! Files: `executor` (the executor, node facts), `plan` (spec checks),
//! `controller` (the contract), `launch` (spawning, the exit monitor),
//! `output` (pipes to the log store), `enter` (a task's network
//! namespace and resolv.conf), `leftovers` (processes of an
//! earlier daemon run), `signal` and `user` (spec parsing).

mod controller;
mod enter;
mod executor;
mod launch;
mod leftovers;
mod output;
mod plan;
mod signal;
mod user;

pub use controller::ProcessController;
pub use executor::ProcessExecutor;
pub use leftovers::kill_leftovers;
pub use signal::parse_signal;
pub use user::{Identity, resolve_user};
