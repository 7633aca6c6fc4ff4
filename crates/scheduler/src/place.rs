//! Turning groups and pinned tasks into decisions.

use rswarm_types::Task;

use crate::explain::Failures;
use crate::filters::Requirements;
use crate::nodeset::NodeSet;
use crate::spread::Tree;
use crate::{Decision, Outcome};

/// Places one group of tasks that share service and placement spec: one
/// pipeline run over all nodes, then spread. Tasks left over when no node
/// can take more get the explanation of the nodes' state at that point.
pub(crate) fn place_group<'a>(set: &mut NodeSet<'a>, group: &[&'a Task], out: &mut Vec<Decision>) {
    let Some(first) = group.first() else { return };
    let req = Requirements::of(first);
    let counts = set.service_counts(req.service_id);
    let eligible: Vec<(u32, u32)> = set
        .nodes
        .iter()
        .zip(0u32..)
        .filter_map(|(info, idx)| {
            let sc = counts.and_then(|m| m.get(&idx)).copied().unwrap_or(0);
            req.check(info, sc).is_ok().then_some((idx, sc))
        })
        .collect();
    let mut tree = Tree::build(set, eligible, &req.spread);
    let mut placed = 0;
    for task in group {
        let Some(idx) = tree.place(set, &req) else {
            break;
        };
        out.push(assign(task, set, idx));
        placed += 1;
    }
    if let Some(rest) = group.get(placed..).filter(|r| !r.is_empty()) {
        let reason = Failures::survey(set, &req).no_suitable_node();
        out.extend(rest.iter().map(|t| unschedulable(t, reason.clone())));
    }
}

/// Checks a task that already names its node (a global service's task)
/// against that node only. As in Swarm, the reason for a refusal is the
/// bare explanation (e.g. `1 node not available for new tasks`).
pub(crate) fn place_pinned<'a>(set: &mut NodeSet<'a>, task: &'a Task) -> Decision {
    let Some(idx) = set.index_of(&task.node_id) else {
        return unschedulable(task, format!("node {} not found", task.node_id));
    };
    let req = Requirements::of(task);
    let sc = set.service_count(req.service_id, idx);
    match req.check(set.info(idx), sc) {
        Ok(()) => {
            set.place(idx, req.service_id, req.reservation, &req.host_ports);
            assign(task, set, idx)
        }
        Err(filter) => {
            let mut failures = Failures::default();
            failures.record(filter);
            unschedulable(task, failures.explain())
        }
    }
}

fn assign(task: &Task, set: &NodeSet<'_>, idx: u32) -> Decision {
    Decision {
        task_id: task.id.clone(),
        outcome: Outcome::Assign {
            node_id: set.info(idx).node.id.clone(),
        },
    }
}

fn unschedulable(task: &Task, reason: String) -> Decision {
    Decision {
        task_id: task.id.clone(),
        outcome: Outcome::Unschedulable { reason },
    }
}
