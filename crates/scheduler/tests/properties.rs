//! Property tests over random clusters: whatever the input, no pending
//! task lands on a node that is not ready, violates max replicas, its
//! constraints or the free resources, every pending task gets exactly one
//! decision, and the result does not depend on input order.

mod common;

use std::collections::{BTreeMap, HashMap};

use common::*;
use proptest::prelude::*;
use rswarm_scheduler::schedule;
use rswarm_types::{Availability, Node, NodeState, Placement, Task, TaskState};

const STATES: [NodeState; 4] = [
    NodeState::Ready,
    NodeState::Down,
    NodeState::Unknown,
    NodeState::Disconnected,
];
const AVAILABILITY: [Availability; 3] = [
    Availability::Active,
    Availability::Pause,
    Availability::Drain,
];

fn arb_node(i: usize) -> impl Strategy<Value = Node> {
    (0..6usize, 0..4usize, proptest::option::of(0..3u8), 0..8i64).prop_map(
        move |(s, a, zone, cpus)| {
            let mut n = node(&format!("n{i:02}"));
            // Ready and active most of the time.
            n.status.state = STATES[s.saturating_sub(2)];
            n.spec.availability = AVAILABILITY[a.saturating_sub(1)];
            if let Some(z) = zone {
                n.spec.labels.insert("zone".into(), format!("z{z}"));
            }
            n.description.resources.nano_cpus = cpus * CPU;
            n
        },
    )
}

/// Per service: max replicas (0 = unlimited), CPU reservation in quarters,
/// optional zone constraint, spread preference.
fn arb_service() -> impl Strategy<Value = (u64, i64, Option<u8>, bool)> {
    (
        0..4u64,
        0..6i64,
        proptest::option::of(0..3u8),
        any::<bool>(),
    )
}

fn service_placement(max: u64, zone: Option<u8>, spread: bool) -> Placement {
    Placement {
        constraints: zone
            .map(|z| vec![format!("node.labels.zone!=z{z}")])
            .unwrap_or_default(),
        max_replicas: max,
        preferences: if spread {
            vec![
                serde_json::from_value(
                    serde_json::json!({"Spread": {"SpreadDescriptor": "node.labels.zone"}}),
                )
                .expect("preference"),
            ]
        } else {
            Vec::new()
        },
        ..Default::default()
    }
}

#[derive(Debug, Clone)]
struct Cluster {
    nodes: Vec<Node>,
    tasks: Vec<Task>,
    max_replicas: HashMap<String, u64>,
}

fn arb_cluster() -> impl Strategy<Value = Cluster> {
    let nodes = (0..12usize).prop_flat_map(|n| (0..n).map(arb_node).collect::<Vec<_>>());
    let services = proptest::collection::vec(arb_service(), 1..4);
    // (service, node for running tasks / pin, kind: 0 pending, 1 running, 2 pinned)
    let tasks = proptest::collection::vec((0..4usize, 0..14usize, 0..5u8), 0..60);
    (nodes, services, tasks).prop_map(|(nodes, services, raw)| {
        let mut tasks = Vec::new();
        let mut max_replicas = HashMap::new();
        for (i, (s, n, kind)) in raw.into_iter().enumerate() {
            let (max, quarters, zone, spread) = services[s % services.len()];
            let service = format!("s{}", s % services.len());
            max_replicas.insert(service.clone(), max);
            let node_id = format!("n{n:02}");
            let id = format!("t{i:03}");
            let mut t = match kind {
                0..=2 => pending(&id, &service),
                3 => running(&id, &service, &node_id),
                _ => {
                    let mut t = pending(&id, &service);
                    t.node_id = node_id;
                    t
                }
            };
            t.slot = i as u64;
            t = reserving(t, quarters * CPU / 4, 0);
            tasks.push(with_placement(t, service_placement(max, zone, spread)));
        }
        Cluster {
            nodes,
            tasks,
            max_replicas,
        }
    })
}

