//! `service logs` across nodes: real daemons on 127.0.0.1/2/3, the
//! manager asks the workers' agents for their tasks' output (log broker
//! over mutual TLS) and shows it with the rswarm CLI, the docker CLI and
//! raw HTTP, with and without follow.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{DOCKER_28, TestDaemon, rswarm_bin, wait_until};
use serde_json::Value;

const T: Duration = Duration::from_secs(40);

/// A manager and two workers, all ready.
fn three_nodes(prefix: &str) -> (TestDaemon, Vec<TestDaemon>) {
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
    wait_until("3 ready nodes", T, || {
        manager
            .ok(&["node", "ls"])
            .lines()
            .filter(|l| l.contains(" Ready "))
            .count()
            == 3
    });
    (manager, workers)
}

/// Running tasks of a service as (slot, task ID, node ID).
fn running(m: &TestDaemon, service: &str) -> Vec<(u64, String, String)> {
    let mut v: Vec<(u64, String, String)> = m
        .get_json("/tasks")
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|t| t["ServiceID"] == service && t["Status"]["State"] == "running")
        .map(|t: Value| {
            (
                t["Slot"].as_u64().unwrap_or_default(),
                t["ID"].as_str().unwrap_or_default().to_string(),
                t["NodeID"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Runs the rswarm CLI on `d`; returns (stdout, stderr) and asserts success.
fn both(d: &TestDaemon, args: &[&str]) -> (String, String) {
    let o = d.rswarm(args);
    assert!(
        o.status.success(),
        "rswarm {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn service_logs_on_the_manager_show_tasks_of_every_node() {
    let (m, workers) = three_nodes("rlogs");
    let hostnames: HashMap<String, String> = std::iter::once(&m)
        .chain(workers.iter())
        .map(|d| (d.node_id(), d.hostname.clone()))
        .collect();
    let web = m
        .ok(&[
            "service",
            "create",
            "-d",
            "-q",
            "--name",
            "web",
            "--replicas",
            "3",
            "busybox",
            "sh",
            "-c",
            // stdout and stderr are read apart: the pause keeps `bye` last.
            "echo hello-$RSWARM_TASK_SLOT; echo oops-$RSWARM_TASK_SLOT >&2; sleep 1; echo bye-$RSWARM_TASK_SLOT; sleep 1000",
        ])
        .trim()
        .to_string();
    wait_until("3 tasks running, one per node", T, || {
        let tasks = running(&m, &web);
        let nodes: std::collections::HashSet<&String> = tasks.iter().map(|t| &t.2).collect();
        tasks.len() == 3 && nodes.len() == 3
    });
    let tasks = running(&m, &web);

    // Every task's lines, from every node, prefixed with the right node.
    wait_until("all output arrived", T, || {
        let (out, err) = both(&m, &["service", "logs", "web"]);
        (1..=3).all(|i| {
            out.contains(&format!("hello-{i}"))
                && out.contains(&format!("bye-{i}"))
                && err.contains(&format!("oops-{i}"))
        })
    });
    let (out, err) = both(&m, &["service", "logs", "web"]);
    assert!(!out.contains("oops-"), "stderr lines stay on stderr: {out}");
    assert!(!err.contains("hello-") && !err.contains("bye-"), "{err}");
    for (slot, task_id, node_id) in &tasks {
        let host = &hostnames[node_id];
        let prefix = format!("web.{slot}.");
        for word in ["hello", "bye"] {
            let line = out
                .lines()
                .find(|l| l.ends_with(&format!("| {word}-{slot}")))
                .unwrap_or_else(|| panic!("no {word}-{slot} in {out}"));
            assert!(line.starts_with(&prefix), "{line}");
            assert!(line.contains(&format!("@{host} ")), "{host}: {line}");
            assert!(line.contains(&task_id[..12]), "{task_id}: {line}");
        }
        assert!(
            err.lines().any(|l| l.starts_with(&prefix)
                && l.contains(&format!("@{host} "))
                && l.ends_with(&format!("| oops-{slot}"))),
            "{err}"
        );
    }

    // --tail 1: the last line of each task, wherever it runs.
    let (out, err) = both(&m, &["service", "logs", "--tail", "1", "web"]);
    let mut last: Vec<&str> = out.lines().filter_map(|l| l.rsplit("| ").next()).collect();
    last.sort();
    assert_eq!(last, ["bye-1", "bye-2", "bye-3"], "{out}");
    assert!(err.is_empty(), "{err}");

    // The docker CLI.
    let o = m.docker(DOCKER_28, &["service", "logs", "--raw", "web"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    for i in 1..=3 {
        assert!(
            stdout.lines().any(|l| l == format!("hello-{i}")),
            "{stdout}"
        );
    }
    assert!(String::from_utf8_lossy(&o.stderr).contains("oops-"));

    // /tasks/{id}/logs of a worker's task.
    let (slot, task_id, _) = tasks
        .iter()
        .find(|t| t.2 != m.node_id())
        .expect("a task on a worker");
    let r = m.http(
        "GET",
        &format!("/tasks/{task_id}/logs?stdout=1&stderr=0"),
        None,
    );
    assert_eq!(r.status, 200);
    assert!(r.body.contains(&format!("hello-{slot}")), "{}", r.body);
    assert!(!r.body.contains("oops-"), "{}", r.body);

    follow_a_workers_task(&m, &workers[0]);

    // A worker that never answers (stopped), then one that is gone
    // (killed): the others' lines still come, and the request ends.
    let mut workers = workers;
    let silent = &workers[1];
    let pid = silent.child.as_ref().expect("running").id().to_string();
    let signal = |sig: &str| {
        let ok = Command::new("kill").args([sig, &pid]).status();
        assert!(ok.is_ok_and(|s| s.success()), "kill {sig} {pid}");
    };
    let others: Vec<u64> = tasks
        .iter()
        .filter(|t| t.2 != silent.node_id())
        .map(|t| t.0)
        .collect();
    let silent_id = silent.node_id();
    signal("-STOP");
    let out = logs_within(&m, &["service", "logs", "web"], T);
    signal("-CONT");
    for slot in &others {
        assert!(out.contains(&format!("hello-{slot}")), "{out}");
    }
    let worker = &mut workers[1];
    worker.kill9();
    let out = logs_within(&m, &["service", "logs", "web"], T);
    for slot in &others {
        assert!(out.contains(&format!("hello-{slot}")), "{out}");
    }
    let (silent_slot, ..) = tasks.iter().find(|t| t.2 == silent_id).expect("task");
    assert!(!out.contains(&format!("hello-{silent_slot}")), "{out}");
    // Back, so its task processes are cleaned up with it.
    worker.restart_from_stopped();
}

/// Runs `rswarm args` on `d`, failing if it has not ended within `limit`;
/// returns its stdout.
fn logs_within(d: &TestDaemon, args: &[&str], limit: Duration) -> String {
    let mut child = Command::new(rswarm_bin())
        .args(["-H", &d.host()])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn rswarm");
    let deadline = Instant::now() + limit;
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("rswarm {args:?} did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().expect("output");
    assert!(out.status.success(), "rswarm {args:?}: {}", out.status);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `service logs -f` on a task of `worker` streams lines written after it
/// started.
fn follow_a_workers_task(m: &TestDaemon, worker: &TestDaemon) {
    let ticker = m
        .ok(&[
            "service",
            "create",
            "-d",
            "-q",
            "--name",
            "ticker",
            "--constraint",
            &format!("node.hostname=={}", worker.hostname),
            "busybox",
            "sh",
            "-c",
            "i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.5; done",
        ])
        .trim()
        .to_string();
    wait_until("the ticker runs on the worker", T, || {
        running(m, &ticker)
            .first()
            .is_some_and(|t| t.2 == worker.node_id())
    });
    let task_id = running(m, &ticker)[0].1.clone();
    let tick = |l: &str| {
        l.rsplit("tick-")
            .next()
            .and_then(|n| n.trim().parse::<u64>().ok())
    };
    let mut before = 0;
    wait_until("the ticker has logged", T, || {
        let (out, _) = both(m, &["service", "logs", &task_id]);
        before = out.lines().filter_map(tick).max().unwrap_or(0);
        before > 0
    });

    let mut child = Command::new(rswarm_bin())
        .args(["-H", &m.host(), "service", "logs", "-f", &task_id])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn service logs -f");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + T;
    let mut seen = Vec::new();
    let newest = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                assert!(line.starts_with("ticker.1."), "{line}");
                assert!(line.contains(&format!("@{} ", worker.hostname)), "{line}");
                seen.push(line.clone());
                if let Some(n) = tick(&line)
                    && n > before + 2
                {
                    break n;
                }
            }
            Err(e) => panic!("no new tick after tick-{before} ({e}); got {seen:?}"),
        }
    };
    assert!(newest > before);
    let _ = child.kill();
    let _ = child.wait();
}
