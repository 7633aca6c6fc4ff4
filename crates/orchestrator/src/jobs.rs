//! Jobs: tasks that run to completion (desired state `complete`), once per
//! job iteration (`Service.job_status.job_iteration`, bumped by the control
//! API when the job is re-run).
//!
//! - Tasks of older iterations that have not stopped get desired
//!   `shutdown`.
//! - replicated-job: slots `0..TotalCompletions`; at most `MaxConcurrent`
//!   run at once; a slot is done once one of its tasks completed.
//! - global-job: one run per eligible, active node (paused nodes get
//!   nothing new; ineligible or deleted nodes get their runs shut down).
//! - A failed run is replaced in its slot (or on its node) per the restart
//!   policy, staged as `ready` and promoted to `complete` after the restart
//!   delay. A completed run is never restarted.
//!
//! Jobs have no rolling update and no `UpdateStatus`; the reaper keeps
//! their history, as in Swarm.

use rswarm_types::{Availability, ModeKind, Service, Task, TaskState, Timestamp, Version};

use crate::global::eligible;
use crate::group::{Group, Key, by_creation, group_by};
use crate::plan::{Draft, after};
use crate::restart::should_restart;
use crate::view::Nodes;

/// Desired `ready` or `complete`, and not stopped yet.
fn live(t: &Task) -> bool {
    t.desired_state <= TaskState::Complete && t.status.state <= TaskState::Running
}

/// Reconciles a replicated-job or global-job service.
pub(crate) fn reconcile(d: &mut Draft, svc: &Service, idxs: &[usize], nodes: &Nodes) {
    let iteration = svc
        .job_status
        .as_ref()
        .map(|j| j.job_iteration)
        .unwrap_or_default();
    let mut current = Vec::new();
    for &i in idxs {
        if d.task(i).job_iteration == Some(iteration) {
            current.push(i);
        } else if live(d.task(i)) {
            d.set_desired(i, TaskState::Shutdown);
        }
    }
    match svc.spec.mode.kind() {
        Some(ModeKind::ReplicatedJob) => replicated(d, svc, &current, nodes, iteration),
        Some(ModeKind::GlobalJob) => global(d, svc, &current, nodes, iteration),
        _ => {}
    }
}

fn replicated(d: &mut Draft, svc: &Service, idxs: &[usize], nodes: &Nodes, iteration: Version) {
    let job = svc.spec.mode.replicated_job.clone().unwrap_or_default();
    let max_concurrent = job.max_concurrent.unwrap_or(1);
    let total = job.total_completions.unwrap_or(max_concurrent);
    let mut groups = group_by(d, idxs, |t| Key::Slot(t.slot));
    let (mut done, mut running, mut held) = (0u64, 0u64, 0u64);
    let mut taken = Vec::new();
    for g in &mut groups {
        match settle(d, svc, g, nodes, iteration) {
            Run::Done => done += 1,
            Run::Live => running += 1,
            Run::Held => held += 1,
            Run::Free => continue,
        }
        taken.push(g.key.clone());
    }
    let wanted = max_concurrent.min(total.saturating_sub(done + held));
    let mut missing = wanted.saturating_sub(running);
    let mut slot = 0u64;
    while missing > 0 && slot < total {
        let key = Key::Slot(slot);
        if !taken.contains(&key) {
            spawn(d, svc, &key, iteration, TaskState::Complete);
            missing -= 1;
        }
        slot += 1;
    }
}

fn global(d: &mut Draft, svc: &Service, idxs: &[usize], nodes: &Nodes, iteration: Version) {
    let mut groups = group_by(d, idxs, |t| Key::Node(t.node_id.clone()));
    for node in nodes.iter() {
        let key = Key::Node(node.id.clone());
        let pos = groups.iter().position(|g| g.key == key);
        let mut g = pos
            .map(|p| groups.swap_remove(p))
            .unwrap_or_else(|| Group::new(key));
        if !eligible(svc, node) {
            stop(d, &g);
        } else if node.spec.availability == Availability::Active
            && matches!(settle(d, svc, &mut g, nodes, iteration), Run::Free)
        {
            spawn(d, svc, &g.key, iteration, TaskState::Complete);
        }
    }
    for g in &groups {
        stop(d, g);
    }
}

