//! Real daemons on 127.0.0.1/2/3: joins with tokens over mutual TLS,
//! spreading, node failure and return, manager restart, node removal.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{TestDaemon, pids_with_env, service_pids, wait_until};
use serde_json::Value;

const T: Duration = Duration::from_secs(40);

struct Swarm {
    manager: TestDaemon,
    addr: String,
    workers: Vec<TestDaemon>,
}

fn three_nodes(prefix: &str) -> Swarm {
    let manager = TestDaemon::start(&format!("{prefix}-1"));
    let addr = manager.init();
    let token = manager.worker_token();
    let workers: Vec<TestDaemon> = [2, 3]
        .iter()
        .map(|i| {
            let w = TestDaemon::start(&format!("{prefix}-{i}"));
            w.join(&token, &addr, &format!("127.0.0.{i}"));
            w
        })
        .collect();
    wait_until("3 ready nodes", T, || ready_nodes(&manager) == 3);
    Swarm {
        manager,
        addr,
        workers,
    }
}

/// `(state, message)` of every node by hostname.
fn node_states(m: &TestDaemon) -> HashMap<String, (String, String)> {
    m.get_json("/nodes")
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|n| {
            let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
            (
                s(&n["Description"]["Hostname"]),
                (s(&n["Status"]["State"]), s(&n["Status"]["Message"])),
            )
        })
        .collect()
}

/// Right after `host` stopped, it is still Ready (the manager waits for its
/// heartbeats to be missed); then it goes Down for a heartbeat failure
/// (3 missed 5 s heartbeats), while every node of `healthy` stays Ready at
/// every look, the whole time.
fn wait_down(m: &TestDaemon, host: &str, healthy: &[&str]) {
    let first = node_states(m);
    assert_eq!(
        first.get(host).map(|s| s.0.as_str()),
        Some("ready"),
        "{host} is not Down before its heartbeats are missed: {first:?}"
    );
    wait_until(&format!("{host} is Down"), Duration::from_secs(25), || {
        let states = node_states(m);
        for h in healthy {
            assert_eq!(
                states.get(*h).map(|s| s.0.as_str()),
                Some("ready"),
                "healthy node {h} stays Ready while {host} goes down: {states:?}"
            );
        }
        states.get(host).is_some_and(|s| s.0 == "down")
    });
    assert_eq!(
        node_states(m).get(host).map(|s| s.1.as_str()),
        Some("heartbeat failure")
    );
    let ls = m.ok(&["node", "ls"]);
    assert!(
        ls.lines().any(|l| l.contains(host) && l.contains(" Down ")),
        "{ls}"
    );
}

fn ready_nodes(m: &TestDaemon) -> usize {
    m.ok(&["node", "ls"])
        .lines()
        .filter(|l| l.contains(" Ready "))
        .count()
}

fn tasks(m: &TestDaemon, service: &str) -> Vec<Value> {
    m.get_json("/tasks")
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|t| t["ServiceID"] == service)
        .collect()
}

fn running_per_node(m: &TestDaemon, service: &str) -> HashMap<String, usize> {
    let mut per = HashMap::new();
    for t in tasks(m, service) {
        if t["Status"]["State"] == "running" && t["DesiredState"] == "running" {
            *per.entry(t["NodeID"].as_str().unwrap_or_default().to_string())
                .or_default() += 1;
        }
    }
    per
}

/// The service most scenarios use: 6 replicas of `sleep 1000`.
fn web6(m: &TestDaemon) -> String {
    create(
        m,
        &[
            "--name",
            "web",
            "--replicas",
            "6",
            "busybox",
            "sleep",
            "1000",
        ],
    )
}

fn create(m: &TestDaemon, args: &[&str]) -> String {
    let mut full = vec!["service", "create", "-d", "-q"];
    full.extend_from_slice(args);
    m.ok(&full).trim().to_string()
}

