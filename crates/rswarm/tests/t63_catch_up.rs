//! A new manager catches up by snapshot on a 20,000-task state (issue 8),
//! driven with the docker CLI against real daemons on 127.0.0.1-4: three
//! managers hold a service of 20,000 replicas that no node can take
//! (20,000 pending tasks); `docker swarm update --snapshot-interval` (and
//! `--dispatcher-heartbeat`) take effect on the running managers, which
//! snapshot and compact their logs, as `docker info` shows; a fourth manager joins with the manager token, installs the
//! snapshot (its log says so: the entries it lacks are gone from every
//! log) and then shows the same `service ls` and `service ps` as the
//! others.

mod common;

use std::time::Duration;

use common::{TestDaemon, wait_until};

const TASKS: usize = 20_000;
const T: Duration = Duration::from_secs(60);

/// Tasks of `service` on `d` that are pending with the scheduler's
/// verdict (read through the API: one request, not 20,000 CLI lines).
fn pending_with_verdict(d: &TestDaemon, service: &str) -> usize {
    let path = format!("/tasks?filters=%7B%22service%22%3A%5B%22{service}%22%5D%7D");
    let tasks = d.get_json(&path);
    tasks
        .as_array()
        .map(|ts| {
            ts.iter()
                .filter(|t| {
                    t["Status"]["State"] == "pending"
                        && t["Status"]["Err"]
                            .as_str()
                            .is_some_and(|e| e.contains("no suitable node"))
                })
                .count()
        })
        .unwrap_or(0)
}

