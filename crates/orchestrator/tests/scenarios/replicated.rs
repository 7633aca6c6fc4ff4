use rswarm_types::{Availability, NodeState, ServiceMode, TaskState};

use crate::sim::{Sim, at};

fn cluster(nodes: &[&str]) -> Sim {
    let mut sim = Sim::new();
    for n in nodes {
        sim.add_node(n);
    }
    sim
}

#[test]
fn scale_up_and_down_use_slots() {
    let mut sim = cluster(&["a", "b", "c"]);
    let web = sim.create_service("web", ServiceMode::replicated(3), |_| {});
    // (replicas, running slots afterwards)
    let steps: [(u64, Vec<u64>); 5] = [
        (3, vec![1, 2, 3]),
        (5, vec![1, 2, 3, 4, 5]),
        (2, vec![1, 2]),
        (4, vec![1, 2, 3, 4]),
        (0, vec![]),
    ];
    for (replicas, slots) in steps {
        sim.update_service(&web, |s| s.mode = ServiceMode::replicated(replicas));
        sim.settle();
        assert_eq!(sim.running_slots(&web), slots, "replicas {replicas}");
        assert_eq!(sim.update_state(&web), None, "scaling is not an update");
    }
    assert!(
        sim.tasks_of(&web).is_empty(),
        "removed tasks are reaped once stopped"
    );
}

#[test]
fn first_reconcile_creates_new_tasks() {
    let mut sim = cluster(&["a"]);
    let web = sim.create_service("web", ServiceMode::replicated(2), |s| {
        s.labels.insert("team".into(), "x".into());
    });
    let plan = sim.step();
    assert_eq!(plan.create_tasks.len(), 2);
    for t in &plan.create_tasks {
        assert_eq!(t.service_id, web);
        assert_eq!(t.status.state, TaskState::New);
        assert_eq!(t.status.message, "created");
        assert_eq!(t.desired_state, TaskState::Running);
        assert_eq!(t.meta.created_at, at(0));
        assert_eq!(t.service_annotations.name, "web");
        assert_eq!(
            t.service_annotations.labels.get("team").map(String::as_str),
            Some("x")
        );
        assert_eq!(t.spec_version, sim.service(&web).spec_version);
        assert!(
            t.node_id.is_empty(),
            "the scheduler places replicated tasks"
        );
    }
    assert!(sim.wakeup().is_none());
}

#[test]
fn scale_down_prefers_crowded_nodes() {
    let mut sim = cluster(&["a", "b"]);
    let web = sim.create_service("web", ServiceMode::replicated(4), |_| {});
    sim.settle();
    // Move slot 3 onto node a as well: a holds 3 tasks, b holds 1.
    sim.add_node("c");
    for t in sim.tasks.iter_mut() {
        t.node_id = if t.slot == 4 { "b".into() } else { "a".into() };
    }
    sim.update_service(&web, |s| s.mode = ServiceMode::replicated(2));
    sim.settle();
    let mut nodes: Vec<String> = sim
        .running(&web)
        .iter()
        .map(|t| t.node_id.clone())
        .collect();
    nodes.sort();
    assert_eq!(nodes, ["a", "b"]);
}

#[test]
fn drain_moves_replicated_tasks_without_delay() {
    let mut sim = cluster(&["a", "b"]);
    let web = sim.create_service("web", ServiceMode::replicated(2), |_| {});
    sim.settle();
    let on_a: Vec<u64> = sim
        .running(&web)
        .iter()
        .filter(|t| t.node_id == "a")
        .map(|t| t.slot)
        .collect();
    assert_eq!(on_a.len(), 1);

    sim.set_availability("a", Availability::Drain);
    let plan = sim.step();
    assert_eq!(plan.create_tasks.len(), 1);
    assert_eq!(plan.create_tasks[0].slot, on_a[0], "same slot");
    assert_eq!(
        plan.create_tasks[0].desired_state,
        TaskState::Ready,
        "waits for the old task to stop"
    );
    assert_eq!(sim.wakeup(), Some(at(60)), "old-task timeout");

    sim.settle();
    assert_eq!(sim.now, at(0), "no restart delay on drain");
    assert_eq!(sim.running_slots(&web), [1, 2]);
    assert!(sim.running(&web).iter().all(|t| t.node_id == "b"));
}

#[test]
fn down_node_tasks_are_replaced_after_the_restart_delay() {
    let mut sim = cluster(&["a", "b"]);
    let web = sim.create_service("web", ServiceMode::replicated(2), |_| {});
    sim.settle();
    sim.now = at(100);
    sim.set_node_state("a", NodeState::Down);
    sim.settle();
    assert_eq!(sim.running(&web).len(), 1);
    assert_eq!(sim.wakeup(), Some(at(105)));
    sim.run_for(5);
    assert_eq!(sim.running_slots(&web), [1, 2]);
    let lost: Vec<_> = sim
        .tasks_of(&web)
        .into_iter()
        .filter(|t| t.node_id == "a")
        .collect();
    assert_eq!(lost.len(), 1);
    assert_eq!(lost[0].desired_state, TaskState::Shutdown);
    assert_eq!(
        lost[0].status.state,
        TaskState::Running,
        "a down node reports nothing"
    );
}

