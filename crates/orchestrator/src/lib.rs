//! rswarm orchestrators: pure reconcile logic for replicated and global
//! services, restarts, rolling updates and task history.
//!
//! The manager's leader loop calls [`reconcile`] on every store change and
//! when [`next_wakeup`] says time alone will change a decision. A pass is a
//! pure function of `(snapshot, now)` returning a [`Plan`]; the manager
//! applies it in one transaction. Passes are level-triggered and
//! idempotent: all state (restart counts, pending restarts, update
//! progress) is read back from the stored tasks, so a pass over the state
//! a plan produced returns an empty plan, and a new leader simply carries
//! on.
//!
//! ```text
//!  View { nodes, services, tasks, history limit }, now, new_id
//!    │
//!    ├─ tasks of deleted services ──────────────▶ desired remove
//!    │
//!    ├─ jobs: runs of the current iteration ───▶ create (desired complete) | stop old
//!    │
//!    ├─ per service (replicated | global)
//!    │    1 failure check ─────────────────────▶ paused | rollback (spec ← previous)
//!    │    2 restart supervisor (per slot/node) ─▶ old: desired shutdown
//!    │                                            new: desired ready (same slot/node)
//!    │      replicated: scale slots 1..N ──────▶ create lowest free | remove preferred
//!    │      global: one task per eligible node ▶ create (node pre-set) | shutdown
//!    │    3 rolling update (parallelism, delay, stop-first | start-first)
//!    │    4 promote ready → running (delay passed, old task stopped)
//!    │    5 UpdateStatus: updating → completed (after monitor)
//!    │
//!    └─ task reaper ───────────────────────────▶ delete removed + old history
//!                                                  │
//!  Plan { create_tasks, update_tasks, delete_tasks, update_services }
//!  next_wakeup: earliest restart delay / update delay / monitor end
//! ```
//!
//! Key types: [`View`] (input), [`Plan`] (output), [`is_task_dirty`] (the
//! update criterion), [`node_matches`] (placement constraints).
//!
//! Non-goals: no I/O, no clock, no async, no randomness (IDs come from the
//! caller). Placement is the scheduler's job: replicated tasks are created
//! without a node. Jobs get runs per iteration, restarts and node
//! eligibility, but no rolling update, no history pruning and no moves
//! off down or drained nodes for replicated jobs.
//!
//! Differences from swarmkit, all from reading state back instead of
//! keeping it in leader memory: restart history survives failovers (it is
//! the slot's tasks); an update failure is any failure of a task the
//! update created, not only one within `Monitor` of its start, and a task
//! that stopped as `shutdown` is not one; tasks of dead slots get desired
//! `remove` (the reaper deletes them once stopped) instead of being deleted
//! while they may still run.
//!
//! Expected of the control API (as in Swarm): a user update sets
//! `previous_spec`, a new `spec_version` and clears `update_status`;
//! `service rollback` swaps the specs and sets `rollback_started`; a job
//! re-run bumps `job_status.job_iteration`.

mod constraint;
pub mod dirty;
mod engine;
mod global;
mod group;
mod jobs;
mod plan;
mod promote;
mod reaper;
mod replicated;
mod restart;
mod service;
mod status;
mod update;
mod view;

pub use constraint::node_matches;
pub use dirty::is_task_dirty;
pub use plan::Plan;
pub use view::View;

use rswarm_types::Timestamp;

/// Decides what to write so that the store converges towards the
/// services' specs. `new_id` supplies IDs for created tasks.
pub fn reconcile(view: &View, now: Timestamp, new_id: &mut dyn FnMut() -> String) -> Plan {
    engine::run(view, now, new_id).0
}

/// [`reconcile`] and [`next_wakeup`] in one pass (the loop needs both;
/// each is a pass over every task).
pub fn reconcile_and_wakeup(
    view: &View,
    now: Timestamp,
    new_id: &mut dyn FnMut() -> String,
) -> (Plan, Option<Timestamp>) {
    engine::run(view, now, new_id)
}

/// Earliest future time at which [`reconcile`] would decide something new
/// without any store change (restart delays, update delays and monitor
/// periods, old-task timeouts). `None` if nothing is pending.
pub fn next_wakeup(view: &View, now: Timestamp) -> Option<Timestamp> {
    let mut n = 0u64;
    let mut probe = || {
        n += 1;
        format!("wakeup-probe-{n}")
    };
    engine::run(view, now, &mut probe).1
}
