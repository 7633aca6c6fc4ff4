//! The task state machine.
//!
//! A task's observed state only moves forward (it is a Lamport clock in
//! Swarm): `new → pending → assigned → accepted → preparing → ready →
//! starting → running → complete | shutdown | failed | rejected`, with
//! `remove` used only as a desired state and `orphaned` for tasks of
//! deleted or long-dead nodes. The numeric values are swarmkit's.

use serde::{Deserialize, Serialize};

/// Observed or desired state of a task.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum TaskState {
    /// Created by an orchestrator.
    #[default]
    New = 0,
    /// Network resources allocated; waiting for the scheduler.
    Pending = 64,
    /// Placed on a node by the scheduler.
    Assigned = 192,
    /// The node's agent took the task.
    Accepted = 256,
    /// The executor is preparing (pulling, creating).
    Preparing = 320,
    /// Prepared, not started.
    Ready = 384,
    /// Being started.
    Starting = 448,
    /// Running.
    Running = 512,
    /// Exited with code 0.
    Complete = 576,
    /// Stopped because its desired state was shutdown or beyond.
    Shutdown = 640,
    /// Failed at or after starting.
    Failed = 704,
    /// Failed before starting, or rejected by the manager.
    Rejected = 768,
    /// Desired state only: remove the task (scale-down, service removal).
    Remove = 800,
    /// Its node was removed or down too long.
    Orphaned = 832,
}

impl TaskState {
    /// All states, in order.
    pub const ALL: [TaskState; 14] = [
        TaskState::New,
        TaskState::Pending,
        TaskState::Assigned,
        TaskState::Accepted,
        TaskState::Preparing,
        TaskState::Ready,
        TaskState::Starting,
        TaskState::Running,
        TaskState::Complete,
        TaskState::Shutdown,
        TaskState::Failed,
        TaskState::Rejected,
        TaskState::Remove,
        TaskState::Orphaned,
    ];

    /// The lowercase name used by the Engine API.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::New => "new",
            TaskState::Pending => "pending",
            TaskState::Assigned => "assigned",
            TaskState::Accepted => "accepted",
            TaskState::Preparing => "preparing",
            TaskState::Ready => "ready",
            TaskState::Starting => "starting",
            TaskState::Running => "running",
            TaskState::Complete => "complete",
            TaskState::Shutdown => "shutdown",
            TaskState::Failed => "failed",
            TaskState::Rejected => "rejected",
            TaskState::Remove => "remove",
            TaskState::Orphaned => "orphaned",
        }
    }

    /// Parses the lowercase name.
    pub fn parse(s: &str) -> Option<TaskState> {
        TaskState::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// True for a desired state that asks a task to stop (shutdown or
    /// remove). Job tasks run with desired state `complete`, which is not
    /// a stop.
    pub fn wants_stop(self) -> bool {
        self > TaskState::Complete
    }

    /// True once the task has stopped for good (beyond running).
    pub fn is_terminal(self) -> bool {
        self > TaskState::Running
    }

    /// True when an observed state may move from `self` to `next`:
    /// forward only, and never out of a terminal state.
    pub fn can_transition_to(self, next: TaskState) -> bool {
        next > self && !self.is_terminal()
    }
}

impl std::fmt::Display for TaskState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_ordered_like_swarmkit() {
        for w in TaskState::ALL.windows(2) {
            assert!(w[0] < w[1], "{:?} < {:?}", w[0], w[1]);
        }
        assert_eq!(TaskState::Running as i32, 512);
        assert_eq!(TaskState::Orphaned as i32, 832);
    }

    #[test]
    fn transitions_only_forward_and_not_out_of_terminal() {
        assert!(TaskState::Assigned.can_transition_to(TaskState::Running));
        assert!(!TaskState::Running.can_transition_to(TaskState::Starting));
        assert!(!TaskState::Running.can_transition_to(TaskState::Running));
        assert!(TaskState::Running.can_transition_to(TaskState::Failed));
        assert!(!TaskState::Failed.can_transition_to(TaskState::Orphaned));
        assert!(!TaskState::Complete.can_transition_to(TaskState::Shutdown));
    }

    #[test]
    fn names_round_trip() {
        for s in TaskState::ALL {
            assert_eq!(TaskState::parse(s.as_str()), Some(s));
            let j = serde_json::to_string(&s).expect("json");
            assert_eq!(j, format!("\"{}\"", s.as_str()));
        }
        assert_eq!(TaskState::parse("allocated"), None);
    }
}
