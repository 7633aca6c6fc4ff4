//! Ranking: tasks spread evenly, respecting existing load, with
//! deterministic tie-breaks and optional `spread` placement preferences.

mod common;

use common::*;
use rswarm_scheduler::schedule;
use rswarm_types::{Placement, Task, Version};
use serde_json::json;

fn counts(pairs: &[(&str, usize)]) -> std::collections::BTreeMap<String, usize> {
    pairs.iter().map(|&(n, c)| (n.to_string(), c)).collect()
}

#[test]
fn six_tasks_on_three_nodes_two_each() {
    let nodes = vec![node("a"), node("b"), node("c")];
    let d = schedule(&nodes, &pending_n("t", "web", 6));
    assert_eq!(per_node(&d), counts(&[("a", 2), ("b", 2), ("c", 2)]));
}

#[test]
fn existing_tasks_of_the_service_are_respected() {
    let nodes = vec![node("a"), node("b"), node("c")];
    let mut tasks = vec![
        running("r1", "web", "a"),
        running("r2", "web", "a"),
        running("r3", "web", "c"),
    ];
    tasks.extend(pending_n("t", "web", 3));
    let d = schedule(&nodes, &tasks);
    assert_eq!(per_node(&d), counts(&[("b", 2), ("c", 1)]));
}

#[test]
fn total_load_breaks_ties_between_equal_service_counts() {
    let nodes = vec![node("a"), node("b"), node("c")];
    let tasks = vec![
        running("o1", "other", "a"),
        running("o2", "other", "a"),
        running("o3", "other", "b"),
        pending("t1", "web"),
        pending("t2", "web"),
    ];
    let d = schedule(&nodes, &tasks);
    assert_eq!(per_node(&d), counts(&[("b", 1), ("c", 1)]));
}

#[test]
fn service_count_wins_over_total_count() {
    let nodes = vec![node("a"), node("b")];
    // a: 5 tasks of other services; b: 1 task of web.
    let mut tasks: Vec<Task> = (0..5)
        .map(|i| running(&format!("o{i}"), "other", "a"))
        .collect();
    tasks.push(running("w0", "web", "b"));
    tasks.push(pending("t1", "web"));
    assert_eq!(schedule(&nodes, &tasks)[0].outcome, assigned("a"));
}

#[test]
fn ties_break_by_node_id() {
    let nodes = vec![node("c"), node("a"), node("b")];
    assert_eq!(
        schedule(&nodes, &[pending("t1", "web")])[0].outcome,
        assigned("a")
    );
}

#[test]
fn earlier_decisions_count_for_later_groups() {
    let nodes = vec![node("a"), node("b")];
    let d = schedule(&nodes, &[pending("t1", "s1"), pending("t2", "s2")]);
    assert_eq!(*decision(&d, "t1"), assigned("a"));
    assert_eq!(*decision(&d, "t2"), assigned("b"));
}

#[test]
fn two_spec_versions_of_one_service_spread_together() {
    let nodes = vec![node("a"), node("b")];
    let mut tasks = pending_n("v1-", "web", 2);
    for mut t in pending_n("v2-", "web", 2) {
        t.spec_version = Some(Version { index: 2 });
        tasks.push(t);
    }
    let d = schedule(&nodes, &tasks);
    assert_eq!(per_node(&d), counts(&[("a", 2), ("b", 2)]));
}

#[test]
fn many_tasks_stay_within_one_of_each_other() {
    let nodes: Vec<_> = (0..7).map(|i| node(&format!("n{i}"))).collect();
    let d = schedule(&nodes, &pending_n("t", "web", 1000));
    let c = per_node(&d);
    assert_eq!(c.values().sum::<usize>(), 1000);
    let (min, max) = (c.values().min().copied(), c.values().max().copied());
    assert_eq!((min, max), (Some(142), Some(143)));
}

