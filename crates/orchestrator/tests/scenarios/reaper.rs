use rswarm_types::{RestartPolicy, ServiceMode, TaskState};

use crate::sim::{Sim, at};

fn crash_loop(limit: i64, failures: i64) -> (Sim, String) {
    let mut sim = Sim::new();
    sim.limit = limit;
    sim.add_node("a");
    let web = sim.create_service("web", ServiceMode::replicated(1), |s| {
        s.task_template.restart_policy = Some(RestartPolicy {
            delay: Some(0),
            ..Default::default()
        });
    });
    sim.settle();
    for n in 0..failures {
        sim.now = at(10 * (n + 1));
        let id = sim.runner(&web, 1).id.clone();
        sim.stop_task(&id, TaskState::Failed);
        sim.settle();
    }
    (sim, web)
}

#[test]
fn history_per_slot() {
    // (limit, failures, tasks kept in the slot)
    let cases = [(5, 8, 5), (5, 3, 4), (2, 8, 2), (0, 3, 1), (-1, 8, 9)];
    for (limit, failures, kept) in cases {
        let (sim, web) = crash_loop(limit, failures);
        let slot = sim.in_slot(&web, 1);
        assert_eq!(slot.len(), kept, "limit {limit}, {failures} failures");
        assert_eq!(sim.running(&web).len(), 1, "the running task is kept");
        // The newest stopped tasks are the ones kept.
        let oldest_kept = slot.iter().map(|t| t.meta.created_at).min().expect("tasks");
        let expected = if limit < 0 {
            at(0)
        } else {
            at(10 * (failures - kept as i64 + 1))
        };
        assert_eq!(oldest_kept, expected, "limit {limit}");
    }
}

#[test]
fn history_per_node_for_global() {
    let mut sim = Sim::new();
    sim.limit = 2;
    sim.add_node("a");
    let svc = sim.create_service("g", ServiceMode::global(), |s| {
        s.task_template.restart_policy = Some(RestartPolicy {
            delay: Some(0),
            ..Default::default()
        });
    });
    sim.settle();
    for n in 0..4 {
        sim.now = at(10 * (n + 1));
        let id = sim.running(&svc)[0].id.clone();
        sim.stop_task(&id, TaskState::Failed);
        sim.settle();
    }
    assert_eq!(sim.tasks_of(&svc).len(), 2);
}

#[test]
fn removed_tasks_are_deleted_once_stopped() {
    let mut sim = Sim::new();
    sim.limit = -1;
    sim.add_node("a");
    let web = sim.create_service("web", ServiceMode::replicated(3), |_| {});
    sim.settle();
    sim.update_service(&web, |s| s.mode = ServiceMode::replicated(1));
    let plan = sim.step();
    assert_eq!(
        plan.update_tasks
            .iter()
            .filter(|t| t.desired_state == TaskState::Remove)
            .count(),
        2
    );
    assert!(plan.delete_tasks.is_empty(), "still running");
    sim.agents();
    let plan = sim.step();
    assert_eq!(plan.delete_tasks.len(), 2);
    assert_eq!(sim.tasks_of(&web).len(), 1);
}