#[test]
fn three_nodes_spread_replicas_and_run_global_services_everywhere() {
    let s = three_nodes("spread");
    let ls = s.manager.ok(&["node", "ls"]);
    assert!(ls.contains("spread-2") && ls.contains("spread-3"), "{ls}");
    assert_eq!(
        ls.lines().filter(|l| l.contains("Leader")).count(),
        1,
        "{ls}"
    );

    let web = web6(&s.manager);
    wait_until("6 processes", T, || service_pids(&web).len() == 6);
    wait_until("2 running per node", T, || {
        let per = running_per_node(&s.manager, &web);
        per.len() == 3 && per.values().all(|n| *n == 2)
    });
    for w in &s.workers {
        assert_eq!(
            pids_with_env("RSWARM_NODE_ID", &w.node_id()).len(),
            2,
            "2 task processes on {}",
            w.hostname
        );
    }

    let global = create(
        &s.manager,
        &[
            "--name",
            "everywhere",
            "--mode",
            "global",
            "busybox",
            "sleep",
            "1000",
        ],
    );
    wait_until("global on 3 nodes", T, || {
        running_per_node(&s.manager, &global).len() == 3
    });

    let late = TestDaemon::start("spread-4");
    late.join(&s.manager.worker_token(), &s.addr, "127.0.0.4");
    wait_until("global reaches the late node", T, || {
        running_per_node(&s.manager, &global).get(&late.node_id()) == Some(&1)
    });
    assert_eq!(service_pids(&global).len(), 4);
    let ps = s.manager.ok(&["node", "ps", "spread-4"]);
    assert!(ps.contains("everywhere.") && ps.contains("Running"), "{ps}");
}

#[test]
fn a_killed_worker_goes_down_its_tasks_move_and_it_comes_back_clean() {
    let mut s = three_nodes("fail");
    let web = web6(&s.manager);
    wait_until("2 running per node", T, || {
        let per = running_per_node(&s.manager, &web);
        per.len() == 3 && per.values().all(|n| *n == 2)
    });
    let victim_id = s.workers[0].node_id();
    let victim_pids = pids_with_env("RSWARM_NODE_ID", &victim_id);
    assert_eq!(victim_pids.len(), 2);

    s.workers[0].kill9();
    wait_down(&s.manager, "fail-2", &["fail-1", "fail-3"]);
    wait_until("6 tasks run on the two live nodes", T, || {
        let per = running_per_node(&s.manager, &web);
        per.len() == 2 && !per.contains_key(&victim_id) && per.values().sum::<usize>() == 6
    });

    s.workers[0].restart_from_stopped();
    wait_until("it is Ready again", T, || ready_nodes(&s.manager) == 3);
    wait_until("its old tasks are gone", T, || {
        pids_with_env("RSWARM_NODE_ID", &victim_id).is_empty()
    });
    wait_until("old tasks reported shut down", T, || {
        tasks(&s.manager, &web)
            .iter()
            .filter(|t| t["NodeID"] == victim_id.as_str())
            .all(|t| t["Status"]["State"] == "shutdown")
    });
    let mut per_slot: HashMap<u64, usize> = HashMap::new();
    for t in tasks(&s.manager, &web) {
        if t["Status"]["State"] == "running" {
            *per_slot
                .entry(t["Slot"].as_u64().unwrap_or_default())
                .or_default() += 1;
        }
    }
    assert_eq!(per_slot.len(), 6);
    assert!(
        per_slot.values().all(|n| *n == 1),
        "no slot has two running tasks: {per_slot:?}"
    );
    assert_eq!(service_pids(&web).len(), 6);
}

#[test]
fn manager_restart_keeps_worker_tasks_running() {
    let mut s = three_nodes("mrestart");
    let web = web6(&s.manager);
    wait_until("6 running", T, || service_pids(&web).len() == 6);
    let worker_pids: Vec<Vec<u32>> = s
        .workers
        .iter()
        .map(|w| pids_with_env("RSWARM_NODE_ID", &w.node_id()))
        .collect();
    let services_before = s.manager.get_json("/services");

    s.manager.restart();
    wait_until("workers reconnect", T, || ready_nodes(&s.manager) == 3);
    // Right after the restart `service ls` can still say 6/6 from the
    // manager's own tasks as they were before it (their processes went
    // with it): wait for six task processes as well.
    wait_until("6/6 again", T, || {
        s.manager.ok(&["service", "ls"]).contains("6/6") && service_pids(&web).len() == 6
    });
    for (w, before) in s.workers.iter().zip(&worker_pids) {
        assert_eq!(
            &pids_with_env("RSWARM_NODE_ID", &w.node_id()),
            before,
            "tasks on {} were not restarted",
            w.hostname
        );
    }
    assert_eq!(
        s.manager.get_json("/services")[0]["ID"],
        services_before[0]["ID"]
    );
    assert_eq!(service_pids(&web).len(), 6);
}

