//! Replicated services: slots `1..=Replicas`.
//!
//! - Tasks that stopped, or whose node is gone, down or drained, go to the
//!   restart supervisor (replacement in the same slot).
//! - A slot is *occupied* when a task in it wants to run, or its newest
//!   task must not be restarted (it stays dead but taken).
//! - Scale-up fills the lowest free slot numbers (their history shows
//!   again); scale-down gives desired `remove` to the tasks that run (or
//!   hold) the extra slots, preferring nodes with the most tasks of the
//!   service, then non-running slots, then the highest slot numbers. Their
//!   history stays.
//! - When the number of slots changes, free slots that are not reused are
//!   released (`remove`), history and all, as Swarm deletes dead slots.

use std::collections::{BTreeMap, BTreeSet};

use rswarm_types::{Service, TaskState};

use crate::group::{Group, Key, group_by};
use crate::plan::Draft;
use crate::restart::supervise;
use crate::view::Nodes;

/// Runs restarts and scaling for one service. Returns the occupied slots
/// (they take updates) and the other groups.
pub(crate) fn reconcile(
    d: &mut Draft,
    svc: &Service,
    idxs: &[usize],
    nodes: &Nodes,
) -> (Vec<Group>, Vec<Group>) {
    let mut groups = group_by(d, idxs, |t| Key::Slot(t.slot));
    for g in &mut groups {
        supervise(d, svc, g, nodes, &|t| {
            !t.node_id.is_empty() && nodes.invalid(&t.node_id)
        });
    }
    let (mut occupied, mut free): (Vec<Group>, Vec<Group>) =
        groups.into_iter().partition(|g| g.occupied(d, svc));
    let replicas = usize::try_from(svc.spec.mode.replicas().unwrap_or(0)).unwrap_or(usize::MAX);

    if occupied.len() > replicas {
        order_for_scale_down(d, &mut occupied);
        for g in occupied.split_off(replicas) {
            retire(d, svc, &g);
        }
        for g in &free {
            release(d, g);
        }
    } else if occupied.len() < replicas {
        let taken: BTreeSet<u64> = occupied.iter().filter_map(slot_of).collect();
        let mut by_slot: BTreeMap<u64, Group> = free
            .drain(..)
            .filter_map(|g| slot_of(&g).map(|s| (s, g)))
            .collect();
        let mut slot = 0u64;
        while occupied.len() < replicas {
            slot += 1;
            if taken.contains(&slot) {
                continue;
            }
            let mut g = by_slot
                .remove(&slot)
                .unwrap_or_else(|| Group::new(Key::Slot(slot)));
            let n = d.spawn(svc, &g.key, TaskState::Running);
            g.members.push(n);
            occupied.push(g);
        }
        free = by_slot.into_values().collect();
        for g in &free {
            release(d, g);
        }
    }
    occupied.sort_by(|a, b| a.key.cmp(&b.key));
    (occupied, free)
}

fn slot_of(g: &Group) -> Option<u64> {
    match g.key {
        Key::Slot(s) => Some(s),
        Key::Node(_) => None,
    }
}

/// Scale-down of an occupied slot: what runs (or holds) it gets desired
/// `remove`; its history stays and shows again under the slot when a
/// scale-up reuses it, as in Swarm. Unless that history would hold the
/// slot by itself once the removed tasks are gone (its newest task must
/// not restart): then the whole slot goes.
fn retire(d: &mut Draft, svc: &Service, g: &Group) {
    let mut updatable = g.runnable(d);
    if updatable.is_empty() {
        updatable.extend(g.newest(d));
    }
    for &i in &updatable {
        d.set_desired(i, TaskState::Remove);
    }
    let rest = Group {
        key: g.key.clone(),
        members: g
            .members
            .iter()
            .copied()
            .filter(|&i| d.task(i).desired_state < TaskState::Remove)
            .collect(),
    };
    if rest.held(d, svc) {
        release(d, g);
    }
}

/// Gives every task of the slot desired `remove` (tasks created in this
/// pass are simply not created). Swarm does this to slots where nothing
/// runs when the number of slots changes, unless a scale-up reuses them.
fn release(d: &mut Draft, g: &Group) {
    for &i in &g.members {
        if d.task(i).desired_state < TaskState::Remove {
            d.set_desired(i, TaskState::Remove);
        }
    }
}

