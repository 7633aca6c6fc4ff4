//! The filter pipeline seen through `schedule`: which nodes may take a
//! task, and how refusals are explained.

mod common;

use common::*;
use rswarm_scheduler::schedule;
use rswarm_types::{Availability, Node, NodeRole, NodeState, Placement, Platform, TaskState};

#[test]
fn drained_paused_and_down_nodes_never_get_tasks() {
    let nodes = vec![
        with_availability(node("drained"), Availability::Drain),
        with_availability(node("paused"), Availability::Pause),
        with_state(node("down"), NodeState::Down),
        with_state(node("unknown"), NodeState::Unknown),
        with_state(node("gone"), NodeState::Disconnected),
        node("ok"),
    ];
    let tasks = pending_n("t", "web", 10);
    let d = schedule(&nodes, &tasks);
    assert_eq!(d.len(), 10);
    assert_eq!(
        per_node(&d).into_iter().collect::<Vec<_>>(),
        vec![("ok".to_string(), 10)]
    );
}

#[test]
fn no_ready_node_is_explained() {
    let nodes = vec![
        with_availability(node("a"), Availability::Drain),
        with_state(node("b"), NodeState::Down),
        with_availability(node("c"), Availability::Pause),
    ];
    let d = schedule(&nodes, &[pending("t1", "web")]);
    assert_eq!(
        d[0].outcome,
        refused("no suitable node (3 nodes not available for new tasks)")
    );
    let d = schedule(&nodes[..1], &[pending("t1", "web")]);
    assert_eq!(
        d[0].outcome,
        refused("no suitable node (1 node not available for new tasks)")
    );
}

#[test]
fn no_nodes_at_all() {
    let d = schedule(&[], &[pending("t1", "web")]);
    assert_eq!(d[0].outcome, refused("no suitable node"));
}

#[test]
fn constraints_select_nodes() {
    let nodes = vec![
        with_label(node("a"), "zone", "east"),
        with_label(node("b"), "zone", "West"),
        node("c"),
        Node {
            role: NodeRole::Manager,
            ..node("m")
        },
    ];
    let cases: &[(&str, &[&str])] = &[
        ("node.labels.zone==west", &["b"]),
        ("node.labels.zone!=east", &["b", "c", "m"]),
        ("node.labels.zone==", &[]),
        ("node.role==manager", &["m"]),
        ("node.role!=manager", &["a", "b", "c"]),
        ("node.hostname==HOST-C", &["c"]),
        ("node.id==a", &["a"]),
        ("node.platform.arch==x86_64", &["a", "b", "c", "m"]),
        ("node.ip==10.0.0.0/24", &["a", "b", "c", "m"]),
        ("node.ip!=10.0.0.1", &[]),
    ];
    for (expr, expected) in cases {
        let tasks: Vec<_> = pending_n("t", "web", 8)
            .into_iter()
            .map(|t| constrained(t, &[expr]))
            .collect();
        let d = schedule(&nodes, &tasks);
        let got: Vec<String> = per_node(&d).into_keys().collect();
        if expected.is_empty() {
            assert!(got.is_empty(), "{expr}: {got:?}");
            assert!(reasons(&d)[0].starts_with("no suitable node ("), "{expr}");
        } else {
            assert_eq!(got, *expected, "{expr}");
        }
    }
}

#[test]
fn unsatisfied_constraints_are_explained() {
    let nodes = vec![node("a"), node("b"), node("c")];
    let d = schedule(
        &nodes,
        &[constrained(pending("t1", "web"), &["node.labels.gpu==yes"])],
    );
    assert_eq!(
        d[0].outcome,
        refused("no suitable node (scheduling constraints not satisfied on 3 nodes)")
    );
}

#[test]
fn explanations_are_ordered_by_count() {
    let nodes = vec![
        with_availability(node("a"), Availability::Drain),
        node("b"),
        node("c"),
        with_label(node("d"), "zone", "x"),
        with_label(node("e"), "zone", "x"),
    ];
    let mut small = node("f");
    small.description.resources.nano_cpus = CPU / 2;
    let mut nodes = nodes;
    nodes.push(with_label(small, "zone", "x"));
    let t = reserving(
        constrained(pending("t1", "web"), &["node.labels.zone==x"]),
        CPU,
        0,
    );
    // d and e pass everything but are full after their existing load.
    let tasks = vec![
        t,
        reserving(running("r1", "other", "d"), 4 * CPU, 0),
        reserving(running("r2", "other", "e"), 4 * CPU, 0),
    ];
    let d = schedule(&nodes, &tasks);
    assert_eq!(
        d[0].outcome,
        refused(
            "no suitable node (insufficient resources on 3 nodes; scheduling constraints not satisfied on 2 nodes; \
             1 node not available for new tasks)"
        )
    );
}

