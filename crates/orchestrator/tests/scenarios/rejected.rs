//! Tasks the node's runtime rejects (a service without a command on the
//! process runtime, an image that cannot be pulled): retried once per
//! restart delay, within max attempts and window, never in a loop.

use rswarm_types::{
    JobStatus, ReplicatedJob, RestartPolicy, ServiceMode, Task, TaskState, Timestamp,
};

use crate::sim::{Sim, at, secs};

fn rejecting(mode: ServiceMode, policy: Option<RestartPolicy>) -> (Sim, String) {
    let mut sim = Sim::new();
    sim.limit = -1;
    sim.add_node("a");
    sim.rejecting.push("a".into());
    let svc = sim.create_service("rej", mode, |s| s.task_template.restart_policy = policy);
    if sim.service(&svc).spec.mode.replicated_job.is_some() {
        sim.services[0].job_status = Some(JobStatus::default());
    }
    (sim, svc)
}

fn created(sim: &Sim, svc: &str) -> Vec<Timestamp> {
    let mut v: Vec<Timestamp> = sim
        .tasks_of(svc)
        .iter()
        .map(|t| t.meta.created_at)
        .collect();
    v.sort();
    v
}

fn delay(s: i64) -> Option<RestartPolicy> {
    Some(RestartPolicy {
        delay: Some(secs(s)),
        ..Default::default()
    })
}

#[test]
fn rejected_tasks_are_retried_once_per_delay() {
    for (name, mode) in [
        ("replicated", ServiceMode::replicated(1)),
        ("global", ServiceMode::global()),
    ] {
        let (mut sim, svc) = rejecting(mode, None);
        sim.run_for(60);
        let times = created(&sim, &svc);
        // The first task and its replacement at 0, then one every 5 s (default).
        let want: Vec<Timestamp> = [0, 0]
            .into_iter()
            .chain((1..=12).map(|k| 5 * k))
            .map(at)
            .collect();
        assert_eq!(times, want, "{name}");
        let tasks = sim.tasks_of(&svc);
        assert!(
            tasks.iter().all(|t| t.status.state == TaskState::Rejected),
            "{name}"
        );
        let pending: Vec<&&Task> = tasks
            .iter()
            .filter(|t| t.desired_state == TaskState::Ready)
            .collect();
        assert_eq!(
            pending.len(),
            1,
            "{name}: only the newest waits for its delay"
        );
        assert_eq!(sim.wakeup(), Some(at(65)), "{name}");
    }
}

#[test]
fn rejected_tasks_stop_after_max_attempts() {
    let policy = Some(RestartPolicy {
        delay: Some(secs(2)),
        max_attempts: Some(2),
        ..Default::default()
    });
    let (mut sim, svc) = rejecting(ServiceMode::replicated(1), policy);
    sim.run_for(600);
    assert_eq!(created(&sim, &svc), [at(0), at(0), at(2)]);
    assert!(
        sim.tasks_of(&svc)
            .iter()
            .all(|t| t.desired_state == TaskState::Shutdown),
        "the last attempt is shut down, not replaced"
    );
    assert_eq!(sim.wakeup(), None);
}

#[test]
fn window_counts_recent_rejections() {
    let policy = |window: i64| {
        Some(RestartPolicy {
            delay: Some(secs(4)),
            max_attempts: Some(2),
            window: Some(secs(window)),
            ..Default::default()
        })
    };
    // Two restarts per 3 s, one every 4 s: each window holds only the
    // rejected attempt itself, so restarts go on, once per delay.
    let (mut sim, svc) = rejecting(ServiceMode::replicated(1), policy(3));
    sim.run_for(20);
    let want: Vec<Timestamp> = [0, 0, 4, 8, 12, 16, 20].into_iter().map(at).collect();
    assert_eq!(created(&sim, &svc), want);
    // Two restarts per 5 s: the second attempt's window holds both.
    let (mut sim, svc) = rejecting(ServiceMode::replicated(1), policy(5));
    sim.run_for(60);
    assert_eq!(created(&sim, &svc), [at(0), at(0), at(4)]);
    assert_eq!(sim.wakeup(), None);
}

#[test]
fn rejected_job_runs_are_retried_once_per_delay() {
    let mode = ServiceMode {
        replicated_job: Some(ReplicatedJob {
            max_concurrent: Some(1),
            total_completions: Some(1),
        }),
        ..Default::default()
    };
    let (mut sim, job) = rejecting(mode, delay(3));
    sim.run_for(30);
    let want: Vec<Timestamp> = [0, 0]
        .into_iter()
        .chain((1..=10).map(|k| 3 * k))
        .map(at)
        .collect();
    assert_eq!(created(&sim, &job), want);
}
