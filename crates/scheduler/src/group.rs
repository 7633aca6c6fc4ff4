//! Sorting the store's tasks into what the scheduler must place and what
//! only counts as load.
//!
//! Pending tasks without a node are grouped by `(service, spec version)`,
//! and within that by the parts of the spec that placement reads
//! (reservations and placement), so every task of a group can share one
//! pipeline run over the nodes. Groups come out in key order and tasks
//! within a group by `(slot, ID)`, so the output does not depend on the
//! order of the input.

use std::collections::HashMap;

use rswarm_types::{Placement, Resources, Task, TaskState};

/// The tasks of one `schedule` call, classified.
#[derive(Debug, Default)]
pub(crate) struct Work<'a> {
    /// Active tasks already on a node: load only.
    pub load: Vec<&'a Task>,
    /// Pending tasks that already name their node (global services),
    /// by task ID.
    pub pinned: Vec<&'a Task>,
    /// Pending tasks to place, grouped; each group is non-empty.
    pub groups: Vec<Vec<&'a Task>>,
}

/// True for the tasks `schedule` decides on.
pub(crate) fn is_pending(t: &Task) -> bool {
    t.status.state == TaskState::Pending && t.desired_state <= TaskState::Complete
}

/// True for a task that occupies its node.
fn is_load(t: &Task) -> bool {
    !t.node_id.is_empty()
        && t.desired_state <= TaskState::Complete
        && t.status.state <= TaskState::Running
}

/// `(service ID, spec version)`.
type GroupKey<'a> = (&'a str, Option<u64>);

/// Tasks of one key, split by [`PlacementSpec`].
type SubGroups<'a> = Vec<(PlacementSpec<'a>, Vec<&'a Task>)>;

/// What placement reads from a task's spec; tasks that agree on it can be
/// placed together.
#[derive(PartialEq)]
struct PlacementSpec<'a> {
    reservations: Option<&'a Resources>,
    placement: Option<&'a Placement>,
}

impl<'a> PlacementSpec<'a> {
    fn of(t: &'a Task) -> PlacementSpec<'a> {
        PlacementSpec {
            reservations: t
                .spec
                .resources
                .as_ref()
                .and_then(|r| r.reservations.as_ref()),
            placement: t.spec.placement.as_ref(),
        }
    }
}

/// `(slot, ID)` of a sorted sub-group's first task.
fn order_key<'t>(group: &[&'t Task]) -> Option<(u64, &'t str)> {
    group.first().map(|t| (t.slot, t.id.as_str()))
}

/// Classifies every task.
pub(crate) fn classify(tasks: &[Task]) -> Work<'_> {
    let mut work = Work::default();
    let mut index: HashMap<GroupKey<'_>, usize> = HashMap::new();
    // Per key: sub-groups, each with the spec its tasks share.
    let mut keyed: Vec<(GroupKey<'_>, SubGroups<'_>)> = Vec::new();
    for t in tasks {
        if !is_pending(t) {
            if is_load(t) {
                work.load.push(t);
            }
            continue;
        }
        if !t.node_id.is_empty() {
            work.pinned.push(t);
            continue;
        }
        let key = (t.service_id.as_str(), t.spec_version.map(|v| v.index));
        let slot = *index.entry(key).or_insert_with(|| {
            keyed.push((key, Vec::new()));
            keyed.len() - 1
        });
        let Some((_, subgroups)) = keyed.get_mut(slot) else {
            continue;
        };
        let spec = PlacementSpec::of(t);
        match subgroups.iter_mut().find(|(s, _)| *s == spec) {
            Some((_, members)) => members.push(t),
            None => subgroups.push((spec, vec![t])),
        }
    }
    work.pinned.sort_by(|a, b| a.id.cmp(&b.id));
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, subgroups) in keyed {
        let mut subgroups: Vec<Vec<&Task>> = subgroups.into_iter().map(|(_, m)| m).collect();
        for members in &mut subgroups {
            members.sort_by(|a, b| a.slot.cmp(&b.slot).then_with(|| a.id.cmp(&b.id)));
        }
        // Sub-groups by their first task, so input order does not matter.
        subgroups.sort_by(|a, b| order_key(a).cmp(&order_key(b)));
        work.groups.extend(subgroups);
    }
    work
}

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_types::Version;

    fn task(
        id: &str,
        service: &str,
        version: Option<u64>,
        state: TaskState,
        desired: TaskState,
    ) -> Task {
        let mut t = Task {
            id: id.into(),
            service_id: service.into(),
            desired_state: desired,
            ..Default::default()
        };
        t.status.state = state;
        t.spec_version = version.map(|index| Version { index });
        t
    }

    fn ids(group: &[&Task]) -> Vec<String> {
        group.iter().map(|t| t.id.clone()).collect()
    }

    #[test]
    fn classifies_pending_pinned_and_load() {
        let r = TaskState::Running;
        let mut pinned = task("g1", "s", Some(1), TaskState::Pending, r);
        pinned.node_id = "n1".into();
        let mut running = task("r1", "s", Some(1), TaskState::Running, r);
        running.node_id = "n1".into();
        let mut stopping = task("r2", "s", Some(1), TaskState::Running, TaskState::Shutdown);
        stopping.node_id = "n1".into();
        let mut dead = task("r3", "s", Some(1), TaskState::Failed, r);
        dead.node_id = "n1".into();
        let tasks = vec![
            task("p1", "s", Some(1), TaskState::Pending, r),
            task("p2", "s", Some(1), TaskState::Pending, TaskState::Shutdown),
            task("new", "s", Some(1), TaskState::New, r),
            pinned,
            running,
            stopping,
            dead,
        ];
        let w = classify(&tasks);
        assert_eq!(w.groups.len(), 1);
        assert_eq!(ids(&w.groups[0]), ["p1"]);
        assert_eq!(ids(&w.pinned), ["g1"]);
        assert_eq!(ids(&w.load), ["r1"]);
    }

    #[test]
    fn groups_by_service_version_and_spec_in_key_order() {
        let p = TaskState::Pending;
        let r = TaskState::Running;
        let mut constrained = task("c1", "a", Some(2), p, r);
        constrained.spec.placement = Some(Placement {
            constraints: vec!["node.role==worker".into()],
            ..Default::default()
        });
        let mut slot2 = task("x2", "b", Some(1), p, r);
        slot2.slot = 2;
        let mut slot1 = task("x9", "b", Some(1), p, r);
        slot1.slot = 1;
        let tasks = vec![
            slot2,
            task("a1", "a", Some(2), p, r),
            constrained,
            task("a0", "a", Some(1), p, r),
            slot1,
            task("a3", "a", Some(2), p, r),
        ];
        let w = classify(&tasks);
        let groups: Vec<Vec<String>> = w.groups.iter().map(|g| ids(g)).collect();
        assert_eq!(
            groups,
            vec![vec!["a0"], vec!["a1", "a3"], vec!["c1"], vec!["x9", "x2"]]
        );
    }
}