/// Orders slots so that the ones to keep come first (swarmkit's
/// `slotsByRunningState` then `slotsByIndex`): running before not
/// running, lower slot first; then by how many slots of the service were
/// already counted on the same node, slots not pinned to one node last.
fn order_for_scale_down(d: &Draft, slots: &mut [Group]) {
    let running = |g: &Group| {
        g.runnable(d)
            .iter()
            .any(|&i| d.task(i).status.state == TaskState::Running)
    };
    slots.sort_by_key(|g| (!running(g), g.key.clone()));
    let mut per_node: BTreeMap<String, usize> = BTreeMap::new();
    let mut index: BTreeMap<Key, usize> = BTreeMap::new();
    for g in slots.iter() {
        let mut updatable = g.runnable(d);
        if updatable.is_empty() {
            updatable.extend(g.newest(d));
        }
        if let [only] = updatable.as_slice() {
            let node = &d.task(*only).node_id;
            if !node.is_empty() {
                let n = per_node.entry(node.clone()).or_default();
                *n += 1;
                index.insert(g.key.clone(), *n);
            }
        }
    }
    slots.sort_by_key(|g| index.get(&g.key).copied().unwrap_or(usize::MAX));
}

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_types::{ServiceMode, Task, Timestamp};

    fn at(s: i64) -> Timestamp {
        chrono::DateTime::from_timestamp(1_700_000_000 + s, 0).expect("time")
    }

    fn task(slot: u64, node: &str, state: TaskState) -> Task {
        let mut t = Task {
            id: format!("t{slot}"),
            service_id: "s".into(),
            slot,
            node_id: node.into(),
            desired_state: TaskState::Running,
            ..Default::default()
        };
        t.status.state = state;
        t.meta.created_at = at(0);
        t
    }

    /// (replicas, tasks (slot, node, running?), slots created, slots removed)
    #[test]
    fn scale_table() {
        use TaskState::{Pending, Running};
        type Case = (u64, Vec<(u64, &'static str, TaskState)>, Vec<u64>, Vec<u64>);
        let cases: Vec<Case> = vec![
            (3, vec![], vec![1, 2, 3], vec![]),
            (3, vec![(2, "a", Running)], vec![1, 3], vec![]),
            (
                4,
                vec![(1, "a", Running), (3, "a", Running)],
                vec![2, 4],
                vec![],
            ),
            (
                1,
                vec![(1, "a", Running), (2, "b", Running), (3, "c", Running)],
                vec![],
                vec![2, 3],
            ),
            // node a holds two: one of them goes first.
            (
                2,
                vec![(1, "a", Running), (2, "a", Running), (3, "b", Running)],
                vec![],
                vec![2],
            ),
            // non-running before running.
            (
                2,
                vec![(1, "a", Pending), (2, "b", Running), (3, "c", Running)],
                vec![],
                vec![1],
            ),
            // unassigned slots (no node) go first.
            (
                2,
                vec![(1, "a", Running), (2, "", Pending), (3, "c", Running)],
                vec![],
                vec![2],
            ),
            (0, vec![(1, "a", Running)], vec![], vec![1]),
        ];
        let known: Vec<rswarm_types::Node> = ["a", "b", "c"]
            .iter()
            .map(|id| rswarm_types::Node {
                id: id.to_string(),
                ..Default::default()
            })
            .collect();
        let nodes = Nodes::new(&known);
        for (n, (replicas, spec, created, removed)) in cases.into_iter().enumerate() {
            let tasks: Vec<Task> = spec
                .iter()
                .map(|&(s, node, st)| task(s, node, st))
                .collect();
            let mut svc = Service {
                id: "s".into(),
                ..Default::default()
            };
            svc.spec.mode = ServiceMode::replicated(replicas);
            let mut k = 0;
            let mut ids = || {
                k += 1;
                format!("new{k}")
            };
            let mut d = Draft::new(&tasks, at(1), &mut ids);
            let idxs: Vec<usize> = (0..tasks.len()).collect();
            let (kept, _) = reconcile(&mut d, &svc, &idxs, &nodes);
            assert_eq!(kept.len() as u64, replicas, "case {n}");
            let (plan, _) = d.finish();
            let got_created: Vec<u64> = plan.create_tasks.iter().map(|t| t.slot).collect();
            let mut got_removed: Vec<u64> = plan
                .update_tasks
                .iter()
                .filter(|t| t.desired_state == TaskState::Remove)
                .map(|t| t.slot)
                .collect();
            got_removed.sort_unstable();
            assert_eq!(got_created, created, "case {n} created");
            assert_eq!(got_removed, removed, "case {n} removed");
        }
    }
}
