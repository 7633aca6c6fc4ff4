//! Groups: the tasks of one service that share a slot (replicated) or a
//! node (global). Restarts, updates, history and promotion all reason per
//! group.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use rswarm_types::{Service, Task, TaskState};

use crate::dirty::is_task_dirty;
use crate::plan::Draft;
use crate::restart::should_restart;

/// What a group is keyed by.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Key {
    /// A replicated slot number.
    Slot(u64),
    /// A node ID (global services).
    Node(String),
}

/// Task indices (into the [`Draft`]) of one slot or one node.
#[derive(Clone, Debug)]
pub(crate) struct Group {
    pub key: Key,
    pub members: Vec<usize>,
}

/// Groups `idxs` by `key`, ordered by key.
pub(crate) fn group_by(d: &Draft, idxs: &[usize], key: impl Fn(&Task) -> Key) -> Vec<Group> {
    let mut map: BTreeMap<Key, Vec<usize>> = BTreeMap::new();
    for &i in idxs {
        map.entry(key(d.task(i))).or_default().push(i);
    }
    map.into_iter()
        .map(|(key, members)| Group { key, members })
        .collect()
}

/// Wanted to run: desired state at most `running`.
pub(crate) fn is_runnable(t: &Task) -> bool {
    t.desired_state <= TaskState::Running
}

/// Creation order: `created_at`, then status time, then ID.
pub(crate) fn by_creation(a: &Task, b: &Task) -> Ordering {
    (a.meta.created_at, a.status.timestamp, &a.id).cmp(&(
        b.meta.created_at,
        b.status.timestamp,
        &b.id,
    ))
}

/// The service is rolling back (held slots are then refilled, as Swarm
/// does, so a rollback always converges).
pub(crate) fn rolling_back(svc: &Service) -> bool {
    svc.update_status
        .as_ref()
        .is_some_and(|s| s.state == "rollback_started")
}

impl Group {
    pub(crate) fn new(key: Key) -> Self {
        Group {
            key,
            members: Vec::new(),
        }
    }

    /// The members' tasks.
    pub(crate) fn tasks<'d>(&self, d: &'d Draft) -> Vec<&'d Task> {
        self.members.iter().map(|&i| d.task(i)).collect()
    }

    /// Members with desired state at most `running`, oldest first.
    pub(crate) fn runnable(&self, d: &Draft) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .members
            .iter()
            .copied()
            .filter(|&i| is_runnable(d.task(i)))
            .collect();
        v.sort_by(|&a, &b| by_creation(d.task(a), d.task(b)));
        v
    }

    /// The most recently created member.
    pub(crate) fn newest(&self, d: &Draft) -> Option<usize> {
        self.members
            .iter()
            .copied()
            .max_by(|&a, &b| by_creation(d.task(a), d.task(b)))
    }

    /// No task wants to run, and the newest one must not be restarted
    /// (restart condition, max attempts): the slot stays taken but dead.
    pub(crate) fn held(&self, d: &Draft, svc: &Service) -> bool {
        if !self.runnable(d).is_empty() || rolling_back(svc) {
            return false;
        }
        let Some(n) = self.newest(d) else {
            return false;
        };
        let t = d.task(n);
        t.desired_state != TaskState::Remove && !should_restart(t, &self.tasks(d))
    }

    /// The slot counts towards the service's replicas.
    pub(crate) fn occupied(&self, d: &Draft, svc: &Service) -> bool {
        !self.runnable(d).is_empty() || self.held(d, svc)
    }

    /// The group still needs the update: a runnable task, or the held
    /// task, is out of date.
    pub(crate) fn needs_update(&self, d: &Draft, svc: &Service) -> bool {
        let runnable = self.runnable(d);
        if runnable.is_empty() {
            return self.held(d, svc)
                && self
                    .newest(d)
                    .is_some_and(|n| is_task_dirty(svc, d.task(n)));
        }
        runnable.iter().any(|&i| is_task_dirty(svc, d.task(i)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_types::{RestartCondition, RestartPolicy, Timestamp};

    fn at(s: i64) -> Timestamp {
        chrono::DateTime::from_timestamp(1_700_000_000 + s, 0).expect("time")
    }

    fn task(id: &str, created: i64, desired: TaskState, state: TaskState) -> Task {
        let mut t = Task {
            id: id.into(),
            desired_state: desired,
            ..Default::default()
        };
        t.meta.created_at = at(created);
        t.status.state = state;
        t.status.timestamp = at(created);
        t
    }

    #[test]
    fn held_and_occupied() {
        use TaskState::*;
        let none = Some(RestartPolicy {
            condition: Some(RestartCondition::None),
            ..Default::default()
        });
        let mut dead = task("b", 2, Shutdown, Failed);
        dead.spec.restart_policy = none.clone();
        let mut removed = dead.clone();
        removed.desired_state = Remove;
        // (tasks, held, occupied)
        let table = [
            (vec![task("a", 1, Running, Running)], false, true),
            (vec![task("a", 1, Shutdown, Failed)], false, false),
            (
                vec![task("a", 1, Shutdown, Failed), dead.clone()],
                true,
                true,
            ),
            (vec![removed], false, false),
            (vec![], false, false),
        ];
        let svc = Service::default();
        for (n, (tasks, held, occupied)) in table.into_iter().enumerate() {
            let mut ids = || String::new();
            let d = Draft::new(&tasks, at(10), &mut ids);
            let idxs: Vec<usize> = (0..tasks.len()).collect();
            let g = Group {
                key: Key::Slot(1),
                members: idxs,
            };
            assert_eq!(g.held(&d, &svc), held, "case {n}");
            assert_eq!(g.occupied(&d, &svc), occupied, "case {n}");
        }
        let svc = Service {
            update_status: Some(rswarm_types::UpdateStatus {
                state: "rollback_started".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let tasks = vec![dead];
        let mut ids = || String::new();
        let d = Draft::new(&tasks, at(10), &mut ids);
        assert!(
            !Group {
                key: Key::Slot(1),
                members: vec![0]
            }
            .held(&d, &svc),
            "rollback refills held slots"
        );
    }

    #[test]
    fn grouping_and_order() {
        use TaskState::*;
        let tasks = vec![
            task("c", 3, Running, New),
            task("a", 1, Shutdown, Failed),
            task("b", 2, Running, Running),
        ];
        let mut ids = || String::new();
        let d = Draft::new(&tasks, at(10), &mut ids);
        let groups = group_by(&d, &[0, 1, 2], |t| {
            Key::Slot(if t.id == "c" { 2 } else { 1 })
        });
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].key, Key::Slot(1));
        assert_eq!(groups[0].runnable(&d), vec![2]);
        assert_eq!(groups[0].newest(&d), Some(2));
        let all = Group {
            key: Key::Slot(1),
            members: vec![0, 1, 2],
        };
        assert_eq!(all.runnable(&d), vec![2, 0]);
    }
}
