//! Disaster recovery (issue 8) against real daemons on 127.0.0.1/2/3,
//! driven with the docker CLI and the rswarm CLI: `docker swarm init
//! --force-new-cluster` on the last of three managers (writes refused
//! with 503 before, accepted after, services kept, the dead managers
//! removable); `rswarm swarm backup` from a running three-manager swarm
//! under writes, every data root destroyed, `rswarm swarm restore` into a
//! new one (cluster ID, join tokens, services and nodes back, a new
//! worker joins with the old token); malformed backup files refused
//! with a clear error, nothing created.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::{DOCKER_28, TestDaemon, pids_with_env, service_pids, wait_until};

const T: Duration = Duration::from_secs(40);

/// `(success, stdout + stderr)` of a docker CLI command.
fn out(d: &TestDaemon, args: &[&str]) -> (bool, String) {
    let o = d.docker(DOCKER_28, args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.success(), text)
}

/// A docker CLI command that must succeed; its standard output.
fn ok(d: &TestDaemon, args: &[&str]) -> String {
    let o = d.docker(DOCKER_28, args);
    assert!(
        o.status.success(),
        "docker {args:?} on {}: {}\nlog:\n{}",
        d.hostname,
        String::from_utf8_lossy(&o.stderr),
        d.log()
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `n` managers on 127.0.0.1.. sharing one free port; the first
/// initialises (a 2 s dispatcher heartbeat, so lost nodes turn Down
/// quickly), the others join with the manager token.
fn managers(tag: &str, n: usize) -> (Vec<TestDaemon>, Vec<String>) {
    let port = common::free_port().to_string();
    let ms: Vec<TestDaemon> = (1..=n)
        .map(|i| TestDaemon::start(&format!("{tag}{i}")))
        .collect();
    let addrs: Vec<String> = (1..=n).map(|i| format!("127.0.0.{i}:{port}")).collect();
    ok(
        &ms[0],
        &[
            "swarm",
            "init",
            "--dispatcher-heartbeat",
            "2s",
            "--advertise-addr",
            &addrs[0],
            "--listen-addr",
            &addrs[0],
        ],
    );
    let token = ok(&ms[0], &["swarm", "join-token", "-q", "manager"]);
    for (m, addr) in ms.iter().zip(&addrs).skip(1) {
        let joined = ok(
            m,
            &[
                "swarm",
                "join",
                "--token",
                token.trim(),
                "--advertise-addr",
                addr,
                "--listen-addr",
                addr,
                &addrs[0],
            ],
        );
        assert!(joined.contains("as a manager"), "{joined}");
    }
    (ms, addrs)
}

/// `hostname -> (STATUS, MANAGER STATUS)` as `node ls` on `d` shows it.
fn nodes(d: &TestDaemon) -> Vec<(String, String, String)> {
    let (_, text) = out(
        d,
        &[
            "node",
            "ls",
            "--format",
            "{{.Hostname}} {{.Status}} {{.ManagerStatus}}",
        ],
    );
    let mut v: Vec<(String, String, String)> = text
        .lines()
        .map(|l| {
            let mut f = l.split(' ');
            let mut next = || f.next().unwrap_or_default().to_string();
            (next(), next(), next())
        })
        .collect();
    v.sort();
    v
}

fn leader(ms: &[TestDaemon]) -> usize {
    let mut found = None;
    wait_until("one Leader", T, || {
        let all = nodes(&ms[0]);
        found = all
            .iter()
            .find(|(_, _, m)| m == "Leader")
            .and_then(|(h, _, _)| ms.iter().position(|m| m.hostname == *h));
        found.is_some()
    });
    found.unwrap_or_default()
}

fn service_names(d: &TestDaemon) -> Vec<String> {
    let mut v: Vec<String> = ok(d, &["service", "ls", "--format", "{{.Name}}"])
        .lines()
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

/// Task processes of `service` run by node `node_id`.
fn pids_on(service: &str, node_id: &str) -> usize {
    let mine = pids_with_env("RSWARM_NODE_ID", node_id);
    service_pids(service)
        .iter()
        .filter(|p| mine.contains(p))
        .count()
}

#[test]
fn force_new_cluster_revives_the_last_manager() {
    let (mut ms, addrs) = managers("fnc", 3);
    let web = ok(
        &ms[0],
        &[
            "service",
            "create",
            "-d",
            "-q",
            "--name",
            "web",
            "--replicas",
            "3",
            "busybox",
            "sleep",
            "1000",
        ],
    );
    let web = web.trim().to_string();
    wait_until("web runs 3 tasks", T, || service_pids(&web).len() == 3);
    // The survivor is a follower: the leader dies with the other one.
    let l = leader(&ms);
    let s = (0..3).find(|i| *i != l).unwrap_or_default();
    let dead: Vec<usize> = (0..3).filter(|i| *i != s).collect();
    for i in &dead {
        ms[*i].kill9();
    }
    let survivor = &ms[s];
    let id = survivor.node_id();
    let mut last = String::new();
    wait_until("writes refused without a quorum", T, || {
        let r = survivor.http(
            "POST",
            "/services/create",
            Some(r#"{"Name":"lost","TaskTemplate":{"ContainerSpec":{"Image":"busybox"}}}"#),
        );
        last = format!("{} {}", r.status, r.message());
        assert!(r.status == 503, "refused with 503: {last}");
        last.contains("The swarm does not have a leader")
    });

    let init = ok(
        survivor,
        &[
            "swarm",
            "init",
            "--force-new-cluster",
            "--advertise-addr",
            &addrs[s],
            "--listen-addr",
            &addrs[s],
        ],
    );
    assert!(
        init.contains(&format!(
            "Swarm initialized: current node ({id}) is now a manager."
        )),
        "{init}"
    );
    ok(
        survivor,
        &[
            "service",
            "create",
            "-d",
            "--name",
            "after",
            "--replicas",
            "0",
            "busybox",
            "true",
        ],
    );
    assert_eq!(service_names(survivor), ["after", "web"], "services kept");
    // The lost managers' tasks come back on the survivor.
    wait_until("web runs 3 tasks on the survivor", T, || {
        pids_on(&web, &id) == 3
    });
    let dead_hosts: Vec<String> = dead.iter().map(|i| ms[*i].hostname.clone()).collect();
    let mut seen = Vec::new();
    wait_until("the survivor Leader, the lost managers Down", T, || {
        seen = nodes(survivor);
        seen.iter().all(|(h, st, m)| {
            if *h == survivor.hostname {
                st == "Ready" && m == "Leader"
            } else {
                st == "Down" && m != "Leader" && m != "Reachable"
            }
        })
    });
    // The lost managers are no longer members: they can be removed.
    for h in &dead_hosts {
        let (removed, text) = out(survivor, &["node", "rm", h]);
        assert!(removed, "node rm {h}: {text} ({seen:?})");
    }
    let left: Vec<String> = nodes(survivor).into_iter().map(|(h, _, _)| h).collect();
    assert_eq!(left, std::slice::from_ref(&survivor.hostname));
    // It stays a one-manager swarm across a restart.
    ms[s].restart();
    let survivor = &ms[s];
    wait_until("the survivor leads again after a restart", T, || {
        nodes(survivor)
            .iter()
            .any(|(h, _, m)| *h == survivor.hostname && m == "Leader")
    });
    ok(
        survivor,
        &[
            "service",
            "create",
            "-d",
            "--name",
            "again",
            "--replicas",
            "0",
            "busybox",
            "true",
        ],
    );
}

#[test]
fn backup_under_writes_restores_into_a_new_data_root() {
    let (mut ms, addrs) = managers("bk", 3);
    ok(
        &ms[0],
        &[
            "service",
            "create",
            "-d",
            "--name",
            "web",
            "--replicas",
            "2",
            "busybox",
            "sleep",
            "1000",
        ],
    );
    let l = leader(&ms);
    let src = (0..3).find(|i| *i != l).unwrap_or_default();
    let worker_token = ok(&ms[0], &["swarm", "join-token", "-q", "worker"]);
    let manager_token = ok(&ms[0], &["swarm", "join-token", "-q", "manager"]);
    let cluster_id = ok(&ms[0], &["info", "--format", "{{.Swarm.Cluster.ID}}"]);

    // A client writes through the leader while the backup is taken on a
    // follower.
    let acked = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (acked, stop) = (acked.clone(), stop.clone());
        let host = ms[l].host();
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) && i < 200 {
                let done = std::process::Command::new(DOCKER_28)
                    .args(["-H", &host, "service", "create", "-d", "--replicas", "0"])
                    .args(["--name", &format!("w{i}"), "busybox", "true"])
                    .output()
                    .is_ok_and(|o| o.status.success());
                assert!(done, "write w{i}");
                i += 1;
                acked.store(i, Ordering::SeqCst);
            }
        })
    };
    wait_until("a few writes", T, || acked.load(Ordering::SeqCst) >= 3);
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("swarm.backup");
    let file_s = file.display().to_string();
    let before = acked.load(Ordering::SeqCst);
    let said = ms[src].ok(&["swarm", "backup", &file_s]);
    assert!(
        said.contains(&format!("Backup of swarm {}", cluster_id.trim())),
        "{said}"
    );
    wait_until("more writes after the backup", T, || {
        acked.load(Ordering::SeqCst) >= before + 2
    });
    stop.store(true, Ordering::SeqCst);
    writer.join().expect("writer");
    let total = acked.load(Ordering::SeqCst);
    let mode = std::fs::metadata(&file)
        .expect("backup file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "owner-only");

    // Every manager stops, every data root is destroyed.
    let hosts: Vec<String> = ms.iter().map(|m| m.hostname.clone()).collect();
    for m in ms.iter_mut() {
        m.stop();
        std::fs::remove_dir_all(m.data_root()).expect("remove data root");
    }
    bad_backups_are_refused(&file, dir.path());

    let root = ms[src].data_root();
    let root_s = root.display().to_string();
    let said = ms[src].ok(&["swarm", "restore", &file_s, "--data-root", &root_s]);
    assert!(
        said.contains(&format!("Swarm {} restored", cluster_id.trim())),
        "{said}"
    );
    let again = ms[src].rswarm(&["swarm", "restore", &file_s, "--data-root", &root_s]);
    assert!(
        !again.status.success()
            && String::from_utf8_lossy(&again.stderr).contains("already holds a swarm state"),
        "{again:?}"
    );
    ms[src].restart_from_stopped();
    let m = &ms[src];
    wait_until("the restored manager leads", T, || {
        nodes(m)
            .iter()
            .any(|(h, _, s)| *h == m.hostname && s == "Leader")
    });
    assert_eq!(
        ok(m, &["info", "--format", "{{.Swarm.Cluster.ID}}"]),
        cluster_id
    );
    assert_eq!(
        ok(m, &["swarm", "join-token", "-q", "worker"]),
        worker_token
    );
    assert_eq!(
        ok(m, &["swarm", "join-token", "-q", "manager"]),
        manager_token
    );
    let names = service_names(m);
    assert!(names.contains(&"web".to_string()), "{names:?}");
    for i in 0..before {
        assert!(
            names.contains(&format!("w{i}")),
            "w{i} acknowledged before the backup: {names:?}"
        );
    }
    for n in names.iter().filter(|n| n.starts_with('w') && *n != "web") {
        let i: usize = n[1..].parse().expect("w<i>");
        assert!(i < total, "{n} was never written");
    }
    let restored_hosts: Vec<String> = nodes(m).into_iter().map(|(h, _, _)| h).collect();
    assert_eq!(restored_hosts, hosts, "every node is back");
    // A new worker joins with the old token.
    let w = TestDaemon::start("bkw");
    let joined = ok(
        &w,
        &[
            "swarm",
            "join",
            "--token",
            worker_token.trim(),
            "--advertise-addr",
            "127.0.0.4",
            &addrs[src],
        ],
    );
    assert!(joined.contains("as a worker"), "{joined}");
    wait_until("the new worker Ready", T, || {
        nodes(m).iter().any(|(h, s, _)| h == "bkw" && s == "Ready")
    });
}

/// Truncated, corrupted and foreign files: a clear error, nothing created.
fn bad_backups_are_refused(good: &Path, dir: &Path) {
    let bytes = std::fs::read(good).expect("backup");
    let mut flipped = bytes.clone();
    flipped[100] ^= 1;
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "truncated",
            bytes[..bytes.len() / 2].to_vec(),
            "the backup is truncated",
        ),
        ("corrupted", flipped, "checksum does not match"),
        (
            "foreign",
            b"{\"Swarm\": true}\n".to_vec(),
            "not an rswarm backup",
        ),
        ("empty", Vec::new(), "not an rswarm backup"),
    ];
    for (name, content, want) in cases {
        let file = dir.join(name);
        std::fs::write(&file, content).expect("write");
        let root = dir.join(format!("root-{name}"));
        let o = std::process::Command::new(common::rswarm_bin())
            .args(["swarm", "restore"])
            .arg(&file)
            .arg("--data-root")
            .arg(&root)
            .output()
            .expect("rswarm");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains(want), "{name}: {err}");
        assert!(
            err.contains(&file.display().to_string()),
            "names the file: {err}"
        );
        assert!(!root.exists(), "{name}: nothing created");
    }
}