#[test]
fn removed_nodes_are_refused_and_rejoin_only_as_new_nodes() {
    let mut s = three_nodes("rm");
    let out = s.manager.rswarm(&["node", "rm", "rm-3"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not down and can't be removed"));

    let old_id = s.workers[1].node_id();
    s.workers[1].stop();
    wait_down(&s.manager, "rm-3", &["rm-1", "rm-2"]);
    s.manager.ok(&["node", "rm", "rm-3"]);
    assert!(!s.manager.ok(&["node", "ls"]).contains("rm-3"));

    s.workers[1].restart_from_stopped();
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        !s.manager.ok(&["node", "ls"]).contains("rm-3"),
        "a removed node's certificate is refused"
    );
    assert!(
        s.workers[1].log().contains("is not a member of this swarm"),
        "{}",
        s.workers[1].log()
    );

    s.workers[1].ok(&["swarm", "leave"]);
    s.workers[1].join(&s.manager.worker_token(), &s.addr, "127.0.0.3");
    wait_until("rejoined", T, || ready_nodes(&s.manager) == 3);
    let new_id = s.workers[1].node_id();
    assert_ne!(new_id, old_id, "it joins as a new node");
}

#[test]
fn bad_joins_are_refused_and_change_nothing() {
    let m = TestDaemon::start("guard-1");
    let addr = m.init();
    let w = TestDaemon::start("guard-2");
    let good = m.worker_token();
    let nodes = || m.get_json("/nodes").as_array().map(Vec::len).unwrap_or(0);

    let mut wrong_secret = good.clone();
    wrong_secret.replace_range(good.len() - 5.., "00000");
    let other = TestDaemon::start("guard-other");
    other.init();
    let other_ca = other.worker_token();
    let cases = [
        (
            wrong_secret,
            "A valid join token is necessary to join this cluster",
        ),
        (other_ca, "remote CA does not match fingerprint"),
        ("SWMTKN-1-nonsense".to_string(), "invalid join token"),
    ];
    for (token, needle) in &cases {
        let out = w.rswarm(&[
            "swarm",
            "join",
            "--token",
            token,
            "--advertise-addr",
            "127.0.0.2",
            &addr,
        ]);
        assert!(!out.status.success(), "{token} should be refused");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{token}: {err}");
    }
    m.ok(&["swarm", "join-token", "--rotate", "worker"]);
    let out = w.rswarm(&[
        "swarm",
        "join",
        "--token",
        &good,
        "--advertise-addr",
        "127.0.0.2",
        &addr,
    ]);
    assert!(!out.status.success(), "a rotated-away token is refused");
    assert_eq!(nodes(), 1, "no node was added");
    assert_eq!(w.get_json("/info")["Swarm"]["LocalNodeState"], "inactive");

    w.join(&m.worker_token(), &addr, "127.0.0.2");
    wait_until("joined with the new token", T, || nodes() == 2);
}

#[test]
fn labels_and_constraints_decide_placement() {
    let s = three_nodes("place");
    s.manager
        .ok(&["node", "update", "--label-add", "zone=east", "place-2"]);
    let inspect = s.manager.ok(&[
        "node",
        "inspect",
        "--format",
        "{{index .Spec.Labels \"zone\"}}",
        "place-2",
    ]);
    assert_eq!(inspect.trim(), "east");
    let east = create(
        &s.manager,
        &[
            "--name",
            "east",
            "--replicas",
            "3",
            "--constraint",
            "node.labels.zone==east",
            "busybox",
            "sleep",
            "1000",
        ],
    );
    let east_node = s.workers[0].node_id();
    wait_until("3 tasks on the east node only", T, || {
        let per = running_per_node(&s.manager, &east);
        per.len() == 1 && per.get(&east_node) == Some(&3)
    });

    let nowhere = create(
        &s.manager,
        &[
            "--name",
            "nowhere",
            "--constraint",
            "node.labels.zone==west",
            "busybox",
            "sleep",
            "1000",
        ],
    );
    wait_until("the task waits with the reason", T, || {
        s.manager
            .ok(&["service", "ps", "--no-trunc", "nowhere"])
            .contains("no suitable node")
    });
    assert!(service_pids(&nowhere).is_empty());
    assert!(
        s.manager
            .ok(&["service", "ls"])
            .lines()
            .any(|l| l.contains("nowhere") && l.contains("0/1"))
    );

    s.manager
        .ok(&["node", "update", "--label-add", "zone=west", "place-3"]);
    wait_until("placed once a node matches", T, || {
        service_pids(&nowhere).len() == 1
    });
}