fn stop(d: &mut Draft, g: &Group) {
    for &i in &g.members {
        if live(d.task(i)) {
            d.set_desired(i, TaskState::Shutdown);
        }
    }
}

fn spawn(d: &mut Draft, svc: &Service, key: &Key, iteration: Version, desired: TaskState) -> usize {
    let n = d.spawn(svc, key, desired);
    d.task_mut(n).job_iteration = Some(iteration);
    n
}

/// Where a slot (or node) of a job stands.
enum Run {
    /// A run completed.
    Done,
    /// A run is under way (or staged).
    Live,
    /// The last run failed and must not be restarted.
    Held,
    /// Nothing (left) here: a new run may start.
    Free,
}

/// Restarts failed runs of the group and promotes staged ones.
fn settle(d: &mut Draft, svc: &Service, g: &mut Group, nodes: &Nodes, iteration: Version) -> Run {
    if g.members
        .iter()
        .any(|&i| d.task(i).status.state == TaskState::Complete)
    {
        return Run::Done;
    }
    let mut failed: Vec<usize> = g
        .members
        .iter()
        .copied()
        .filter(|&i| {
            d.task(i).desired_state <= TaskState::Complete
                && d.task(i).status.state > TaskState::Running
        })
        .collect();
    failed.sort_by(|&a, &b| by_creation(d.task(a), d.task(b)));
    let mut waiting = false;
    for i in failed {
        // A staged run rejected before its delay was over is retried only
        // then (see `restart::supervise`).
        if d.task(i).desired_state == TaskState::Ready {
            let due = staged_until(d, g, i, nodes);
            if d.now() < due {
                d.wake_at(due);
                waiting = true;
                continue;
            }
        }
        d.set_desired(i, TaskState::Shutdown);
        let covered = g.members.iter().any(|&j| live(d.task(j)));
        if !covered && should_restart(d.task(i), &g.tasks(d)) {
            let n = spawn(d, svc, &g.key, iteration, TaskState::Ready);
            g.members.push(n);
        }
    }
    for r in g.members.clone() {
        if d.task(r).desired_state == TaskState::Ready && live(d.task(r)) {
            promote(d, g, r, nodes);
        }
    }
    if waiting || g.members.iter().any(|&i| live(d.task(i))) {
        return Run::Live;
    }
    let held = g
        .newest(d)
        .is_some_and(|n| !should_restart(d.task(n), &g.tasks(d)));
    if held { Run::Held } else { Run::Free }
}

/// A staged run starts (desired `complete`) once the restart delay,
/// counted from the failure it replaces, has passed.
fn promote(d: &mut Draft, g: &Group, r: usize, nodes: &Nodes) {
    let ready_at = staged_until(d, g, r, nodes);
    if d.now() >= ready_at {
        d.set_desired(r, TaskState::Complete);
    } else {
        d.wake_at(ready_at);
    }
}

