//! The task reaper: deletes tasks nobody needs any more.
//!
//! - Right away: desired `remove` tasks that stopped (beyond `running`) or
//!   were never assigned; orphaned tasks without a service.
//! - History: per slot (replicated) or per node (global), at most
//!   `task_history_limit` tasks are kept, the running one included
//!   (`MaxAttempts + 1` when the restart policy sets `MaxAttempts`, so
//!   restart counts survive). The oldest stopped tasks (by status time) go
//!   first. A negative limit keeps everything. Jobs are not pruned, as in
//!   Swarm.
//!
//! Two stopped tasks are never reaped, because decisions are read from
//! them: the one a pending (`ready`) replacement waits on (its failure
//! time sets the restart delay), and the newest task of a slot where
//! nothing runs (it keeps a slot dead under restart condition `none`).

use std::collections::BTreeMap;

use rswarm_types::{ModeKind, Service, Task, TaskState};

use crate::group::{Key, by_creation, is_runnable};
use crate::plan::Draft;

/// Marks the tasks to delete in `d`.
pub(crate) fn reap(d: &mut Draft, limit: i64, services: &BTreeMap<&str, &Service>) {
    for i in 0..d.len() {
        let t = d.task(i);
        let removed = t.desired_state == TaskState::Remove
            && (t.status.state < TaskState::Assigned || t.status.state > TaskState::Running);
        let orphan = t.service_id.is_empty() && t.status.state == TaskState::Orphaned;
        if removed || orphan {
            d.delete(i);
        }
    }
    if limit < 0 {
        return;
    }
    let mut groups: BTreeMap<(&str, Key), Vec<usize>> = BTreeMap::new();
    for i in 0..d.len() {
        let t = d.task(i);
        if d.is_deleted(i) {
            continue;
        }
        let Some(svc) = services.get(t.service_id.as_str()) else {
            continue;
        };
        let key = match svc.spec.mode.kind() {
            Some(ModeKind::Replicated) => Key::Slot(t.slot),
            Some(ModeKind::Global) => Key::Node(t.node_id.clone()),
            _ => continue,
        };
        groups.entry((svc.id.as_str(), key)).or_default().push(i);
    }
    let mut doomed = Vec::new();
    for ((svc_id, _), members) in groups {
        let keep = services
            .get(svc_id)
            .and_then(|s| s.spec.task_template.restart_policy.as_ref())
            .and_then(|p| p.max_attempts)
            .filter(|&m| m > 0)
            .map_or(limit, |m| {
                i64::try_from(m).unwrap_or(i64::MAX).saturating_add(1)
            });
        let keep = usize::try_from(keep).unwrap_or(usize::MAX);
        if members.len() <= keep {
            continue;
        }
        let tasks: Vec<&Task> = members.iter().map(|&i| d.task(i)).collect();
        let mut protected = waited_on(&tasks);
        if !tasks.iter().any(|t| is_runnable(t))
            && let Some(newest) = tasks.iter().max_by(|a, b| by_creation(a, b))
        {
            protected.push(newest.id.as_str());
        }
        let mut candidates: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&i| {
                let t = d.task(i);
                let stopped = t.status.state > TaskState::Running
                    || (t.status.state < TaskState::Assigned && !is_runnable(t));
                stopped && !protected.contains(&t.id.as_str())
            })
            .collect();
        candidates.sort_by(|&a, &b| {
            let (ta, tb) = (d.task(a), d.task(b));
            ta.status
                .timestamp
                .cmp(&tb.status.timestamp)
                .then_with(|| by_creation(ta, tb))
        });
        let excess = members.len() - keep;
        doomed.extend(candidates.into_iter().take(excess));
    }
    for i in doomed {
        d.delete(i);
    }
}

