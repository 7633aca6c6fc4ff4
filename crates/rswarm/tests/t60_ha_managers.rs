//! Highly available managers (issue 8), driven with the docker CLI against
//! real daemons on 127.0.0.1/2/3: three managers built with `swarm
//! join-token manager` and `swarm join`; the leader killed with SIGKILL
//! (a new leader takes writes, running tasks keep their processes, the
//! old leader comes back as a follower and catches up); two managers lost
//! (writes refused with Swarm's 503 message, tasks keep running, the
//! swarm resumes when one returns).

mod common;

use std::time::Duration;

use common::{DOCKER_28, TestDaemon, pids_with_env, service_pids, wait_until};

const T: Duration = Duration::from_secs(40);

fn out(d: &TestDaemon, args: &[&str]) -> (bool, String) {
    let o = d.docker(DOCKER_28, args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.success(), text)
}

/// Runs a command that must succeed; returns its stdout.
fn ok(d: &TestDaemon, args: &[&str]) -> String {
    let o = d.docker(DOCKER_28, args);
    let (success, text) = (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    );
    assert!(
        success,
        "docker {args:?} on {}: {text}\nlog:\n{}",
        d.hostname,
        d.log()
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Three managers (see [`managers`]).
fn three_managers(tag: &str) -> Vec<TestDaemon> {
    managers(tag, 3)
}

/// `n` managers: the first initialises on 127.0.0.1, the others join with
/// the manager token on 127.0.0.2, 127.0.0.3...
fn managers(tag: &str, n: usize) -> Vec<TestDaemon> {
    let port = common::free_port().to_string();
    let ms: Vec<TestDaemon> = (1..=n)
        .map(|i| TestDaemon::start(&format!("{tag}{i}")))
        .collect();
    let listen = |i: usize| format!("127.0.0.{i}:{port}");
    ok(
        &ms[0],
        &[
            "swarm",
            "init",
            "--advertise-addr",
            &listen(1),
            "--listen-addr",
            &listen(1),
        ],
    );
    let token = ok(&ms[0], &["swarm", "join-token", "-q", "manager"]);
    for (i, m) in ms.iter().enumerate().skip(1) {
        let me = listen(i + 1);
        let joined = ok(
            m,
            &[
                "swarm",
                "join",
                "--token",
                token.trim(),
                "--advertise-addr",
                &me,
                "--listen-addr",
                &me,
                &listen(1),
            ],
        );
        assert!(
            joined.contains("This node joined a swarm as a manager."),
            "{joined}"
        );
    }
    ms
}

/// Creates `web` (`replicas` × `sleep 1000`) through `d` and waits for
/// its task processes; returns its ID.
fn web_service(d: &TestDaemon, replicas: usize) -> String {
    let n = replicas.to_string();
    let id = ok(
        d,
        &[
            "service",
            "create",
            "-d",
            "-q",
            "--name",
            "web",
            "--replicas",
            &n,
            "busybox",
            "sleep",
            "1000",
        ],
    );
    let id = id.trim().to_string();
    wait_until("the web task processes", T, || {
        service_pids(&id).len() == replicas
    });
    id
}

/// `hostname -> MANAGER STATUS` as `node ls` on `d` shows it.
fn manager_statuses(d: &TestDaemon) -> Vec<(String, String)> {
    let (_, text) = out(
        d,
        &["node", "ls", "--format", "{{.Hostname}} {{.ManagerStatus}}"],
    );
    let mut v: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(h, s)| (h.to_string(), s.to_string()))
        .collect();
    v.sort();
    v
}

fn leader_index(ms: &[TestDaemon], asked: &TestDaemon) -> usize {
    let statuses = manager_statuses(asked);
    let leader = statuses
        .iter()
        .find(|(_, s)| s == "Leader")
        .map(|(h, _)| h.clone())
        .expect("a leader");
    ms.iter()
        .position(|m| m.hostname == leader)
        .expect("leader is ours")
}

fn running(d: &TestDaemon, service: &str) -> usize {
    out(
        d,
        &[
            "service",
            "ps",
            "-q",
            "--filter",
            "desired-state=running",
            service,
        ],
    )
    .1
    .lines()
    .count()
}

#[test]
fn three_managers_survive_the_leader_dying() {
    let mut ms = three_managers("ha");
    wait_until("one Leader and two Reachable", T, || {
        let s: Vec<String> = manager_statuses(&ms[1])
            .into_iter()
            .map(|(_, s)| s)
            .collect();
        s.iter().filter(|s| *s == "Leader").count() == 1
            && s.iter().filter(|s| *s == "Reachable").count() == 2
    });
    let (left, refusal) = out(&ms[1], &["swarm", "leave"]);
    assert!(
        !left && refusal.contains("participating as a manager. The only way to restore a swarm"),
        "{refusal}"
    );
    // Written on a follower: forwarded to the leader.
    let id = web_service(&ms[1], 3);
    let leader = leader_index(&ms, &ms[2]);
    let leader_node = ms[leader].node_id();
    let survivors: Vec<usize> = (0..3).filter(|i| *i != leader).collect();
    let pids_on_survivors: Vec<u32> = service_pids(&id)
        .into_iter()
        .filter(|p| !pids_with_env("RSWARM_NODE_ID", &leader_node).contains(p))
        .collect();

    ms[leader].kill9();
    let a = &ms[survivors[0]];
    wait_until("a survivor takes a write", T, || {
        out(
            a,
            &[
                "service", "create", "-d", "--name", "after", "busybox", "sleep", "1000",
            ],
        )
        .0
    });
    // The new leader records what it sees within a status period.
    let dead_host = ms[leader].hostname.clone();
    wait_until("the old leader Unreachable, one Leader", T, || {
        let statuses = manager_statuses(a);
        let dead = statuses.iter().find(|(h, _)| *h == dead_host);
        dead.is_some_and(|(_, s)| s == "Unreachable")
            && statuses.iter().filter(|(_, s)| s == "Leader").count() == 1
    });
    let (left, refusal) = out(a, &["swarm", "leave"]);
    assert!(
        !left && refusal.contains("Removing this node leaves 1 managers out of 3. Without a Raft quorum your swarm will be inaccessible."),
        "{refusal}"
    );
    let now = service_pids(&id);
    for p in &pids_on_survivors {
        assert!(
            now.contains(p),
            "task process {p} on a survivor kept running: {now:?}"
        );
    }

    // The old leader comes back as a follower and catches up.
    ms[leader].restart_from_stopped();
    let back = &ms[leader];
    wait_until(
        "the old leader is a follower with the new service",
        T,
        || {
            let s = manager_statuses(back);
            let mine = s
                .iter()
                .find(|(h, _)| *h == back.hostname)
                .map(|(_, s)| s.clone());
            mine.as_deref() == Some("Reachable")
                && out(back, &["service", "ls", "--format", "{{.Name}}"])
                    .1
                    .contains("after")
        },
    );
    // A replacement may be on its way (the old leader's node may have gone
    // down meanwhile): wait for the count rather than read it once.
    wait_until(
        "3 web tasks wanted running, seen from the old leader",
        T,
        || running(back, "web") == 3,
    );
}

#[test]
fn losing_two_of_three_managers_refuses_writes_until_one_returns() {
    let mut ms = three_managers("q");
    let id = web_service(&ms[0], 2);
    let leader = leader_index(&ms, &ms[0]);
    let others: Vec<usize> = (0..3).filter(|i| *i != leader).collect();
    for i in &others {
        ms[*i].kill9();
    }
    let alone = &ms[leader];
    let mut last = String::new();
    wait_until("writes refused without a quorum", T, || {
        let (success, text) = out(
            alone,
            &[
                "service", "create", "-d", "--name", "lost", "busybox", "true",
            ],
        );
        last = text;
        !success && last.contains("The swarm does not have a leader")
    });
    assert!(
        last.contains("Make sure more than half of the managers are online."),
        "{last}"
    );
    assert_eq!(service_pids(&id).len(), 2, "tasks keep running");
    let names = out(alone, &["service", "ls", "--format", "{{.Name}}"]).1;
    assert!(!names.contains("lost"), "nothing was written: {names}");

    ms[others[0]].restart_from_stopped();
    let alone = &ms[leader];
    wait_until("writes work again", T, || {
        out(
            alone,
            &[
                "service", "create", "-d", "--name", "back", "busybox", "sleep", "1000",
            ],
        )
        .0
    });
}

#[test]
fn five_managers_survive_losing_two() {
    let mut ms = managers("five", 5);
    let id = web_service(&ms[3], 3);
    // The leader and one follower go.
    let leader = leader_index(&ms, &ms[4]);
    let other = (0..5).find(|i| *i != leader).expect("a follower");
    ms[leader].kill9();
    ms[other].kill9();
    let survivor = (0..5)
        .find(|i| *i != leader && *i != other)
        .expect("a survivor");
    let a = &ms[survivor];
    wait_until("three of five managers take a write", T, || {
        out(
            a,
            &[
                "service", "create", "-d", "--name", "after", "busybox", "sleep", "1000",
            ],
        )
        .0
    });
    // The new leader sees the two lost managers as unreachable.
    let mut last = Vec::new();
    wait_until("1 Leader, 2 Reachable, 2 Unreachable", T, || {
        last = manager_statuses(a);
        let count = |want: &str| last.iter().filter(|(_, s)| s == want).count();
        (count("Leader"), count("Reachable"), count("Unreachable")) == (1, 2, 2)
    });
    assert_eq!(service_pids(&id).len(), 3, "tasks keep running: {last:?}");
}

#[test]
fn the_playground_starts_three_managers() {
    let o = std::process::Command::new(common::rswarm_bin())
        .args([
            "playground",
            "--managers",
            "3",
            "--workers",
            "1",
            "--no-wait",
        ])
        .output()
        .expect("playground");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let statuses: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("manager") && l.contains("Ready"))
        .filter_map(|l| ["Leader", "Reachable"].into_iter().find(|s| l.contains(s)))
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == "Leader").count(),
        1,
        "{text}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == "Reachable").count(),
        2,
        "{text}"
    );
    assert!(text.contains("kill -9 "), "the failover hint: {text}");
}