/// `service ps` of `service` as `d` shows it, sorted (no times: they are
/// relative to now).
fn service_ps(d: &TestDaemon, service: &str) -> Vec<String> {
    let out = d.docker_ok(&[
        "service",
        "ps",
        "--no-trunc",
        "--format",
        "{{.ID}} {{.Name}} {{.Image}} {{.Node}} {{.DesiredState}} {{.Error}}",
        service,
    ]);
    let mut lines: Vec<String> = out.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

#[test]
fn a_fourth_manager_catches_up_on_20000_tasks_by_snapshot() {
    let started = std::time::Instant::now();
    let step = |what: &str| eprintln!("t63: {:>6.1?} {what}", started.elapsed());
    let port = common::free_port().to_string();
    let addr = |i: usize| format!("127.0.0.{i}:{port}");
    let ms: Vec<TestDaemon> = (1..=3)
        .map(|i| TestDaemon::start(&format!("catchup{i}")))
        .collect();
    ms[0].docker_ok(&[
        "swarm",
        "init",
        "--advertise-addr",
        &addr(1),
        "--listen-addr",
        &addr(1),
    ]);
    let token = ms[0].docker_ok(&["swarm", "join-token", "-q", "manager"]);
    let token = token.trim();
    for (i, m) in ms.iter().enumerate().skip(1) {
        m.join_manager(token, &addr(i + 1), &addr(1));
    }

    // 20,000 tasks that stay pending: no node has the label.
    ms[0].docker_ok(&[
        "service",
        "create",
        "-d",
        "-q",
        "--name",
        "big",
        "--replicas",
        &TASKS.to_string(),
        "--constraint",
        "node.labels.none==yes",
        "busybox",
        "sleep",
        "1000",
    ]);
    step("service created");
    for m in &ms {
        let deadline = std::time::Instant::now() + T;
        loop {
            let n = pending_with_verdict(m, "big");
            if n == TASKS {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{} shows {n} of {TASKS} tasks pending; log:\n{}",
                m.hostname,
                m.log()
            );
            std::thread::sleep(Duration::from_secs(2));
        }
        step(&format!("{TASKS} pending tasks on {}", m.hostname));
    }
    step("20,000 pending tasks everywhere");
    // Swarm's defaults: nothing compacted yet (far fewer than 10,000
    // entries), ticks shown as Swarm shows them.
    let raft = ms[1].docker_ok(&["info", "--format", "{{json .Swarm.Cluster.Spec.Raft}}"]);
    let raft: serde_json::Value = serde_json::from_str(raft.trim()).expect("raft json");
    assert_eq!(raft["SnapshotInterval"], 10000, "{raft}");
    assert_eq!(raft["LogEntriesForSlowFollowers"], 500, "{raft}");
    assert_eq!(raft["ElectionTick"], 10, "{raft}");
    assert_eq!(raft["HeartbeatTick"], 1, "{raft}");
    for m in &ms {
        assert!(!m.log().contains("log compacted"), "{}", m.log());
    }

    // Keep few entries behind a snapshot (no docker CLI flag: the API,
    // as Swarm's), then lower the interval with the docker CLI: every
    // running manager snapshots and compacts, no restart.
    let swarm = ms[0].get_json("/swarm");
    let mut spec = swarm["Spec"].clone();
    spec["Raft"]["LogEntriesForSlowFollowers"] = serde_json::json!(10);
    let version = swarm["Version"]["Index"].as_u64().expect("version");
    let r = ms[0].http(
        "POST",
        &format!("/swarm/update?version={version}"),
        Some(&spec.to_string()),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    ms[0].docker_ok(&[
        "swarm",
        "update",
        "--snapshot-interval",
        "100",
        "--dispatcher-heartbeat",
        "7s",
    ]);
    let info = ms[0].docker_ok(&["info"]);
    assert!(info.contains("Snapshot Interval: 100\n"), "{info}");
    assert!(info.contains("Heartbeat Period: 7 seconds"), "{info}");
    // A follower shows it once it applied the update.
    wait_until("the update on a follower", T, || {
        ms[2]
            .docker_ok(&["info"])
            .contains("Snapshot Interval: 100\n")
    });
    let raft = ms[2].docker_ok(&["info", "--format", "{{json .Swarm.Cluster.Spec.Raft}}"]);
    let raft: serde_json::Value = serde_json::from_str(raft.trim()).expect("raft json");
    assert_eq!(raft["SnapshotInterval"], 100, "{raft}");
    assert_eq!(raft["LogEntriesForSlowFollowers"], 10, "{raft}");
    assert_eq!(raft["ElectionTick"], 10, "{raft}");
    for m in &ms {
        wait_until("a snapshot and a compacted log on every manager", T, || {
            m.log().contains("log compacted up to index")
        });
    }

    step("every manager compacted");
    // The fourth manager: the start of every log is gone, so it can only
    // catch up from the snapshot.
    let m4 = TestDaemon::start("catchup4");
    m4.join_manager(token, &addr(4), &addr(1));
    wait_until("the new manager installed a snapshot", T, || {
        m4.log().contains("installed (")
    });
    step("snapshot installed");
    let log = m4.log();
    let installed = log
        .lines()
        .find(|l| l.contains("raft snapshot") && l.contains("installed ("))
        .expect("installed line");
    let objects: usize = installed
        .rsplit_once("installed (")
        .and_then(|(_, r)| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("object count");
    assert!(objects > TASKS, "{installed}");

    // Same state on the new manager (its own reads) as on the first.
    let ls = |d: &TestDaemon| {
        d.docker_ok(&[
            "service",
            "ls",
            "--format",
            "{{.ID}} {{.Name}} {{.Mode}} {{.Replicas}} {{.Image}}",
        ])
    };
    wait_until("service ls agrees on the new manager", T, || {
        ls(&m4) == ls(&ms[0])
    });
    step("service ls agrees");
    // Both read again each round: the leader rewrites the verdicts of all
    // 20,000 tasks (200 per entry) twice: when the new node joins, and
    // when it becomes ready; on a debug build under load that can take
    // longer than a minute.
    let deadline = std::time::Instant::now() + 3 * T;
    loop {
        let expected = service_ps(&ms[0], "big");
        assert_eq!(expected.len(), TASKS);
        let got = service_ps(&m4, "big");
        if got == expected {
            break;
        }
        let differ: Vec<_> = got
            .iter()
            .zip(&expected)
            .filter(|(a, b)| a != b)
            .take(3)
            .collect();
        assert!(
            std::time::Instant::now() < deadline,
            "service ps differs on the new manager ({} lines, {} expected): {differ:?}",
            got.len(),
            expected.len()
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    step("service ps agrees");
    // A manager that fell behind while the verdicts were rewritten (a
    // debug build under load) shows Unreachable until it catches up.
    let mut managers = String::new();
    let reachable = |m: &str| {
        m.lines()
            .filter(|l| l.ends_with("Reachable") || l.ends_with("Leader"))
            .count()
    };
    let deadline = std::time::Instant::now() + 3 * T;
    while std::time::Instant::now() < deadline {
        managers = m4.docker_ok(&["node", "ls", "--format", "{{.Hostname}} {{.ManagerStatus}}"]);
        if reachable(&managers) == 4 {
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    assert_eq!(reachable(&managers), 4, "{managers}");
}