#[test]
fn resources_are_reserved_by_earlier_decisions() {
    let nodes = vec![node("a"), node("b")];
    // 4 CPUs per node, 1.5 CPU per task: 2 fit on each node.
    let tasks: Vec<_> = pending_n("t", "web", 5)
        .into_iter()
        .map(|t| reserving(t, 3 * CPU / 2, GIB))
        .collect();
    let d = schedule(&nodes, &tasks);
    assert_eq!(
        per_node(&d),
        [("a".to_string(), 2), ("b".to_string(), 2)].into()
    );
    assert_eq!(
        d.iter().filter(|x| x.node_id().is_none()).count(),
        1,
        "the fifth task does not fit: {d:?}"
    );
    assert_eq!(
        reasons(&d),
        ["no suitable node (insufficient resources on 2 nodes)"]
    );
}

#[test]
fn existing_reservations_count_but_stopped_tasks_do_not() {
    let nodes = vec![node("a"), node("b")];
    let mut stopped = reserving(running("old", "web", "b"), 4 * CPU, 0);
    stopped.status.state = TaskState::Shutdown;
    let mut stopping = reserving(running("old2", "web", "b"), 4 * CPU, 0);
    stopping.desired_state = TaskState::Shutdown;
    let tasks = vec![
        reserving(running("r1", "db", "a"), 3 * CPU, 0),
        stopped,
        stopping,
        reserving(pending("t1", "web"), 2 * CPU, 0),
        reserving(pending("t2", "web"), 2 * CPU, 0),
    ];
    let d = schedule(&nodes, &tasks);
    assert_eq!(per_node(&d), [("b".to_string(), 2)].into());
}

#[test]
fn memory_reservation_filters_too() {
    let nodes = vec![node("a")];
    let d = schedule(&nodes, &[reserving(pending("t1", "web"), 0, 9 * GIB)]);
    assert_eq!(
        d[0].outcome,
        refused("no suitable node (insufficient resources on 1 node)")
    );
}

#[test]
fn platform_filter() {
    let mut arm = node("arm");
    arm.description.platform = Platform {
        architecture: "aarch64".into(),
        os: "linux".into(),
    };
    let nodes = vec![node("x86"), arm];
    let want = |arch: &str| Placement {
        platforms: vec![Platform {
            architecture: arch.into(),
            os: "linux".into(),
        }],
        ..Default::default()
    };
    let d = schedule(
        &nodes,
        &[with_placement(pending("t1", "web"), want("arm64"))],
    );
    assert_eq!(d[0].outcome, assigned("arm"));
    let d = schedule(
        &nodes,
        &[with_placement(pending("t1", "web"), want("amd64"))],
    );
    assert_eq!(d[0].outcome, assigned("x86"));
    let d = schedule(
        &nodes,
        &[with_placement(pending("t1", "web"), want("s390x"))],
    );
    assert_eq!(
        d[0].outcome,
        refused("no suitable node (unsupported platform on 2 nodes)")
    );
}

#[test]
fn max_replicas_per_node() {
    let nodes = vec![node("a"), node("b")];
    let p = Placement {
        max_replicas: 2,
        ..Default::default()
    };
    let mut tasks: Vec<_> = pending_n("t", "web", 5)
        .into_iter()
        .map(|t| with_placement(t, p.clone()))
        .collect();
    tasks.push(running("r1", "web", "a"));
    let d = schedule(&nodes, &tasks);
    assert_eq!(
        per_node(&d),
        [("a".to_string(), 1), ("b".to_string(), 2)].into()
    );
    assert_eq!(
        reasons(&d),
        vec!["no suitable node (max replicas per node limit exceed)"; 2]
    );
}

#[test]
fn max_replicas_counts_only_this_service() {
    let nodes = vec![node("a")];
    let p = Placement {
        max_replicas: 1,
        ..Default::default()
    };
    let tasks = vec![
        running("r1", "other", "a"),
        with_placement(pending("t1", "web"), p),
    ];
    assert_eq!(schedule(&nodes, &tasks)[0].outcome, assigned("a"));
}