#[test]
fn deleted_service_tasks_get_removed_then_reaped() {
    let mut sim = cluster(&["a"]);
    let web = sim.create_service("web", ServiceMode::replicated(2), |_| {});
    sim.settle();
    sim.services.clear();
    let plan = sim.step();
    assert_eq!(plan.update_tasks.len(), 2);
    assert!(
        plan.update_tasks
            .iter()
            .all(|t| t.desired_state == TaskState::Remove)
    );
    sim.settle();
    assert!(sim.tasks_of(&web).is_empty());
}

/// Fails the running task of each slot once and waits for its restart;
/// returns the failed task IDs by slot.
fn fail_once(sim: &mut Sim, svc: &str, slots: &[u64]) -> Vec<(u64, String)> {
    let mut failed = Vec::new();
    for &slot in slots {
        let id = sim.runner(svc, slot).id.clone();
        sim.stop_task(&id, TaskState::Failed);
        failed.push((slot, id));
    }
    sim.run_for(10);
    failed
}

fn ids_in_slot(sim: &Sim, svc: &str, slot: u64) -> Vec<String> {
    let mut v: Vec<String> = sim
        .in_slot(svc, slot)
        .iter()
        .map(|t| t.id.clone())
        .collect();
    v.sort();
    v
}

#[test]
fn history_of_removed_slots_shows_again_when_they_are_reused() {
    let mut sim = cluster(&["a", "b"]);
    let web = sim.create_service("web", ServiceMode::replicated(3), |_| {});
    sim.settle();
    let failed = fail_once(&mut sim, &web, &[2, 3]);

    sim.update_service(&web, |s| s.mode = ServiceMode::replicated(1));
    sim.settle();
    assert_eq!(sim.running_slots(&web), [1]);
    for (slot, id) in &failed {
        assert_eq!(
            ids_in_slot(&sim, &web, *slot),
            std::slice::from_ref(id),
            "slot {slot}"
        );
        let t = sim.in_slot(&web, *slot)[0];
        assert_eq!(
            (t.desired_state, t.status.state),
            (TaskState::Shutdown, TaskState::Failed),
            "history keeps its states"
        );
    }

    sim.update_service(&web, |s| s.mode = ServiceMode::replicated(3));
    sim.settle();
    assert_eq!(sim.running_slots(&web), [1, 2, 3]);
    for (slot, id) in &failed {
        let ids = ids_in_slot(&sim, &web, *slot);
        assert_eq!(ids.len(), 2, "slot {slot}: the old task and the new one");
        assert!(ids.contains(id), "slot {slot}");
    }
}

#[test]
fn scale_changes_drop_the_history_of_slots_not_reused() {
    let mut sim = cluster(&["a", "b"]);
    let web = sim.create_service("web", ServiceMode::replicated(3), |_| {});
    sim.settle();
    let failed = fail_once(&mut sim, &web, &[2, 3]);
    sim.update_service(&web, |s| s.mode = ServiceMode::replicated(1));
    sim.settle();
    sim.update_service(&web, |s| s.mode = ServiceMode::replicated(2));
    sim.settle();
    assert_eq!(sim.running_slots(&web), [1, 2]);
    assert!(ids_in_slot(&sim, &web, 2).contains(&failed[0].1));
    assert!(
        sim.in_slot(&web, 3).is_empty(),
        "Swarm deletes dead slots when the count changes"
    );
}

#[test]
fn history_that_would_hold_a_removed_slot_goes_with_it() {
    use rswarm_types::{RestartCondition, RestartPolicy};
    let mut sim = cluster(&["a"]);
    let web = sim.create_service("web", ServiceMode::replicated(2), |s| {
        s.task_template.restart_policy = Some(RestartPolicy {
            condition: Some(RestartCondition::None),
            ..Default::default()
        });
    });
    sim.settle();
    // The update leaves the v1 tasks as history; under condition `none`
    // such a task alone would hold its slot.
    sim.update_service(&web, |s| {
        s.task_template
            .container_spec
            .as_mut()
            .expect("container")
            .image = "img:v2".into();
    });
    sim.run_for(60);
    assert_eq!(sim.in_slot(&web, 2).len(), 2);
    sim.update_service(&web, |s| s.mode = ServiceMode::replicated(1));
    sim.settle();
    assert_eq!(sim.running_slots(&web), [1]);
    assert!(sim.in_slot(&web, 2).is_empty());
    assert!(sim.step().is_empty());
}