fn is_pending(t: &Task) -> bool {
    t.status.state == TaskState::Pending && t.desired_state <= TaskState::Complete
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn placements_respect_every_filter(c in arb_cluster()) {
        let decisions = schedule(&c.nodes, &c.tasks);
        let nodes: BTreeMap<&str, &Node> = c.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
        let tasks: BTreeMap<&str, &Task> = c.tasks.iter().map(|t| (t.id.as_str(), t)).collect();

        // Exactly one decision per pending task.
        let mut decided: Vec<&str> = decisions.iter().map(|d| d.task_id.as_str()).collect();
        decided.sort_unstable();
        let mut expected: Vec<&str> = c.tasks.iter().filter(|t| is_pending(t)).map(|t| t.id.as_str()).collect();
        expected.sort_unstable();
        prop_assert_eq!(decided, expected);

        // Load before the call.
        let mut count: HashMap<(&str, &str), u64> = HashMap::new();
        let mut used_cpu: HashMap<&str, i64> = HashMap::new();
        for t in c.tasks.iter().filter(|t| !is_pending(t)) {
            *count.entry((t.service_id.as_str(), t.node_id.as_str())).or_default() += 1;
            *used_cpu.entry(t.node_id.as_str()).or_default() += reservation(t);
        }
        let before = count.clone();
        let mut new_cpu: HashMap<&str, i64> = HashMap::new();
        for d in &decisions {
            let Some(node_id) = d.node_id() else { continue };
            let task = tasks[d.task_id.as_str()];
            let node = nodes[node_id];
            prop_assert_eq!(node.status.state, NodeState::Ready, "{} on non-ready {}", task.id, node_id);
            prop_assert_eq!(node.spec.availability, Availability::Active, "{} on inactive {}", task.id, node_id);
            if !task.node_id.is_empty() {
                prop_assert_eq!(node_id, task.node_id.as_str(), "pinned task moved");
            }
            if let Some(zone) = task.spec.placement.as_ref().and_then(|p| p.constraints.first()) {
                let banned = zone.trim_start_matches("node.labels.zone!=");
                prop_assert_ne!(node.spec.labels.get("zone").map(String::as_str), Some(banned));
            }
            *count.entry((task.service_id.as_str(), node_id)).or_default() += 1;
            *new_cpu.entry(node_id).or_default() += reservation(task);
        }
        for ((service, node_id), n) in &count {
            let max = c.max_replicas.get(*service).copied().unwrap_or(0);
            let old = before.get(&(*service, *node_id)).copied().unwrap_or(0);
            if max > 0 && nodes.contains_key(node_id) {
                prop_assert!(*n <= max.max(old), "{} has {} tasks of {} (max {})", node_id, n, service, max);
            }
        }
        for (node_id, added) in &new_cpu {
            let free = nodes[node_id].description.resources.nano_cpus - used_cpu.get(node_id).copied().unwrap_or(0);
            prop_assert!(*added <= free.max(0), "{} overcommitted: {} > {}", node_id, added, free);
        }
    }

    #[test]
    fn output_does_not_depend_on_input_order(c in arb_cluster(), seed in any::<u64>()) {
        let first = schedule(&c.nodes, &c.tasks);
        prop_assert_eq!(&schedule(&c.nodes, &c.tasks), &first);
        let mut nodes = c.nodes.clone();
        let mut tasks = c.tasks.clone();
        shuffle(&mut nodes, seed);
        shuffle(&mut tasks, seed.rotate_left(17));
        prop_assert_eq!(&schedule(&nodes, &tasks), &first);
    }

    #[test]
    fn unconstrained_tasks_spread_within_one(nodes in 1..20usize, tasks in 0..200usize) {
        let nodes: Vec<Node> = (0..nodes).map(|i| node(&format!("n{i:02}"))).collect();
        let decisions = schedule(&nodes, &pending_n("t", "web", tasks));
        let per = per_node(&decisions);
        prop_assert_eq!(per.values().sum::<usize>(), tasks);
        let max = per.values().max().copied().unwrap_or(0);
        let min = if per.len() < nodes.len() { 0 } else { per.values().min().copied().unwrap_or(0) };
        prop_assert!(max - min <= 1, "{:?}", per);
    }
}

fn reservation(t: &Task) -> i64 {
    t.spec
        .resources
        .as_ref()
        .and_then(|r| r.reservations.as_ref())
        .map_or(0, |r| r.nano_cpus)
}

/// A small deterministic Fisher-Yates shuffle (xorshift).
fn shuffle<T>(v: &mut [T], seed: u64) {
    let mut x = seed | 1;
    for i in (1..v.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.swap(i, (x % (i as u64 + 1)) as usize);
    }
}
