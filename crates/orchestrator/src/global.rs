//! Global services: one task per eligible node, created with the node
//! pre-set and slot 0.
//!
//! - Eligible: not down, not drained, placement constraints match
//!   (unknown and disconnected nodes stay eligible).
//! - Active eligible node: stopped tasks go to the restart supervisor; a
//!   node without a task (and not held dead by the restart policy) gets one.
//! - Paused node: nothing is created, restarted or updated there.
//! - Ineligible or deleted node: its tasks get desired `shutdown`, no
//!   replacement.

use std::collections::BTreeMap;

use rswarm_types::{Availability, Node, NodeState, Service, TaskState};

use crate::constraint::node_matches;
use crate::group::{Group, Key, group_by};
use crate::plan::Draft;
use crate::restart::supervise;
use crate::view::Nodes;

/// The node may run the service's task.
pub(crate) fn eligible(svc: &Service, node: &Node) -> bool {
    let constraints = svc
        .spec
        .task_template
        .placement
        .as_ref()
        .map(|p| p.constraints.as_slice())
        .unwrap_or(&[]);
    node.status.state != NodeState::Down
        && node.spec.availability != Availability::Drain
        && node_matches(constraints, node)
}

/// Number of nodes that take updates (eligible and active).
pub(crate) fn active_count(svc: &Service, nodes: &Nodes) -> usize {
    nodes
        .iter()
        .filter(|n| eligible(svc, n) && n.spec.availability == Availability::Active)
        .count()
}

/// Runs restarts, creations and shutdowns for one service. Returns the
/// groups of active eligible nodes (they take updates) and the others.
pub(crate) fn reconcile(
    d: &mut Draft,
    svc: &Service,
    idxs: &[usize],
    nodes: &Nodes,
) -> (Vec<Group>, Vec<Group>) {
    let mut by_node: BTreeMap<Key, Group> = group_by(d, idxs, |t| Key::Node(t.node_id.clone()))
        .into_iter()
        .map(|g| (g.key.clone(), g))
        .collect();
    let (mut work, mut rest) = (Vec::new(), Vec::new());
    for node in nodes.iter() {
        let key = Key::Node(node.id.clone());
        let mut g = by_node.remove(&key).unwrap_or_else(|| Group::new(key));
        if !eligible(svc, node) {
            shutdown(d, &g);
            rest.push(g);
        } else if node.spec.availability == Availability::Pause {
            rest.push(g);
        } else {
            supervise(d, svc, &mut g, nodes, &|_| false);
            if !g.occupied(d, svc) {
                let n = d.spawn(svc, &g.key, TaskState::Running);
                g.members.push(n);
            }
            work.push(g);
        }
    }
    // Tasks on deleted nodes (or never given one).
    for g in by_node.into_values() {
        shutdown(d, &g);
        rest.push(g);
    }
    (work, rest)
}

fn shutdown(d: &mut Draft, g: &Group) {
    for i in g.runnable(d) {
        d.set_desired(i, TaskState::Shutdown);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_types::{Placement, ServiceMode, Task, Timestamp};

    fn at(s: i64) -> Timestamp {
        chrono::DateTime::from_timestamp(1_700_000_000 + s, 0).expect("time")
    }

    fn node(id: &str, state: NodeState, availability: Availability, zone: &str) -> Node {
        let mut n = Node {
            id: id.into(),
            ..Default::default()
        };
        n.status.state = state;
        n.spec.availability = availability;
        n.spec.labels.insert("zone".into(), zone.into());
        n
    }

    fn running_on(node: &str) -> Task {
        let mut t = Task {
            id: format!("t-{node}"),
            service_id: "g".into(),
            node_id: node.into(),
            desired_state: TaskState::Running,
            ..Default::default()
        };
        t.status.state = TaskState::Running;
        t
    }

    #[test]
    fn one_task_per_eligible_node() {
        let nodes = vec![
            node("active-new", NodeState::Ready, Availability::Active, "east"),
            node("active-has", NodeState::Ready, Availability::Active, "east"),
            node("unknown", NodeState::Unknown, Availability::Active, "east"),
            node("paused", NodeState::Ready, Availability::Pause, "east"),
            node("drained", NodeState::Ready, Availability::Drain, "east"),
            node("down", NodeState::Down, Availability::Active, "east"),
            node("west", NodeState::Ready, Availability::Active, "west"),
        ];
        let tasks = vec![
            running_on("active-has"),
            running_on("paused"),
            running_on("drained"),
            running_on("down"),
            running_on("west"),
            running_on("deleted"),
        ];
        let mut svc = Service {
            id: "g".into(),
            ..Default::default()
        };
        svc.spec.mode = ServiceMode::global();
        svc.spec.task_template.placement = Some(Placement {
            constraints: vec!["node.labels.zone==east".into()],
            ..Default::default()
        });
        let nodes_idx = Nodes::new(&nodes);
        assert_eq!(active_count(&svc, &nodes_idx), 3);
        let mut k = 0;
        let mut ids = || {
            k += 1;
            format!("new{k}")
        };
        let mut d = Draft::new(&tasks, at(1), &mut ids);
        let idxs: Vec<usize> = (0..tasks.len()).collect();
        let (work, rest) = reconcile(&mut d, &svc, &idxs, &nodes_idx);
        assert_eq!(work.len(), 3);
        assert_eq!(rest.len(), 5);
        let (plan, _) = d.finish();
        let mut created: Vec<(&str, u64)> = plan
            .create_tasks
            .iter()
            .map(|t| (t.node_id.as_str(), t.slot))
            .collect();
        created.sort_unstable();
        assert_eq!(created, [("active-new", 0), ("unknown", 0)]);
        let mut shut: Vec<&str> = plan
            .update_tasks
            .iter()
            .filter(|t| t.desired_state == TaskState::Shutdown)
            .map(|t| t.node_id.as_str())
            .collect();
        shut.sort_unstable();
        assert_eq!(shut, ["deleted", "down", "drained", "west"]);
    }
}
