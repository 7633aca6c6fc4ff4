//! rswarm scheduler: pure task placement with Docker Swarm's semantics.
//!
//! [`schedule`] takes a snapshot of all nodes and tasks and decides, for
//! every pending task, the node it goes to or why it cannot go anywhere.
//! The caller (the manager's scheduler loop) writes the decisions to the
//! store: `Assign` moves the task to `assigned` on that node, and
//! `Unschedulable` leaves it `pending` with the reason as its error.
//!
//! What it does not do: read the store, the clock or randomness, keep state
//! between calls, debounce, or retry. Swarm's "node with 5 recent failures
//! of this service sorts last" rule needs failure history and time, so it is
//! not applied here; plugin and volume filters are not implemented.
//!
//! Key types: [`Decision`], [`Outcome`], [`schedule`].
//!
//! ```text
//!  nodes, tasks
//!       |
//!    classify --- active tasks on nodes ---> NodeSet: free CPU/memory, task counts
//!       |                                     ^ (every Assign adds load, so later
//!       |                                     |  decisions see earlier ones)
//!       +-- pinned (pending, NodeID set) -----+--> pipeline on that node only
//!       |                                              -> Assign | Unschedulable
//!       +-- groups by (service, spec version)
//!              |
//!              v  once per group, on every node:
//!           Ready -> Resources -> Constraints -> Platform -> HostPort -> MaxReplicas
//!              |                                         |
//!              v eligible nodes                          v nothing (left) fits
//!           spread tree (preferences)                  explain, per filter:
//!           + node heap (fewest tasks                    "no suitable node (scheduling
//!             of service, then in total, then ID)        constraints not satisfied on
//!              |                                         3 nodes; ...)"
//!              v
//!           Assign, one task at a time
//! ```
//!
//! Output is deterministic: the same input gives the same decisions in the
//! same order (pinned tasks by ID, then groups by service and version,
//! tasks by slot and ID), whatever the order of the input slices.

mod constraint;
mod explain;
mod filters;
mod group;
mod nodeset;
mod place;
mod spread;

use rswarm_types::{Node, Task};

/// The scheduler's verdict on one pending task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The task decided on.
    pub task_id: String,
    /// Where it goes, or why nowhere.
    pub outcome: Outcome,
}

/// Where a task goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Run the task on this node (the task becomes `assigned`).
    Assign {
        /// The chosen node.
        node_id: String,
    },
    /// No node fits; the task stays `pending` with this error, e.g.
    /// `no suitable node (scheduling constraints not satisfied on 3 nodes)`.
    Unschedulable {
        /// Swarm's explanation.
        reason: String,
    },
}

impl Decision {
    /// The chosen node, if the task was assigned.
    pub fn node_id(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::Assign { node_id } => Some(node_id),
            Outcome::Unschedulable { .. } => None,
        }
    }
}

/// Decides placement for every pending task.
///
/// `nodes`: all nodes. `tasks`: all tasks in the store. Schedules the tasks
/// whose `status.state == Pending` and `desired_state <= Running`. Other
/// tasks count as load: a task is "active" on its node when
/// `node_id != ""`, `desired_state <= Running` and `status.state <= Running`.
///
/// Pending tasks that already have a `node_id` (global services) are only
/// checked against that node; their refusal reason is the bare explanation
/// (`1 node not available for new tasks`), or `node <id> not found`.
/// Every other pending task is spread over the nodes passing the filter
/// pipeline; when none can take it, the reason is
/// `no suitable node (<explanations>)`.
pub fn schedule(nodes: &[Node], tasks: &[Task]) -> Vec<Decision> {
    let work = group::classify(tasks);
    let mut set = nodeset::NodeSet::new(nodes);
    for t in &work.load {
        set.add_existing(t);
    }
    let mut out =
        Vec::with_capacity(work.pinned.len() + work.groups.iter().map(Vec::len).sum::<usize>());
    for t in &work.pinned {
        out.push(place::place_pinned(&mut set, t));
    }
    for g in &work.groups {
        place::place_group(&mut set, g, &mut out);
    }
    out
}
