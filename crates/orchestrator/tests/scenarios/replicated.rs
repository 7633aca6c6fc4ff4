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