#[test]
fn pinned_task_goes_to_its_node_or_nowhere() {
    let nodes = vec![
        node("a"),
        with_availability(node("b"), Availability::Drain),
        node("c"),
    ];
    let pin = |id: &str, n: &str| {
        let mut t = pending(id, "global");
        t.node_id = n.into();
        t
    };
    let tasks = vec![
        pin("g-a", "a"),
        pin("g-b", "b"),
        pin("g-x", "x"),
        reserving(pin("g-c", "c"), 5 * CPU, 0),
        constrained(pin("g-c2", "c"), &["node.role==manager"]),
    ];
    let d = schedule(&nodes, &tasks);
    assert_eq!(*decision(&d, "g-a"), assigned("a"));
    assert_eq!(
        *decision(&d, "g-b"),
        refused("1 node not available for new tasks")
    );
    assert_eq!(*decision(&d, "g-x"), refused("node x not found"));
    assert_eq!(
        *decision(&d, "g-c"),
        refused("insufficient resources on 1 node")
    );
    assert_eq!(
        *decision(&d, "g-c2"),
        refused("scheduling constraints not satisfied on 1 node")
    );
}

#[test]
fn pinned_tasks_count_as_load_for_later_ones() {
    let nodes = vec![node("a"), node("b")];
    let mut g = reserving(pending("g1", "global"), 3 * CPU, 0);
    g.node_id = "a".into();
    let t = reserving(pending("t1", "web"), 2 * CPU, 0);
    let d = schedule(&nodes, &[t, g]);
    assert_eq!(d[0].task_id, "g1", "pinned tasks are decided first");
    assert_eq!(*decision(&d, "t1"), assigned("b"));
}

#[test]
fn only_pending_tasks_wanting_to_run_are_decided() {
    let nodes = vec![node("a")];
    let mut not_wanted = pending("p2", "web");
    not_wanted.desired_state = TaskState::Shutdown;
    let mut fresh = pending("n1", "web");
    fresh.status.state = TaskState::New;
    let tasks = vec![
        pending("p1", "web"),
        not_wanted,
        fresh,
        running("r1", "web", "a"),
    ];
    let d = schedule(&nodes, &tasks);
    let ids: Vec<&str> = d.iter().map(|x| x.task_id.as_str()).collect();
    assert_eq!(ids, ["p1"]);
}

#[test]
fn malformed_constraint_matches_nothing() {
    let nodes = vec![node("a")];
    let d = schedule(
        &nodes,
        &[constrained(pending("t1", "web"), &["node.role=worker"])],
    );
    assert_eq!(
        d[0].outcome,
        refused("no suitable node (scheduling constraints not satisfied on 1 node)")
    );
}

/// `t` publishing `port` in host mode.
fn publishing(mut t: rswarm_types::Task, protocol: &str, port: u32) -> rswarm_types::Task {
    t.endpoint_spec = Some(rswarm_types::EndpointSpec {
        ports: vec![rswarm_types::PortConfig {
            protocol: protocol.into(),
            target_port: 80,
            published_port: port,
            publish_mode: "host".into(),
            ..Default::default()
        }],
        ..Default::default()
    });
    t
}

#[test]
fn host_ports_are_published_once_per_node() {
    let nodes = vec![node("a"), node("b")];
    // One running task already holds tcp/8080 on a.
    let tasks = vec![
        publishing(running("r1", "web", "a"), "tcp", 8080),
        publishing(pending("p1", "web"), "tcp", 8080),
        publishing(pending("p2", "web"), "tcp", 8080),
        // Another protocol, or port 0 (chosen by the node), conflicts with nothing.
        publishing(pending("u1", "dns"), "udp", 8080),
        publishing(pending("z1", "any"), "tcp", 0),
        publishing(pending("z2", "any"), "tcp", 0),
    ];
    let d = schedule(&nodes, &tasks);
    assert_eq!(decision(&d, "p1"), &assigned("b"));
    assert_eq!(
        decision(&d, "p2"),
        &refused("no suitable node (host-mode port already in use on 2 nodes)")
    );
    assert!(matches!(
        decision(&d, "u1"),
        rswarm_scheduler::Outcome::Assign { .. }
    ));
    assert!(matches!(
        decision(&d, "z1"),
        rswarm_scheduler::Outcome::Assign { .. }
    ));
    assert!(matches!(
        decision(&d, "z2"),
        rswarm_scheduler::Outcome::Assign { .. }
    ));
}
