//! Builders shared by the integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;

use rswarm_scheduler::{Decision, Outcome};
use rswarm_types::{
    Availability, Node, NodeState, Placement, Platform, ResourceRequirements, Resources, Task,
    TaskState, Version,
};

pub const CPU: i64 = 1_000_000_000;
pub const GIB: i64 = 1 << 30;

/// A ready, active linux/x86_64 worker with 4 CPUs and 8 GiB.
pub fn node(id: &str) -> Node {
    let mut n = Node {
        id: id.into(),
        ..Default::default()
    };
    n.status.state = NodeState::Ready;
    n.status.addr = "10.0.0.1".into();
    n.description.hostname = format!("host-{id}");
    n.description.platform = Platform {
        architecture: "x86_64".into(),
        os: "linux".into(),
    };
    n.description.resources = Resources {
        nano_cpus: 4 * CPU,
        memory_bytes: 8 * GIB,
        ..Default::default()
    };
    n
}

pub fn with_availability(mut n: Node, a: Availability) -> Node {
    n.spec.availability = a;
    n
}

pub fn with_state(mut n: Node, s: NodeState) -> Node {
    n.status.state = s;
    n
}

pub fn with_label(mut n: Node, k: &str, v: &str) -> Node {
    n.spec.labels.insert(k.into(), v.into());
    n
}

/// A pending task of `service` (spec version 1), wanting to run.
pub fn pending(id: &str, service: &str) -> Task {
    let mut t = Task {
        id: id.into(),
        service_id: service.into(),
        desired_state: TaskState::Running,
        spec_version: Some(Version { index: 1 }),
        ..Default::default()
    };
    t.status.state = TaskState::Pending;
    t
}

/// `count` pending tasks `<prefix>1..` of `service`, with slots.
pub fn pending_n(prefix: &str, service: &str, count: usize) -> Vec<Task> {
    (1..=count)
        .map(|i| {
            let mut t = pending(&format!("{prefix}{i:03}"), service);
            t.slot = i as u64;
            t
        })
        .collect()
}

/// A running task of `service` on `node`.
pub fn running(id: &str, service: &str, node: &str) -> Task {
    let mut t = pending(id, service);
    t.status.state = TaskState::Running;
    t.node_id = node.into();
    t
}

pub fn with_placement(mut t: Task, p: Placement) -> Task {
    t.spec.placement = Some(p);
    t
}

pub fn constrained(t: Task, exprs: &[&str]) -> Task {
    with_placement(
        t,
        Placement {
            constraints: exprs.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        },
    )
}

pub fn reserving(mut t: Task, cpu: i64, mem: i64) -> Task {
    let r = Resources {
        nano_cpus: cpu,
        memory_bytes: mem,
        ..Default::default()
    };
    t.spec.resources = Some(ResourceRequirements {
        limits: None,
        reservations: Some(r),
    });
    t
}

/// Node ID → number of tasks assigned to it.
pub fn per_node(decisions: &[Decision]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for d in decisions {
        if let Some(n) = d.node_id() {
            *m.entry(n.to_string()).or_insert(0) += 1;
        }
    }
    m
}

/// The reason of every unschedulable decision.
pub fn reasons(decisions: &[Decision]) -> Vec<String> {
    decisions
        .iter()
        .filter_map(|d| match &d.outcome {
            Outcome::Unschedulable { reason } => Some(reason.clone()),
            Outcome::Assign { .. } => None,
        })
        .collect()
}

/// The decision for one task.
pub fn decision<'d>(decisions: &'d [Decision], task_id: &str) -> &'d Outcome {
    &decisions
        .iter()
        .find(|d| d.task_id == task_id)
        .expect("a decision for the task")
        .outcome
}

pub fn assigned(node: &str) -> Outcome {
    Outcome::Assign {
        node_id: node.into(),
    }
}

pub fn refused(reason: &str) -> Outcome {
    Outcome::Unschedulable {
        reason: reason.into(),
    }
}
