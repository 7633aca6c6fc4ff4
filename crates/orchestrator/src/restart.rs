//! The restart supervisor: a task that should run but stopped (or sits on
//! a node that is gone, down or drained) is shut down and, if its restart
//! policy allows, replaced in the same slot (or on the same node) by a
//! task with desired state `ready`, which [`crate::promote`] starts later.
//!
//! Swarm keeps restart history in leader memory; here it is read from the
//! stored tasks, so it survives failovers: the restarts of a slot are its
//! tasks with the failed task's spec version, minus the first one.

use rswarm_types::{Nanos, RestartCondition, Service, Task, TaskState};

use crate::dirty::is_task_dirty;
use crate::group::{Group, by_creation, is_runnable};
use crate::plan::{Draft, after};
use crate::promote::delay_end;
use crate::view::Nodes;

/// May `t`, which stopped (or must move), be replaced? `group` is every
/// task of its slot (replicated) or node (global), `t` included.
///
/// `none` never restarts; `on-failure` does not restart a completed task;
/// with `MaxAttempts > 0`, restarts of the same spec version are counted,
/// within `Window` before the failure time when a window is set.
pub(crate) fn should_restart(t: &Task, group: &[&Task]) -> bool {
    let policy = t.spec.restart_policy.clone().unwrap_or_default();
    match policy.condition() {
        RestartCondition::None => return false,
        RestartCondition::OnFailure if t.status.state == TaskState::Complete => return false,
        _ => {}
    }
    let max = policy.max_attempts.unwrap_or(0);
    if max == 0 {
        return true;
    }
    let window: Nanos = policy.window.unwrap_or(0);
    let lookback = after(t.status.timestamp, -window);
    let mut same: Vec<&Task> = group
        .iter()
        .copied()
        .filter(|o| o.spec_version == t.spec_version)
        .collect();
    same.sort_by(|a, b| by_creation(a, b));
    let restarts = same
        .iter()
        .skip(1)
        .filter(|o| window <= 0 || o.meta.created_at > lookback)
        .count();
    (restarts as u64) < max
}

/// Shuts `i` down and, unless an up-to-date task already runs in the group
/// or the policy forbids it, creates its replacement (desired `ready`).
pub(crate) fn restart(d: &mut Draft, svc: &Service, g: &mut Group, i: usize) {
    d.set_desired(i, TaskState::Shutdown);
    let covered = g
        .members
        .iter()
        .any(|&j| j != i && is_runnable(d.task(j)) && !is_task_dirty(svc, d.task(j)));
    if covered || !should_restart(d.task(i), &g.tasks(d)) {
        return;
    }
    let n = d.spawn(svc, &g.key, TaskState::Ready);
    g.members.push(n);
}

/// Restarts the group's runnable tasks that stopped or for which
/// `must_move` holds, then shuts down duplicates.
///
/// A replacement that stopped while still `ready` (rejected by its node's
/// runtime before its restart delay was over) is restarted only once that
/// delay is over, so a task that can never start is retried once per
/// delay, within the policy's max attempts and window, never in a loop.
pub(crate) fn supervise(
    d: &mut Draft,
    svc: &Service,
    g: &mut Group,
    nodes: &Nodes,
    must_move: &dyn Fn(&Task) -> bool,
) {
    for i in g.runnable(d) {
        let t = d.task(i);
        let stopped = t.status.state > TaskState::Running;
        if !is_runnable(t) || !(stopped || must_move(t)) {
            continue;
        }
        if stopped && t.desired_state == TaskState::Ready {
            let due = delay_end(d, g, i, nodes);
            if d.now() < due {
                d.wake_at(due);
                continue;
            }
        }
        restart(d, svc, g, i);
    }
    dedupe(d, svc, g);
}

