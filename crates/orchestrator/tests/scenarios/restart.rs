use rswarm_types::{RestartCondition, RestartPolicy, ServiceMode, TaskState};

use crate::sim::{Sim, at, secs};

fn one_replica(policy: Option<RestartPolicy>) -> (Sim, String) {
    let mut sim = Sim::new();
    sim.add_node("a");
    let web = sim.create_service("web", ServiceMode::replicated(1), |s| {
        s.task_template.restart_policy = policy
    });
    sim.settle();
    (sim, web)
}

fn fail_runner(sim: &mut Sim, svc: &str, state: TaskState) -> String {
    let id = sim.runner(svc, 1).id.clone();
    sim.stop_task(&id, state);
    id
}

#[test]
fn restart_waits_for_the_delay() {
    let (mut sim, web) = one_replica(None);
    sim.now = at(10);
    let failed = fail_runner(&mut sim, &web, TaskState::Failed);
    let plan = sim.step();
    assert_eq!(plan.update_tasks.len(), 1);
    assert_eq!(
        (
            plan.update_tasks[0].id.as_str(),
            plan.update_tasks[0].desired_state
        ),
        (failed.as_str(), TaskState::Shutdown)
    );
    assert_eq!(plan.create_tasks.len(), 1);
    let repl = plan.create_tasks[0].clone();
    assert_eq!((repl.slot, repl.desired_state), (1, TaskState::Ready));
    assert_eq!(sim.wakeup(), Some(at(15)), "failure time + default 5s");

    sim.now = at(14);
    sim.settle();
    assert!(sim.running(&web).is_empty());
    let staged = sim
        .tasks
        .iter()
        .find(|t| t.id == repl.id)
        .expect("replacement");
    assert_eq!(
        staged.status.state,
        TaskState::Ready,
        "prepared, not started"
    );

    sim.now = at(15);
    sim.settle();
    assert_eq!(sim.runner(&web, 1).id, repl.id);
    assert_eq!(sim.wakeup(), None);
}

#[test]
fn restart_conditions() {
    let none = Some(RestartPolicy {
        condition: Some(RestartCondition::None),
        ..Default::default()
    });
    let on_failure = Some(RestartPolicy {
        condition: Some(RestartCondition::OnFailure),
        delay: Some(0),
        ..Default::default()
    });
    let any = Some(RestartPolicy {
        condition: Some(RestartCondition::Any),
        delay: Some(0),
        ..Default::default()
    });
    // (policy, how the task stops, restarted?)
    let cases = [
        (none.clone(), TaskState::Failed, false),
        (none, TaskState::Complete, false),
        (on_failure.clone(), TaskState::Complete, false),
        (on_failure.clone(), TaskState::Failed, true),
        (on_failure, TaskState::Rejected, true),
        (any.clone(), TaskState::Complete, true),
        (any.clone(), TaskState::Shutdown, true),
        (any, TaskState::Orphaned, true),
    ];
    for (policy, how, restarted) in cases {
        let label = format!("{:?} {how:?}", policy.as_ref().and_then(|p| p.condition));
        let (mut sim, web) = one_replica(policy);
        sim.now = at(10);
        fail_runner(&mut sim, &web, how);
        sim.run_for(60);
        assert_eq!(sim.running(&web).len(), usize::from(restarted), "{label}");
        if !restarted {
            assert_eq!(sim.tasks_of(&web).len(), 1, "{label}: the slot stays dead");
            assert_eq!(sim.wakeup(), None, "{label}");
        }
    }
}

#[test]
fn dead_slot_survives_a_zero_history_limit() {
    let none = Some(RestartPolicy {
        condition: Some(RestartCondition::None),
        ..Default::default()
    });
    let (mut sim, web) = one_replica(none);
    sim.limit = 0;
    fail_runner(&mut sim, &web, TaskState::Complete);
    sim.run_for(30);
    assert!(sim.running(&web).is_empty());
    assert_eq!(sim.tasks_of(&web).len(), 1);
}

#[test]
fn dead_slot_is_not_refilled_by_scaling() {
    let none = Some(RestartPolicy {
        condition: Some(RestartCondition::None),
        ..Default::default()
    });
    let (mut sim, web) = one_replica(none);
    sim.update_service(&web, |s| s.mode = ServiceMode::replicated(2));
    sim.settle();
    assert_eq!(sim.running_slots(&web), [1, 2]);
    fail_runner(&mut sim, &web, TaskState::Complete);
    sim.run_for(30);
    assert_eq!(sim.running_slots(&web), [2], "slot 1 stays taken but dead");
    // An update (here --force) replaces the dead task too.
    sim.update_service(&web, |s| s.task_template.force_update += 1);
    sim.run_for(30);
    assert_eq!(sim.running_slots(&web), [1, 2]);
}

#[test]
fn max_attempts_counts_restarts_per_slot() {
    let policy = Some(RestartPolicy {
        max_attempts: Some(2),
        delay: Some(secs(1)),
        ..Default::default()
    });
    let (mut sim, web) = one_replica(policy);
    for round in 0..3 {
        sim.now = at(10 * (round + 1));
        fail_runner(&mut sim, &web, TaskState::Failed);
        sim.run_for(5);
    }
    assert!(sim.running(&web).is_empty(), "two restarts, then no more");
    assert_eq!(sim.in_slot(&web, 1).len(), 3);
    sim.run_for(600);
    assert!(sim.running(&web).is_empty());

    // A new spec version starts the count again.
    sim.update_service(&web, |s| {
        s.task_template
            .container_spec
            .as_mut()
            .expect("container")
            .image = "img:v2".into();
    });
    sim.run_for(10);
    assert_eq!(sim.running(&web).len(), 1);
    fail_runner(&mut sim, &web, TaskState::Failed);
    sim.run_for(10);
    assert_eq!(
        sim.running(&web).len(),
        1,
        "first failure of v2 is restarted"
    );
}

#[test]
fn max_attempts_window() {
    let policy = Some(RestartPolicy {
        max_attempts: Some(1),
        delay: Some(0),
        window: Some(secs(30)),
        ..Default::default()
    });
    let (mut sim, web) = one_replica(policy);
    // (time of failure, restarted?)
    let plan = [(10, true), (50, true), (60, false)];
    for (t, restarted) in plan {
        sim.now = at(t);
        fail_runner(&mut sim, &web, TaskState::Failed);
        sim.settle();
        assert_eq!(
            sim.running(&web).len(),
            usize::from(restarted),
            "failure at {t}"
        );
    }
}
