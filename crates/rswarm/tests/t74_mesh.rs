//! The ingress routing mesh (issue 10, acceptance): three "hosts", each a
//! network namespace running an rswarm daemon (process runtime), on an
//! underlay bridge in a namespace of its own, which also plays the client
//! outside the swarm (198.18.0.254).
//!
//! `web` publishes TCP 8080 and UDP 9053 through the mesh with 2 replicas
//! kept off host3. Its tasks (`t74/mesh_echo.py`) answer with their PID
//! and the address they see the client at. Checked, with the client
//! `t74/mesh_client.py`:
//! - 8080 answers on all three hosts' addresses, host3 (no task)
//!   included; 99 requests reach both tasks, and every task sees the
//!   client's own address; the same over UDP;
//! - on a host, `127.0.0.1:8080` and the host's own address answer;
//! - while requests run without a pause, `web` scales to 3 and host1 is
//!   drained: not one request fails;
//! - `service update --publish-rm 80/tcp` closes 8080 on every host while
//!   UDP 9053 still answers;
//! - `mode=host` answers on the task's host only, and `service ps` shows
//!   the port;
//! - cleanup: once the services are gone no host keeps a link, table,
//!   VXLAN socket or namespace file of rswarm's; a host whose daemon was
//!   SIGKILLed while it carried the mesh keeps its table until the daemon
//!   starts again, and none after.

mod common;

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};

use common::netlab::{Lab, OUTSIDE, T, eventually, form_swarm, leftovers, run};
use common::{TestDaemon, wait_until};
use serde_json::Value;

const ECHO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/t74/mesh_echo.py");
const CLIENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/t74/mesh_client.py");

/// Runs the client in namespace `ns`: `[target, answer]` pairs.
fn ask(ns: &str, proto: &str, targets: &[String], count: usize) -> Vec<(String, String)> {
    let o = run(Command::new("ip").args([
        "netns",
        "exec",
        ns,
        "python3",
        CLIENT,
        "n",
        proto,
        &targets.join(","),
        &count.to_string(),
    ]));
    parse(&String::from_utf8_lossy(&o.stdout))
}

fn parse(out: &str) -> Vec<(String, String)> {
    let v: Vec<(String, String)> = serde_json::from_str(out.trim()).unwrap_or_default();
    v
}

fn failures(answers: &[(String, String)]) -> Vec<&(String, String)> {
    answers
        .iter()
        .filter(|(_, a)| a.starts_with("ERR"))
        .collect()
}

/// (PID, peer address) of an answer.
fn split(answer: &str) -> (u32, String) {
    let mut w = answer.split_whitespace();
    let pid = w.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (pid, w.next().unwrap_or_default().to_string())
}

/// (node ID, PID) of the running tasks of `service`.
fn running(d: &TestDaemon, service: &str) -> Vec<(String, u32)> {
    let ids = d.cli_ok(&[
        "service",
        "ps",
        "-q",
        "--filter",
        "desired-state=running",
        service,
    ]);
    let mut out = Vec::new();
    for id in ids.lines().filter(|l| !l.is_empty()) {
        let t: Value = serde_json::from_str(&d.cli_ok(&["inspect", id])).expect("json");
        let t = &t[0];
        if t["Status"]["State"] != "running" {
            continue;
        }
        let pid = t["Status"]["ContainerStatus"]["PID"].as_u64().unwrap_or(0);
        out.push((
            t["NodeID"].as_str().unwrap_or_default().to_string(),
            u32::try_from(pid).unwrap_or(0),
        ));
    }
    out
}

fn wait_running(d: &TestDaemon, service: &str, n: usize) -> Vec<(String, u32)> {
    let mut tasks = Vec::new();
    wait_until(&format!("{n} running tasks of {service}"), T, || {
        tasks = running(d, service);
        tasks.len() == n
    });
    tasks
}

/// A client asking without a pause until [`Looping::finish`].
struct Looping {
    child: Option<Child>,
    stop: std::path::PathBuf,
}

