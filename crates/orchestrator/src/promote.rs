//! Promotion: a task created with desired state `ready` (restart
//! replacement, stop-first update) gets desired `running` once
//!
//! - its delay has passed: the restart delay (default 5 s) counted from the
//!   failure time of the task it replaces, or 0 when that task's node is
//!   drained or the replacement is an update; and
//! - the tasks it replaces have stopped (beyond `running`, never assigned,
//!   or their node is down or gone), or one minute has passed since the
//!   replacement was created (swarmkit's `TaskTimeout`).
//!
//! Everything is read from the tasks, so a new leader resumes pending
//! restarts where the old one left them.

use rswarm_types::{Nanos, SECOND, Task, TaskState, Timestamp};

use crate::dirty::tasks_differ;
use crate::group::{Group, by_creation, is_runnable};
use crate::plan::{Draft, after};
use crate::view::Nodes;

/// How long a replacement waits for the old task to stop.
pub(crate) const OLD_TASK_TIMEOUT: Nanos = 60 * SECOND;

/// Promotes the group's `ready` tasks that may start now; records when the
/// others may.
pub(crate) fn promote(d: &mut Draft, g: &Group, nodes: &Nodes) {
    let now = d.now();
    for &r in &g.members {
        let task = d.task(r);
        if task.desired_state != TaskState::Ready || task.status.state > TaskState::Running {
            continue;
        }
        let preds = predecessors(d, g, r);
        let (ready_at, waits) = match preds.iter().copied().max_by(|a, b| by_creation(a, b)) {
            None => (now, false),
            Some(p) => {
                let waits = preds.iter().any(|p| still_running(p, nodes));
                (ready_at(task, p, nodes), waits)
            }
        };
        let timeout = after(task.meta.created_at, OLD_TASK_TIMEOUT);
        if now >= ready_at && (!waits || now >= timeout) {
            d.set_desired(r, TaskState::Running);
        } else {
            d.wake_at(ready_at);
            if waits {
                d.wake_at(timeout);
            }
        }
    }
}

/// The tasks `r` replaces: stopped (or stopping) members created before it.
fn predecessors<'d>(d: &'d Draft, g: &Group, r: usize) -> Vec<&'d Task> {
    let task = d.task(r);
    g.members
        .iter()
        .filter(|&&j| j != r)
        .map(|&j| d.task(j))
        .filter(|p| !is_runnable(p) && p.meta.created_at <= task.meta.created_at)
        .collect()
}

/// When the `ready` task `r` of the group may (or might have) become
/// `running`, ignoring whether the tasks it replaces stopped: its restart
/// delay is over. A `ready` task rejected before that time is restarted
/// only then (swarmkit's `Restart` waits for the old task's restart delay
/// "to avoid tight restart loops, for example when the image doesn't
/// exist").
pub(crate) fn delay_end(d: &Draft, g: &Group, r: usize, nodes: &Nodes) -> Timestamp {
    predecessors(d, g, r)
        .into_iter()
        .max_by(|a, b| by_creation(a, b))
        .map_or(d.now(), |p| ready_at(d.task(r), p, nodes))
}

/// When replacement `r` of `p` may start, ignoring whether `p` stopped.
///
/// The delay counts from `p`'s failure, or from `r`'s creation if that is
/// earlier (a replacement created late, after a leader change, does not
/// wait twice). A rejected `p` never ran: it is replaced only once its own
/// delay is over ([`delay_end`]), so its replacement's delay counts from
/// its creation, one task per delay.
fn ready_at(r: &Task, p: &Task, nodes: &Nodes) -> Timestamp {
    let delay = if tasks_differ(p, r) || nodes.drained(&p.node_id) {
        0
    } else {
        r.spec.restart_policy.clone().unwrap_or_default().delay()
    };
    let start = if p.status.state > TaskState::Running && p.status.state != TaskState::Rejected {
        p.status.timestamp.min(r.meta.created_at)
    } else {
        r.meta.created_at
    };
    after(start, delay)
}