/// IDs of the newest stopped-by-us task before each pending (`ready`)
/// replacement in the group.
fn waited_on<'t>(tasks: &[&'t Task]) -> Vec<&'t str> {
    tasks
        .iter()
        .filter(|r| r.desired_state == TaskState::Ready)
        .filter_map(|r| {
            tasks
                .iter()
                .filter(|p| {
                    !is_runnable(p) && p.meta.created_at <= r.meta.created_at && p.id != r.id
                })
                .max_by(|a, b| by_creation(a, b))
                .map(|p| p.id.as_str())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_types::{RestartPolicy, ServiceMode, Timestamp};

    fn at(s: i64) -> Timestamp {
        chrono::DateTime::from_timestamp(1_700_000_000 + s, 0).expect("time")
    }

    fn task(id: &str, slot: u64, t: i64, desired: TaskState, state: TaskState) -> Task {
        let mut task = Task {
            id: id.into(),
            service_id: "s".into(),
            slot,
            desired_state: desired,
            ..Default::default()
        };
        task.meta.created_at = at(t);
        task.status.timestamp = at(t);
        task.status.state = state;
        task
    }

    fn reaped(tasks: &[Task], svc: &Service, limit: i64) -> Vec<String> {
        let services: BTreeMap<&str, &Service> = [(svc.id.as_str(), svc)].into_iter().collect();
        let mut ids = || String::new();
        let mut d = Draft::new(tasks, at(100), &mut ids);
        reap(&mut d, limit, &services);
        let mut out = d.finish().0.delete_tasks;
        out.sort();
        out
    }

    fn history(n: i64) -> Vec<Task> {
        let mut v: Vec<Task> = (0..n)
            .map(|i| {
                task(
                    &format!("h{i:02}"),
                    1,
                    i,
                    TaskState::Shutdown,
                    TaskState::Failed,
                )
            })
            .collect();
        v.push(task("run", 1, n, TaskState::Running, TaskState::Running));
        v
    }

    #[test]
    fn history_limit_table() {
        let mut svc = Service {
            id: "s".into(),
            ..Default::default()
        };
        svc.spec.mode = ServiceMode::replicated(1);
        // (history tasks + 1 running, limit, deleted)
        let cases: Vec<(i64, i64, Vec<&str>)> = vec![
            (4, 5, vec![]),
            (6, 5, vec!["h00", "h01"]),
            (6, -1, vec![]),
            (2, 0, vec!["h00", "h01"]),
        ];
        for (n, limit, want) in cases {
            assert_eq!(
                reaped(&history(n), &svc, limit),
                want,
                "{n} tasks, limit {limit}"
            );
        }
        svc.spec.task_template.restart_policy = Some(RestartPolicy {
            max_attempts: Some(2),
            ..Default::default()
        });
        assert_eq!(
            reaped(&history(6), &svc, 5),
            ["h00", "h01", "h02", "h03"],
            "MaxAttempts+1 kept"
        );
    }

    #[test]
    fn removed_and_orphaned_go_at_once() {
        let mut svc = Service {
            id: "s".into(),
            ..Default::default()
        };
        svc.spec.mode = ServiceMode::replicated(1);
        let mut orphan = task("orphan", 0, 0, TaskState::Running, TaskState::Orphaned);
        orphan.service_id.clear();
        let tasks = vec![
            task("rm-stopped", 2, 0, TaskState::Remove, TaskState::Shutdown),
            task("rm-new", 3, 0, TaskState::Remove, TaskState::Pending),
            task("rm-running", 4, 0, TaskState::Remove, TaskState::Running),
            orphan,
        ];
        assert_eq!(reaped(&tasks, &svc, -1), ["orphan", "rm-new", "rm-stopped"]);
    }

    #[test]
    fn predecessor_of_pending_restart_is_kept() {
        let mut svc = Service {
            id: "s".into(),
            ..Default::default()
        };
        svc.spec.mode = ServiceMode::replicated(1);
        let tasks = vec![
            task("old", 1, 0, TaskState::Shutdown, TaskState::Failed),
            task("failed", 1, 5, TaskState::Shutdown, TaskState::Failed),
            task("next", 1, 6, TaskState::Ready, TaskState::New),
        ];
        assert_eq!(reaped(&tasks, &svc, 1), ["old"]);
    }

    #[test]
    fn newest_task_of_a_dead_slot_is_kept() {
        let mut svc = Service {
            id: "s".into(),
            ..Default::default()
        };
        svc.spec.mode = ServiceMode::replicated(1);
        let tasks = vec![
            task("old", 1, 0, TaskState::Shutdown, TaskState::Failed),
            task("last", 1, 5, TaskState::Shutdown, TaskState::Complete),
        ];
        assert_eq!(reaped(&tasks, &svc, 0), ["old"]);
    }
}
