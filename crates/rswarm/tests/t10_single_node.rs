//! A single-node swarm driven by the rswarm CLI, checked at the OS level.

mod common;

use std::time::Duration;

use common::{TestDaemon, service_pids, wait_until};

const T: Duration = Duration::from_secs(30);

fn create(d: &TestDaemon, args: &[&str]) -> String {
    let mut full = vec!["service", "create", "-d", "-q"];
    full.extend_from_slice(args);
    d.ok(&full).trim().to_string()
}

fn wait_pids(id: &str, n: usize) {
    wait_until(&format!("{n} task processes of {id}"), T, || {
        service_pids(id).len() == n
    });
}

#[test]
fn replicated_service_scales_with_real_processes() {
    let d = TestDaemon::start("node-a");
    d.init();
    let id = create(
        &d,
        &[
            "--name",
            "web",
            "--replicas",
            "5",
            "busybox",
            "sleep",
            "1000",
        ],
    );
    assert_eq!(id.len(), 25, "service create prints the ID: {id}");
    wait_pids(&id, 5);
    wait_until("service ls shows 5/5", T, || {
        d.ok(&["service", "ls"]).contains("5/5")
    });
    let ls = d.ok(&["service", "ls"]);
    assert!(ls.starts_with("ID"), "{ls}");
    assert!(
        ls.contains("web") && ls.contains("replicated") && ls.contains("busybox"),
        "{ls}"
    );

    d.ok(&["service", "scale", "-d", "web=8"]);
    wait_pids(&id, 8);
    d.ok(&["service", "scale", "-d", "web=2"]);
    wait_pids(&id, 2);
    wait_until("service ls shows 2/2", T, || {
        d.ok(&["service", "ls"]).contains("2/2")
    });

    let ps = d.ok(&["service", "ps", "web"]);
    assert!(ps.contains("web.1") && ps.contains("web.2"), "{ps}");

    d.ok(&["service", "rm", "web"]);
    wait_pids(&id, 0);
    assert!(!d.ok(&["service", "ls"]).contains("web"));
}

#[test]
fn global_service_follows_node_availability() {
    let d = TestDaemon::start("node-g");
    d.init();
    let id = create(
        &d,
        &[
            "--name", "agent", "--mode", "global", "busybox", "sleep", "1000",
        ],
    );
    wait_pids(&id, 1);
    d.ok(&["node", "update", "--availability", "drain", "node-g"]);
    wait_pids(&id, 0);
    let ls = d.ok(&["node", "ls"]);
    assert!(ls.contains("Drain"), "{ls}");
    d.ok(&["node", "update", "--availability", "active", "node-g"]);
    wait_pids(&id, 1);
    wait_until("service ls shows 1/1", T, || {
        d.ok(&["service", "ls"]).contains("1/1")
    });
}

#[test]
fn killed_task_is_replaced_unless_restart_condition_none() {
    let d = TestDaemon::start("node-k");
    d.init();
    let id = create(
        &d,
        &[
            "--name",
            "phoenix",
            "--restart-delay",
            "1s",
            "busybox",
            "sleep",
            "1000",
        ],
    );
    wait_pids(&id, 1);
    let first = service_pids(&id)[0];
    std::process::Command::new("kill")
        .args(["-9", &first.to_string()])
        .status()
        .expect("kill");
    wait_until("a new task process in the slot", T, || {
        let p = service_pids(&id);
        p.len() == 1 && p[0] != first
    });
    wait_until("ps shows the failed task in history", T, || {
        let ps = d.ok(&["service", "ps", "--no-trunc", "phoenix"]);
        ps.contains("\\_ phoenix.1")
            && ps.contains("task: non-zero exit (137)")
            && ps.contains("Running")
    });

    let none = create(
        &d,
        &[
            "--name",
            "once",
            "--restart-condition",
            "none",
            "busybox",
            "sleep",
            "1000",
        ],
    );
    wait_pids(&none, 1);
    let pid = service_pids(&none)[0];
    std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .expect("kill");
    wait_until("task reported failed", T, || {
        d.ok(&["service", "ps", "once"]).contains("Failed")
    });
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        service_pids(&none).is_empty(),
        "restart condition none keeps the task dead"
    );
    let ps = d.ok(&["service", "ps", "-q", "once"]);
    assert_eq!(ps.lines().count(), 1, "no replacement task: {ps}");
    assert!(d.ok(&["service", "ls"]).contains("0/1"));
}

#[test]
fn restart_keeps_identity_and_runs_tasks_without_duplicates() {
    let mut d = TestDaemon::start("node-r");
    d.init();
    let id = create(
        &d,
        &[
            "--name",
            "steady",
            "--replicas",
            "3",
            "--restart-delay",
            "1s",
            "busybox",
            "sleep",
            "1000",
        ],
    );
    wait_pids(&id, 3);
    let before = d.get_json("/swarm");
    let info = d.get_json("/info");
    let node_id = info["Swarm"]["NodeID"]
        .as_str()
        .expect("node id")
        .to_string();

    d.stop();
    assert!(
        service_pids(&id).is_empty(),
        "task processes stop with the daemon"
    );
    d.restart_from_stopped();

    let after = d.get_json("/swarm");
    assert_eq!(after["ID"], before["ID"], "cluster ID unchanged");
    assert_eq!(
        after["JoinTokens"], before["JoinTokens"],
        "join tokens unchanged"
    );
    assert_eq!(
        d.get_json("/info")["Swarm"]["NodeID"],
        node_id.as_str(),
        "node ID unchanged"
    );
    assert_eq!(
        d.get_json(&format!("/services/{id}"))["Spec"]["Name"],
        "steady"
    );

    wait_pids(&id, 3);
    wait_until("3/3 running", T, || {
        d.ok(&["service", "ls"]).contains("3/3")
    });
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(service_pids(&id).len(), 3, "no duplicate tasks");
    let tasks = d.get_json("/tasks");
    let running = tasks
        .as_array()
        .expect("tasks")
        .iter()
        .filter(|t| t["ServiceID"] == id.as_str() && t["Status"]["State"] == "running")
        .count();
    assert_eq!(running, 3);
}

#[test]
fn daemon_killed_with_sigkill_leaves_no_stray_task_on_restart() {
    let mut d = TestDaemon::start("node-9");
    d.init();
    let id = create(
        &d,
        &[
            "--name",
            "tough",
            "--replicas",
            "2",
            "--restart-delay",
            "1s",
            "busybox",
            "sleep",
            "1000",
        ],
    );
    wait_pids(&id, 2);
    let old = service_pids(&id);
    d.kill9();
    assert_eq!(
        service_pids(&id),
        old,
        "task processes outlive a SIGKILLed daemon"
    );
    d.restart_from_stopped();
    wait_until("old processes gone, 2 new ones", T, || {
        let now = service_pids(&id);
        now.len() == 2 && now.iter().all(|p| !old.contains(p))
    });
    wait_until("2/2", T, || d.ok(&["service", "ls"]).contains("2/2"));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(service_pids(&id).len(), 2, "no duplicates");
}
