//! `docker node promote` and `docker node demote` (issue 8) against real
//! daemons on 127.0.0.1/2/3: two workers promoted to managers (one
//! Leader, two Reachable, their tasks untouched), the promoted managers
//! carry the swarm when the first one dies, the dead one is demoted and
//! removed, a live one is demoted back to a worker, and the refusals come
//! in Swarm's words.

mod common;

use std::time::Duration;

use common::{TestDaemon, free_port, service_pids, wait_until};

const T: Duration = Duration::from_secs(40);

/// `(success, stdout + stderr)` of a docker CLI command.
fn out(d: &TestDaemon, args: &[&str]) -> (bool, String) {
    let (success, out, err) = d.cli(args);
    (success, format!("{out}{err}"))
}

/// A docker CLI command that must succeed; its standard output.
fn ok(d: &TestDaemon, args: &[&str]) -> String {
    d.cli_ok(args)
}

/// A docker CLI command that must fail; its error.
fn refused(d: &TestDaemon, args: &[&str]) -> String {
    d.cli_err(args)
}

/// `hostname MANAGER-STATUS` lines of `node ls` on `d`, sorted.
fn statuses(d: &TestDaemon) -> Vec<String> {
    let (_, text) = out(
        d,
        &["node", "ls", "--format", "{{.Hostname}} {{.ManagerStatus}}"],
    );
    let mut v: Vec<String> = text.lines().map(|l| l.trim().to_string()).collect();
    v.sort();
    v
}

/// A manager on 127.0.0.1 and two workers on 127.0.0.2 and .3, each
/// listening on its own address (the swarm port a promoted node serves).
fn one_manager_two_workers() -> Vec<TestDaemon> {
    let port = free_port().to_string();
    let ds: Vec<TestDaemon> = (1..=3)
        .map(|i| TestDaemon::start(&format!("role{i}")))
        .collect();
    let addr = |i: usize| format!("127.0.0.{i}:{port}");
    ok(
        &ds[0],
        &[
            "swarm",
            "init",
            "--advertise-addr",
            &addr(1),
            "--listen-addr",
            &addr(1),
        ],
    );
    let token = ds[0].worker_token();
    for (i, d) in ds.iter().enumerate().skip(1) {
        let me = addr(i + 1);
        let joined = ok(
            d,
            &[
                "swarm",
                "join",
                "--token",
                &token,
                "--advertise-addr",
                &me,
                "--listen-addr",
                &me,
                &addr(1),
            ],
        );
        assert!(joined.contains("as a worker"), "{joined}");
    }
    ds
}

#[test]
fn workers_are_promoted_and_managers_demoted() {
    let mut ds = one_manager_two_workers();
    // A global service: one task process per node, watched throughout.
    let id = ok(
        &ds[0],
        &[
            "service", "create", "-d", "-q", "--mode", "global", "--name", "g", "busybox", "sleep",
            "1000",
        ],
    );
    let id = id.trim().to_string();
    wait_until("a task process on each node", T, || {
        service_pids(&id).len() == 3
    });
    let mut pids = service_pids(&id);
    pids.sort();

    // Bad input first: nothing changes.
    let unknown = refused(&ds[0], &["node", "promote", "nosuch"]);
    assert!(unknown.contains("nosuch"), "{unknown}");
    let last = refused(&ds[0], &["node", "demote", "role1"]);
    assert!(
        last.contains("attempting to demote the last manager of the swarm"),
        "{last}"
    );

    // Promote both workers, as Docker prints it.
    let promoted = ok(&ds[0], &["node", "promote", "role2", "role3"]);
    assert!(
        promoted.contains("Node role2 promoted to a manager in the swarm.")
            && promoted.contains("Node role3 promoted to a manager in the swarm."),
        "{promoted}"
    );
    let three = vec![
        "role1 Leader".to_string(),
        "role2 Reachable".to_string(),
        "role3 Reachable".to_string(),
    ];
    wait_until("one Leader and two Reachable", T, || {
        statuses(&ds[0]) == three
    });
    // The promoted nodes answer manager commands themselves.
    wait_until("role3 serves node ls", T, || statuses(&ds[2]) == three);
    let info = ok(&ds[1], &["info", "--format", "{{.Swarm.ControlAvailable}}"]);
    assert_eq!(info.trim(), "true");
    let mut now = service_pids(&id);
    now.sort();
    assert_eq!(now, pids, "promotion does not touch running tasks");

    // A manager may not be removed while it is in the Raft group.
    let rm = refused(&ds[1], &["node", "rm", "--force", "role3"]);
    assert!(
        rm.contains("is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal"),
        "{rm}"
    );

    // The first manager dies: the promoted ones elect a leader and take writes.
    ds[0].kill9();
    wait_until("a promoted manager leads", T, || {
        let s = statuses(&ds[1]);
        s.iter().any(|l| l == "role2 Leader" || l == "role3 Leader")
            && s.contains(&"role1 Unreachable".to_string())
    });
    ok(
        &ds[1],
        &["service", "update", "-d", "--env-add", "A=1", "g"],
    );

    // The dead manager is demoted (the other two keep a quorum), then removed.
    let demoted = ok(&ds[1], &["node", "demote", "role1"]);
    assert!(
        demoted.contains("Manager role1 demoted in the swarm."),
        "{demoted}"
    );
    wait_until("role1 left the managers", T, || {
        let s = statuses(&ds[1]);
        s.contains(&"role1".to_string()) && s.len() == 3
    });
    // Down, but not for long enough to be marked so: --force.
    ok(&ds[1], &["node", "rm", "--force", "role1"]);

    // With two managers left, demoting one keeps the other: role3 becomes
    // a worker again and refuses manager commands.
    ok(&ds[2], &["node", "demote", "role3"]);
    wait_until("role3 is a worker again", T, || {
        statuses(&ds[1]) == vec!["role2 Leader".to_string(), "role3".to_string()]
    });
    let deadline = std::time::Instant::now() + T;
    loop {
        let (success, text) = out(&ds[2], &["node", "ls"]);
        if !success && text.contains("Worker nodes can't be used to view or modify cluster state") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "role3 still answers as a manager: {text}\nlog:\n{}",
            ds[2].log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let last = refused(&ds[1], &["node", "demote", "role2"]);
    assert!(
        last.contains("attempting to demote the last manager of the swarm"),
        "{last}"
    );
    // role3 still runs the (updated) task the leader gives it.
    wait_until("the global service runs on both live nodes", T, || {
        let (_, text) = out(
            &ds[1],
            &[
                "service",
                "ps",
                "--filter",
                "desired-state=running",
                "--format",
                "{{.Node}} {{.CurrentState}}",
                "g",
            ],
        );
        let running: Vec<&str> = text.lines().filter(|l| l.contains("Running")).collect();
        running.iter().any(|l| l.starts_with("role2"))
            && running.iter().any(|l| l.starts_with("role3"))
    });
}
