use rswarm_types::{Availability, NodeState, Placement, ServiceMode, TaskState};

use crate::sim::Sim;

fn global(nodes: &[&str], constraints: &[&str]) -> (Sim, String) {
    let mut sim = Sim::new();
    for n in nodes {
        sim.add_node(n);
    }
    let constraints: Vec<String> = constraints.iter().map(|c| c.to_string()).collect();
    let svc = sim.create_service("agent", ServiceMode::global(), |s| {
        s.task_template.placement = Some(Placement {
            constraints,
            ..Default::default()
        });
    });
    sim.settle();
    (sim, svc)
}

fn running_nodes(sim: &Sim, svc: &str) -> Vec<String> {
    let mut v: Vec<String> = sim.running(svc).iter().map(|t| t.node_id.clone()).collect();
    v.sort();
    v
}

#[test]
fn one_task_per_node_and_new_nodes_get_one() {
    let (mut sim, svc) = global(&["a", "b"], &[]);
    assert_eq!(running_nodes(&sim, &svc), ["a", "b"]);
    assert!(sim.tasks_of(&svc).iter().all(|t| t.slot == 0));

    sim.add_node("c");
    let plan = sim.step();
    assert_eq!(plan.create_tasks.len(), 1);
    assert_eq!(plan.create_tasks[0].node_id, "c", "node pre-set");
    assert_eq!(plan.create_tasks[0].desired_state, TaskState::Running);
    sim.settle();
    assert_eq!(running_nodes(&sim, &svc), ["a", "b", "c"]);
}

#[test]
fn availability_and_state_table() {
    // (change to node b, b runs the task afterwards, b's old task desired state)
    let cases = [
        (
            "drain",
            Some(Availability::Drain),
            None,
            false,
            TaskState::Shutdown,
        ),
        (
            "pause",
            Some(Availability::Pause),
            None,
            true,
            TaskState::Running,
        ),
        (
            "down",
            None,
            Some(NodeState::Down),
            false,
            TaskState::Shutdown,
        ),
        (
            "disconnected",
            None,
            Some(NodeState::Disconnected),
            true,
            TaskState::Running,
        ),
    ];
    for (name, availability, state, runs, desired) in cases {
        let (mut sim, svc) = global(&["a", "b"], &[]);
        let old = sim
            .tasks_of(&svc)
            .iter()
            .find(|t| t.node_id == "b")
            .map(|t| t.id.clone())
            .expect("task on b");
        if let Some(a) = availability {
            sim.set_availability("b", a);
        }
        if let Some(s) = state {
            sim.set_node_state("b", s);
        }
        sim.run_for(120);
        let on_b = sim.running(&svc).iter().any(|t| t.node_id == "b");
        assert_eq!(on_b, runs, "{name}");
        let t = sim
            .tasks
            .iter()
            .find(|t| t.id == old)
            .expect("old task kept as history");
        assert_eq!(t.desired_state, desired, "{name}");
        assert_eq!(
            sim.tasks_of(&svc)
                .iter()
                .filter(|t| t.node_id == "b")
                .count(),
            1,
            "{name}: no replacement"
        );
    }
}

#[test]
fn undrain_brings_the_task_back_and_pause_blocks_new_ones() {
    let (mut sim, svc) = global(&["a"], &[]);
    sim.set_availability("a", Availability::Drain);
    sim.settle();
    assert!(sim.running(&svc).is_empty());
    sim.set_availability("a", Availability::Active);
    sim.settle();
    assert_eq!(running_nodes(&sim, &svc), ["a"]);

    sim.add_node("p");
    sim.set_availability("p", Availability::Pause);
    sim.settle();
    assert_eq!(running_nodes(&sim, &svc), ["a"], "paused node gets nothing");
}

#[test]
fn constraint_mismatch_shuts_down() {
    let (mut sim, svc) = global(&["a", "b"], &["node.labels.zone==east"]);
    assert!(sim.tasks_of(&svc).is_empty());
    sim.node_mut("a")
        .spec
        .labels
        .insert("zone".into(), "EAST".into());
    sim.settle();
    assert_eq!(running_nodes(&sim, &svc), ["a"]);
    sim.node_mut("a")
        .spec
        .labels
        .insert("zone".into(), "west".into());
    sim.settle();
    assert!(sim.running(&svc).is_empty());
    assert_eq!(sim.tasks_of(&svc)[0].desired_state, TaskState::Shutdown);
}

#[test]
fn global_restart_stays_on_its_node() {
    let (mut sim, svc) = global(&["a", "b"], &[]);
    let id = sim
        .running(&svc)
        .iter()
        .find(|t| t.node_id == "a")
        .map(|t| t.id.clone())
        .expect("task");
    sim.stop_task(&id, TaskState::Failed);
    let plan = sim.step();
    assert_eq!(plan.create_tasks.len(), 1);
    assert_eq!(
        (
            plan.create_tasks[0].node_id.as_str(),
            plan.create_tasks[0].desired_state
        ),
        ("a", TaskState::Ready)
    );
    sim.run_for(5);
    assert_eq!(running_nodes(&sim, &svc), ["a", "b"]);
}

#[test]
fn deleted_node_tasks_shut_down() {
    let (mut sim, svc) = global(&["a", "b"], &[]);
    sim.nodes.retain(|n| n.id != "b");
    sim.settle();
    let on_b: Vec<_> = sim
        .tasks_of(&svc)
        .into_iter()
        .filter(|t| t.node_id == "b")
        .collect();
    assert_eq!(on_b.len(), 1);
    assert_eq!(on_b[0].desired_state, TaskState::Shutdown);
}
