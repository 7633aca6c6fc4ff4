//! Multi-step scenarios: the orchestrator driven against a simulated store,
//! scheduler and agents (see `sim.rs`). Every pass is checked for
//! idempotence.

mod global;
mod jobs;
mod mixed;
mod reaper;
mod rejected;
mod replicated;
mod restart;
mod sim;
mod update;