#[test]
fn identical_input_gives_identical_output_whatever_the_order() {
    let nodes: Vec<_> = (0..5)
        .map(|i| with_label(node(&format!("n{i}")), "zone", &format!("z{}", i % 2)))
        .collect();
    let mut tasks = pending_n("a", "s1", 7);
    tasks.extend(
        pending_n("b", "s2", 4)
            .into_iter()
            .map(|t| constrained(t, &["node.labels.zone==z1"])),
    );
    tasks.push(running("r", "s1", "n3"));
    // Same service and version, different placement: a separate sub-group.
    tasks.extend(
        pending_n("c", "s1", 3)
            .into_iter()
            .map(|t| constrained(t, &["node.labels.zone==z0"])),
    );
    let first = schedule(&nodes, &tasks);
    assert_eq!(schedule(&nodes, &tasks), first);
    let mut rev_nodes = nodes.clone();
    rev_nodes.reverse();
    let mut rev_tasks = tasks.clone();
    rev_tasks.reverse();
    assert_eq!(schedule(&rev_nodes, &rev_tasks), first);
}

fn spread(t: Task, descriptors: &[&str]) -> Task {
    let preferences = descriptors
        .iter()
        .map(|d| {
            serde_json::from_value(json!({"Spread": {"SpreadDescriptor": d}})).expect("preference")
        })
        .collect();
    with_placement(
        t,
        Placement {
            preferences,
            ..Default::default()
        },
    )
}

#[test]
fn spread_preference_splits_evenly_across_label_values() {
    let nodes = vec![
        with_label(node("a"), "zone", "z1"),
        with_label(node("b"), "zone", "z1"),
        with_label(node("c"), "zone", "z2"),
        node("d"), // no label: the "" group gets an equal share
    ];
    let tasks: Vec<_> = pending_n("t", "web", 6)
        .into_iter()
        .map(|t| spread(t, &["node.labels.zone"]))
        .collect();
    let d = schedule(&nodes, &tasks);
    assert_eq!(
        per_node(&d),
        counts(&[("a", 1), ("b", 1), ("c", 2), ("d", 2)])
    );
}

#[test]
fn spread_preference_counts_existing_tasks_per_value() {
    let nodes = vec![
        with_label(node("a"), "zone", "z1"),
        with_label(node("b"), "zone", "z2"),
    ];
    let mut tasks = vec![running("r1", "web", "a"), running("r2", "web", "a")];
    tasks.extend(
        pending_n("t", "web", 4)
            .into_iter()
            .map(|t| spread(t, &["node.labels.zone"])),
    );
    let d = schedule(&nodes, &tasks);
    assert_eq!(per_node(&d), counts(&[("a", 1), ("b", 3)]));
}

#[test]
fn nested_spread_preferences() {
    let node2 =
        |id: &str, dc: &str, rack: &str| with_label(with_label(node(id), "dc", dc), "rack", rack);
    let nodes = vec![
        node2("a", "east", "r1"),
        node2("b", "east", "r1"),
        node2("c", "east", "r2"),
        node2("d", "west", "r3"),
    ];
    let tasks: Vec<_> = pending_n("t", "web", 8)
        .into_iter()
        .map(|t| spread(t, &["node.labels.dc", "node.labels.rack"]))
        .collect();
    let d = schedule(&nodes, &tasks);
    // 4 per dc; in east, 2 per rack; r1's 2 split over a and b.
    assert_eq!(
        per_node(&d),
        counts(&[("a", 1), ("b", 1), ("c", 2), ("d", 4)])
    );
}

#[test]
fn spread_falls_back_to_other_values_when_one_is_full() {
    let nodes = vec![
        with_label(node("a"), "zone", "z1"),
        with_label(node("b"), "zone", "z2"),
    ];
    let p = |t: Task| {
        let mut t = spread(t, &["node.labels.zone"]);
        if let Some(p) = t.spec.placement.as_mut() {
            p.max_replicas = 1;
        }
        t
    };
    let tasks: Vec<_> = pending_n("t", "web", 3).into_iter().map(p).collect();
    let d = schedule(&nodes, &tasks);
    assert_eq!(per_node(&d), counts(&[("a", 1), ("b", 1)]));
    assert_eq!(
        reasons(&d),
        ["no suitable node (max replicas per node limit exceed)"]
    );
}