/// A group runs at most one up-to-date and one out-of-date task (the pair
/// of a start-first update). More only arise from partially applied plans;
/// keep the most advanced (then newest) of each kind.
fn dedupe(d: &mut Draft, svc: &Service, g: &Group) {
    let runnable = g.runnable(d);
    for dirty in [false, true] {
        let mut class: Vec<usize> = runnable
            .iter()
            .copied()
            .filter(|&i| is_task_dirty(svc, d.task(i)) == dirty)
            .collect();
        if class.len() < 2 {
            continue;
        }
        class.sort_by(|&a, &b| {
            let (ta, tb) = (d.task(a), d.task(b));
            ta.status
                .state
                .cmp(&tb.status.state)
                .then_with(|| by_creation(ta, tb))
        });
        class.pop();
        for i in class {
            d.set_desired(i, TaskState::Shutdown);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::Key;
    use rswarm_types::{RestartPolicy, SECOND, Timestamp, Version};

    fn at(s: i64) -> Timestamp {
        chrono::DateTime::from_timestamp(1_700_000_000 + s, 0).expect("time")
    }

    fn policy(condition: RestartCondition, max: u64, window_s: i64) -> Option<RestartPolicy> {
        Some(RestartPolicy {
            condition: Some(condition),
            max_attempts: Some(max),
            window: Some(window_s * SECOND),
            ..Default::default()
        })
    }

    fn task(
        id: &str,
        created: i64,
        version: u64,
        state: TaskState,
        p: &Option<RestartPolicy>,
    ) -> Task {
        let mut t = Task {
            id: id.into(),
            desired_state: TaskState::Shutdown,
            ..Default::default()
        };
        t.meta.created_at = at(created);
        t.status.state = state;
        t.status.timestamp = at(created + 1);
        t.spec_version = Some(Version { index: version });
        t.spec.restart_policy = p.clone();
        t
    }

    #[test]
    fn should_restart_table() {
        use RestartCondition::*;
        use TaskState::*;
        type Case = (
            &'static str,
            Option<RestartPolicy>,
            Vec<(i64, u64, TaskState)>,
            bool,
        );
        let cases: Vec<Case> = vec![
            (
                "default policy restarts",
                Option::None,
                vec![(0, 1, Failed)],
                true,
            ),
            (
                "none never",
                policy(None, 0, 0),
                vec![(0, 1, Failed)],
                false,
            ),
            (
                "on-failure after failure",
                policy(OnFailure, 0, 0),
                vec![(0, 1, Failed)],
                true,
            ),
            (
                "on-failure after complete",
                policy(OnFailure, 0, 0),
                vec![(0, 1, Complete)],
                false,
            ),
            (
                "any after complete",
                policy(Any, 0, 0),
                vec![(0, 1, Complete)],
                true,
            ),
            (
                "max 2, first failure",
                policy(Any, 2, 0),
                vec![(0, 1, Failed)],
                true,
            ),
            (
                "max 2, one restart",
                policy(Any, 2, 0),
                vec![(0, 1, Failed), (10, 1, Failed)],
                true,
            ),
            (
                "max 2, two restarts",
                policy(Any, 2, 0),
                vec![(0, 1, Failed), (10, 1, Failed), (20, 1, Failed)],
                false,
            ),
            (
                "max 2, old versions do not count",
                policy(Any, 2, 0),
                vec![
                    (0, 1, Failed),
                    (10, 1, Failed),
                    (20, 1, Failed),
                    (30, 2, Failed),
                ],
                true,
            ),
            (
                "window 15s: only one restart inside",
                policy(Any, 2, 15),
                vec![(0, 1, Failed), (10, 1, Failed), (30, 1, Failed)],
                true,
            ),
            (
                "window 60s: both restarts inside",
                policy(Any, 2, 60),
                vec![(0, 1, Failed), (10, 1, Failed), (30, 1, Failed)],
                false,
            ),
        ];
        for (name, p, spec, want) in cases {
            let tasks: Vec<Task> = spec
                .iter()
                .enumerate()
                .map(|(n, &(c, v, s))| task(&format!("t{n}"), c, v, s, &p))
                .collect();
            let refs: Vec<&Task> = tasks.iter().collect();
            let last = tasks.last().expect("task");
            assert_eq!(should_restart(last, &refs), want, "{name}");
        }
    }

    #[test]
    fn restart_skips_when_covered_and_dedupes() {
        use TaskState::*;
        let mut a = task("a", 0, 1, Failed, &None);
        a.desired_state = Running;
        let mut b = task("b", 5, 1, Running, &None);
        b.desired_state = Running;
        let mut c = task("c", 6, 1, Pending, &None);
        c.desired_state = Running;
        let tasks = vec![a, b, c];
        let mut ids = || "new".to_string();
        let mut d = Draft::new(&tasks, at(100), &mut ids);
        let svc = Service {
            spec_version: Some(Version { index: 1 }),
            ..Default::default()
        };
        let mut g = Group {
            key: Key::Slot(1),
            members: vec![0, 1, 2],
        };
        supervise(&mut d, &svc, &mut g, &Nodes::new(&[]), &|_| false);
        assert_eq!(g.members.len(), 3, "no replacement: b covers the slot");
        assert_eq!(d.task(0).desired_state, Shutdown);
        assert_eq!(
            d.task(1).desired_state,
            Running,
            "most advanced duplicate kept"
        );
        assert_eq!(d.task(2).desired_state, Shutdown);
    }
}