/// The task may still be running somewhere that will report it stopping.
fn still_running(p: &Task, nodes: &Nodes) -> bool {
    (TaskState::Assigned..=TaskState::Running).contains(&p.status.state)
        && !p.node_id.is_empty()
        && !nodes.down_or_gone(&p.node_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::Key;
    use rswarm_types::{Availability, ContainerSpec, Node, NodeState, RestartPolicy, Version};

    fn at(s: i64) -> Timestamp {
        chrono::DateTime::from_timestamp(1_700_000_000 + s, 0).expect("time")
    }

    fn task(id: &str, created: i64, desired: TaskState, state: TaskState, state_at: i64) -> Task {
        let mut t = Task {
            id: id.into(),
            desired_state: desired,
            node_id: "n1".into(),
            ..Default::default()
        };
        t.meta.created_at = at(created);
        t.status.state = state;
        t.status.timestamp = at(state_at);
        t.spec_version = Some(Version { index: 1 });
        t
    }

    fn nodes(state: NodeState, availability: Availability) -> Vec<Node> {
        let mut n = Node {
            id: "n1".into(),
            ..Default::default()
        };
        n.status.state = state;
        n.spec.availability = availability;
        vec![n]
    }

    /// (name, old task state, node, update?, now, promoted, wake-up)
    #[test]
    fn promotion_table() {
        use TaskState::*;
        let ready = (NodeState::Ready, Availability::Active);
        let cases = [
            (
                "failed: waits for delay",
                Failed,
                ready,
                false,
                12,
                false,
                Some(15),
            ),
            ("failed: delay over", Failed, ready, false, 15, true, None),
            (
                "drained: no delay, waits for stop",
                Running,
                (NodeState::Ready, Availability::Drain),
                false,
                12,
                false,
                Some(72),
            ),
            (
                "drained and stopped",
                Shutdown,
                (NodeState::Ready, Availability::Drain),
                false,
                12,
                true,
                None,
            ),
            (
                "down node: delay from creation",
                Running,
                (NodeState::Down, Availability::Active),
                false,
                14,
                false,
                Some(17),
            ),
            (
                "down node: delay over",
                Running,
                (NodeState::Down, Availability::Active),
                false,
                17,
                true,
                None,
            ),
            (
                "update: waits for old",
                Running,
                ready,
                true,
                12,
                false,
                Some(72),
            ),
            ("update: old stopped", Shutdown, ready, true, 12, true, None),
            ("update: timeout", Running, ready, true, 72, true, None),
        ];
        for (name, old_state, (ns, av), update, now, promoted, wake) in cases {
            let old = task("old", 0, Shutdown, old_state, 10);
            let mut new = task("new", 12, Ready, New, 12);
            new.spec.restart_policy = Some(RestartPolicy {
                delay: Some(5 * SECOND),
                ..Default::default()
            });
            if update {
                new.spec_version = Some(Version { index: 2 });
                new.spec.container_spec = Some(ContainerSpec {
                    image: "v2".into(),
                    ..Default::default()
                });
            }
            let tasks = vec![old, new];
            let ns = nodes(ns, av);
            let nodes = Nodes::new(&ns);
            let mut ids = || String::new();
            let mut d = Draft::new(&tasks, at(now), &mut ids);
            promote(
                &mut d,
                &Group {
                    key: Key::Slot(1),
                    members: vec![0, 1],
                },
                &nodes,
            );
            let got = d.task(1).desired_state == Running;
            let (_, w) = d.finish();
            assert_eq!(got, promoted, "{name}");
            assert_eq!(w, wake.map(at), "{name}");
        }
    }

    #[test]
    fn lone_ready_task_starts() {
        let tasks = vec![task("r", 0, TaskState::Ready, TaskState::New, 0)];
        let ns = nodes(NodeState::Ready, Availability::Active);
        let mut ids = || String::new();
        let mut d = Draft::new(&tasks, at(1), &mut ids);
        promote(
            &mut d,
            &Group {
                key: Key::Slot(1),
                members: vec![0],
            },
            &Nodes::new(&ns),
        );
        assert_eq!(d.task(0).desired_state, TaskState::Running);
    }
}