impl Looping {
    fn start(ns: &str, targets: &[String], stop: std::path::PathBuf) -> Looping {
        let _ = std::fs::remove_file(&stop);
        let child = Command::new("ip")
            .args(["netns", "exec", ns, "python3", CLIENT, "loop", "tcp"])
            .arg(targets.join(","))
            .arg(&stop)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("client loop");
        Looping {
            child: Some(child),
            stop,
        }
    }

    fn finish(mut self) -> Vec<(String, String)> {
        std::fs::write(&self.stop, "").expect("stop file");
        let out = self
            .child
            .take()
            .expect("child")
            .wait_with_output()
            .expect("client output");
        parse(&String::from_utf8_lossy(&out.stdout))
    }
}

impl Drop for Looping {
    fn drop(&mut self) {
        let _ = std::fs::write(&self.stop, "");
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(&self.stop);
    }
}

#[test]
fn routing_mesh_across_three_hosts() {
    let lab = Lab::new("rsw74", 3);
    let mut nodes: Vec<TestDaemon> = (0..3)
        .map(|i| TestDaemon::start_in_netns(&format!("host{}", i + 1), &lab.hosts[i]))
        .collect();
    form_swarm(&lab, &nodes);
    let a = &nodes[0];
    let node_id = |name: &str| a.cli_ok(&["node", "inspect", "--format", "{{.ID}}", name]);
    let host3 = node_id("host3").trim().to_string();
    let host1 = node_id("host1").trim().to_string();
    for h in ["host1", "host2"] {
        a.cli_ok(&["node", "update", "--label-add", "mesh=yes", h]);
    }

    a.cli_ok(&[
        "service",
        "create",
        "-d",
        "--name",
        "web",
        "--replicas",
        "2",
        "--constraint",
        "node.labels.mesh==yes",
        "-p",
        "8080:80",
        "--publish",
        "published=9053,target=80,protocol=udp",
        "busybox",
        "/usr/bin/python3",
        "-u",
        ECHO,
        "80",
    ]);
    let web = wait_running(a, "web", 2);
    assert!(web.iter().all(|(n, _)| *n != host3), "{web:?}");
    let pids: BTreeSet<u32> = web.iter().map(|t| t.1).collect();
    let ul = lab.underlay();
    let on =
        |port: u16| -> Vec<String> { (0..3).map(|i| format!("{}:{port}", lab.addr(i))).collect() };

    // Every host answers, host3 with no task too.
    for target in on(8080) {
        eventually(&format!("{target} answers through the mesh"), || {
            let r = ask(&ul, "tcp", std::slice::from_ref(&target), 1);
            (failures(&r).is_empty() && !r.is_empty(), format!("{r:?}"))
        });
    }
    // Both tasks, each seeing the client's own address.
    let r = ask(&ul, "tcp", &on(8080), 99);
    assert_eq!(r.len(), 99);
    assert!(failures(&r).is_empty(), "{:?}", failures(&r));
    let seen: BTreeSet<u32> = r.iter().map(|(_, a)| split(a).0).collect();
    assert_eq!(seen, pids, "requests reach both tasks: {r:?}");
    let peers: BTreeSet<String> = r.iter().map(|(_, a)| split(a).1).collect();
    assert_eq!(
        peers,
        BTreeSet::from([OUTSIDE.to_string()]),
        "the client's address"
    );
    // UDP the same way.
    let r = ask(&ul, "udp", &on(9053), 30);
    assert!(failures(&r).is_empty(), "{:?}", failures(&r));
    let seen: BTreeSet<u32> = r.iter().map(|(_, a)| split(a).0).collect();
    assert_eq!(seen, pids, "UDP reaches both tasks: {r:?}");
    let peers: BTreeSet<String> = r.iter().map(|(_, a)| split(a).1).collect();
    assert_eq!(peers, BTreeSet::from([OUTSIDE.to_string()]));
    // On a host: localhost and its own address.
    let own = vec![
        "127.0.0.1:8080".to_string(),
        format!("{}:8080", lab.addr(2)),
    ];
    let r = ask(&lab.hosts[2], "tcp", &own, 4);
    assert!(failures(&r).is_empty() && r.len() == 4, "{r:?}");

    // Scale to 3 and drain host1 while requests run without a pause.
    let stop = lab.www().join("stop-loop");
    std::fs::create_dir_all(lab.www()).expect("www");
    let looping = Looping::start(&ul, &on(8080), stop);
    std::thread::sleep(std::time::Duration::from_millis(500));
    a.cli_ok(&["node", "update", "--label-add", "mesh=yes", "host3"]);
    a.cli_ok(&["service", "scale", "-d", "web=3"]);
    wait_running(a, "web", 3);
    std::thread::sleep(std::time::Duration::from_millis(500));
    a.cli_ok(&["node", "update", "--availability", "drain", "host1"]);
    let mut web = Vec::new();
    wait_until("web runs 3 tasks, none on host1", T, || {
        web = running(a, "web");
        web.len() == 3 && web.iter().all(|(n, _)| *n != host1)
    });
    std::thread::sleep(std::time::Duration::from_secs(2));
    let r = looping.finish();
    assert!(r.len() > 50, "the loop ran: {} requests", r.len());
    assert!(
        failures(&r).is_empty(),
        "failed during scale and drain: {:?}",
        failures(&r)
    );
    let now: BTreeSet<u32> = web.iter().map(|t| t.1).collect();
    let r = ask(&ul, "tcp", &on(8080), 30);
    let seen: BTreeSet<u32> = r.iter().map(|(_, a)| split(a).0).collect();
    assert_eq!(
        seen, now,
        "after the drain, only the 3 running tasks: {r:?}"
    );

    // --publish-rm (by target port and protocol, as Docker's) closes 8080
    // everywhere; 9053/udp stays.
    a.cli_ok(&["service", "update", "-d", "--publish-rm", "80/tcp", "web"]);
    for target in on(8080) {
        eventually(&format!("{target} is closed"), || {
            let r = ask(&ul, "tcp", std::slice::from_ref(&target), 1);
            (failures(&r).len() == 1, format!("{r:?}"))
        });
    }
    eventually("9053/udp still answers on every host", || {
        let r = ask(&ul, "udp", &on(9053), 6);
        (failures(&r).is_empty(), format!("{r:?}"))
    });

    // mode=host: the task's host only.
    a.cli_ok(&[
        "service",
        "create",
        "-d",
        "--name",
        "hm",
        "--constraint",
        "node.hostname==host2",
        "--publish",
        "mode=host,published=8090,target=8090",
        "busybox",
        "/usr/bin/python3",
        "-u",
        ECHO,
        "8090",
    ]);
    wait_running(a, "hm", 1);
    eventually("host2:8090 answers", || {
        let r = ask(&ul, "tcp", &[format!("{}:8090", lab.addr(1))], 1);
        (failures(&r).is_empty() && !r.is_empty(), format!("{r:?}"))
    });
    for i in [0, 2] {
        let r = ask(&ul, "tcp", &[format!("{}:8090", lab.addr(i))], 1);
        assert_eq!(
            failures(&r).len(),
            1,
            "host{} must not answer: {r:?}",
            i + 1
        );
    }
    let ps = a.cli_ok(&["service", "ps", "--format", "{{.Ports}}", "hm"]);
    assert!(ps.contains("*:8090->8090/tcp"), "{ps}");

    // Cleanup; host3 is SIGKILLed while it carries the mesh.
    nodes[2].kill9();
    let a = &nodes[0];
    a.cli_ok(&["service", "rm", "web", "hm"]);
    for (ns, d) in lab.hosts.iter().zip(&nodes).take(2) {
        let mut left = Vec::new();
        wait_until(&format!("{ns} keeps nothing of rswarm's"), T, || {
            left = leftovers(ns, d);
            left.is_empty()
        });
    }
    let killed = leftovers(&lab.hosts[2], &nodes[2]);
    assert!(
        killed.iter().any(|l| l.contains("rswarm_mesh")),
        "the killed host still has its mesh table: {killed:?}"
    );
    nodes[2].restart_from_stopped();
    let mut left = Vec::new();
    wait_until("the restarted host3 keeps nothing of rswarm's", T, || {
        left = leftovers(&lab.hosts[2], &nodes[2]);
        left.is_empty()
    });
}