/// When the staged run `r` may start: the restart delay after the failure
/// it replaces (from its own creation when that failure was a rejection,
/// which is retried only after its own delay).
fn staged_until(d: &Draft, g: &Group, r: usize, nodes: &Nodes) -> Timestamp {
    let task = d.task(r);
    let pred = g
        .members
        .iter()
        .map(|&j| d.task(j))
        .filter(|p| p.id != task.id && !live(p) && p.meta.created_at <= task.meta.created_at)
        .max_by(|a, b| by_creation(a, b));
    match pred {
        None => d.now(),
        Some(p) if nodes.drained(&p.node_id) => task.meta.created_at,
        Some(p) => {
            let delay = task.spec.restart_policy.clone().unwrap_or_default().delay();
            let start = if p.status.state == TaskState::Rejected {
                task.meta.created_at
            } else {
                p.status.timestamp.min(task.meta.created_at)
            };
            after(start, delay)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_types::{JobStatus, ReplicatedJob, ServiceMode, Timestamp};

    fn at(s: i64) -> Timestamp {
        chrono::DateTime::from_timestamp(1_700_000_000 + s, 0).expect("time")
    }

    fn job(max: u64, total: u64, iteration: u64) -> Service {
        let mut svc = Service {
            id: "j".into(),
            ..Default::default()
        };
        svc.spec.mode = ServiceMode {
            replicated_job: Some(ReplicatedJob {
                max_concurrent: Some(max),
                total_completions: Some(total),
            }),
            ..Default::default()
        };
        svc.job_status = Some(JobStatus {
            job_iteration: Version { index: iteration },
            last_execution: None,
        });
        svc
    }

    fn run(slot: u64, iteration: u64, state: TaskState) -> Task {
        let mut t = Task {
            id: format!("t{slot}-{iteration}"),
            service_id: "j".into(),
            slot,
            desired_state: TaskState::Complete,
            job_iteration: Some(Version { index: iteration }),
            ..Default::default()
        };
        t.status.state = state;
        t.status.timestamp = at(0);
        t
    }

    /// (max concurrent, total, existing runs, slots created)
    #[test]
    fn replicated_job_table() {
        use TaskState::*;
        type Case = (u64, u64, Vec<(u64, TaskState)>, Vec<u64>);
        let cases: Vec<Case> = vec![
            (2, 5, vec![], vec![0, 1]),
            (2, 5, vec![(0, Complete), (1, Running)], vec![2]),
            (
                2,
                3,
                vec![(0, Complete), (1, Complete), (2, Running)],
                vec![],
            ),
            (5, 3, vec![(0, Complete)], vec![1, 2]),
            (2, 2, vec![(0, Complete), (1, Complete)], vec![]),
        ];
        for (max, total, runs, want) in cases {
            let tasks: Vec<Task> = runs.iter().map(|&(s, st)| run(s, 1, st)).collect();
            let svc = job(max, total, 1);
            let mut k = 0;
            let mut ids = || {
                k += 1;
                format!("n{k}")
            };
            let mut d = Draft::new(&tasks, at(1), &mut ids);
            let idxs: Vec<usize> = (0..tasks.len()).collect();
            reconcile(&mut d, &svc, &idxs, &Nodes::new(&[]));
            let (plan, _) = d.finish();
            let slots: Vec<u64> = plan.create_tasks.iter().map(|t| t.slot).collect();
            assert_eq!(slots, want, "max {max} total {total} runs {runs:?}");
            assert!(
                plan.create_tasks
                    .iter()
                    .all(|t| t.desired_state == Complete)
            );
            assert!(
                plan.create_tasks
                    .iter()
                    .all(|t| t.job_iteration == Some(Version { index: 1 }))
            );
        }
    }

    #[test]
    fn new_iteration_stops_old_runs_and_failed_runs_restart_after_delay() {
        let tasks = vec![run(0, 1, TaskState::Running), run(1, 2, TaskState::Failed)];
        let svc = job(2, 2, 2);
        let mut k = 0;
        let mut ids = || {
            k += 1;
            format!("n{k}")
        };
        let mut d = Draft::new(&tasks, at(1), &mut ids);
        reconcile(&mut d, &svc, &[0, 1], &Nodes::new(&[]));
        let (plan, wake) = d.finish();
        let desired: Vec<(&str, TaskState)> = plan
            .update_tasks
            .iter()
            .map(|t| (t.id.as_str(), t.desired_state))
            .collect();
        assert_eq!(
            desired,
            [("t0-1", TaskState::Shutdown), ("t1-2", TaskState::Shutdown)]
        );
        let mut created: Vec<(u64, TaskState)> = plan
            .create_tasks
            .iter()
            .map(|t| (t.slot, t.desired_state))
            .collect();
        created.sort_by_key(|c| c.0);
        assert_eq!(created, [(0, TaskState::Complete), (1, TaskState::Ready)]);
        assert_eq!(wake, Some(at(5)), "failure at 0 + 5s");
    }
}
