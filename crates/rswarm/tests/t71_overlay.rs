//! Overlay networks across hosts (issue 9, acceptance): three "hosts",
//! each a network namespace running an rswarm daemon (process runtime),
//! on an underlay bridge that lives in a namespace of its own (the
//! machine's Docker engine sets FORWARD DROP and bridge netfilter in the
//! root namespace), joined into one swarm with the docker CLI.
//!
//! ```text
//!  rsw71-<pid>-h1 (198.18.0.1, manager)   -h2 (.2, worker)   -h3 (.3, worker)
//!            \                               |                 /
//!             rsw71-<pid>-ul: bridge ulbr, 198.18.0.254 ("outside": an httpd)
//! ```
//!
//! On `appnet` a 3-replica busybox httpd service `web` and a `client`
//! service: from the client task's namespaces `wget http://web/` answers
//! (embedded DNS → VIP → nftables), `tasks.web` gives exactly the three
//! task addresses, a task reaches a task of another host by address
//! (VXLAN), and the outside answers (egress). Isolation: a task on another
//! network reaches no `web` task; a task on an `--internal` network has no
//! way out. A `dnsrr` service with a network alias: its name, the alias
//! and `tasks.rr` give its task addresses (no VIP). A service's `--dns`,
//! `--dns-search` and `--dns-option` reach its tasks' resolv.conf and
//! embedded DNS server. Node churn: a worker is SIGKILLed while its tasks run; once
//! it is down its web task runs elsewhere, and `tasks.web` and the VIP
//! follow with nothing stale. Cleanup: the services and networks are
//! removed; the live hosts keep nothing of
//! rswarm's (links, nft tables, namespace files, VXLAN sockets, task
//! processes), and neither does the killed host once its daemon restarts.
//!
//! Everything the test makes (namespaces, the outside httpd, daemons and
//! their tasks) is removed by drop guards, also when it fails.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::netlab::{
    Lab, OUTSIDE, T, a_records, assert_resolv_conf, eventually, form_swarm, leftovers, run,
};
use common::{TestDaemon, pids_with_env, wait_until};
use serde_json::Value;

fn json(d: &TestDaemon, args: &[&str]) -> Value {
    serde_json::from_str(&d.cli_ok(args)).expect("json")
}

/// The running tasks of `service`: (task ID, node ID, PID, address).
fn running_tasks(d: &TestDaemon, service: &str) -> Vec<(String, String, u32, String)> {
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
        let t = json(d, &["inspect", id]);
        let t = &t[0];
        if t["Status"]["State"] != "running" {
            continue;
        }
        let pid = t["Status"]["ContainerStatus"]["PID"].as_u64().unwrap_or(0);
        let addr = t["NetworksAttachments"][0]["Addresses"][0]
            .as_str()
            .unwrap_or_default()
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string();
        out.push((
            id.to_string(),
            t["NodeID"].as_str().unwrap_or_default().to_string(),
            u32::try_from(pid).unwrap_or(0),
            addr,
        ));
    }
    out
}

fn wait_running(d: &TestDaemon, service: &str, n: usize) -> Vec<(String, String, u32, String)> {
    let mut tasks = Vec::new();
    wait_until(&format!("{n} running tasks of {service}"), T, || {
        tasks = running_tasks(d, service);
        tasks.len() == n
    });
    tasks
}

/// Runs busybox `args` in the network and mount namespaces of task
/// process `pid`, for at most 5 s; `(success, stdout + stderr)`.
fn in_task(pid: u32, args: &[&str]) -> (bool, String) {
    let o = run(Command::new("timeout")
        .args([
            "5",
            "nsenter",
            "-t",
            &pid.to_string(),
            "-n",
            "-m",
            "/bin/busybox",
        ])
        .args(args));
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

fn wget(pid: u32, url: &str) -> (bool, String) {
    // (busybox 1.35's `wget -T` crashes: `in_task` bounds the time.)
    in_task(pid, &["wget", "-q", "-O", "-", url])
}

/// The A records `name` has through the task's embedded DNS.
fn resolve(pid: u32, name: &str) -> BTreeSet<String> {
    a_records(&in_task(pid, &["nslookup", "-type=a", name, "127.0.0.11"]).1)
}

#[test]
fn overlay_across_three_hosts() {
    let mut lab = Lab::new("rsw71", 3);
    lab.serve_outside();
    let mut nodes: Vec<TestDaemon> = (0..3)
        .map(|i| TestDaemon::start_in_netns(&format!("host{}", i + 1), &lab.hosts[i]))
        .collect();
    form_swarm(&lab, &nodes);
    let a = &nodes[0];

    // Networks and services.
    a.cli_ok(&["network", "create", "-d", "overlay", "appnet"]);
    a.cli_ok(&["network", "create", "-d", "overlay", "other"]);
    a.cli_ok(&["network", "create", "-d", "overlay", "--internal", "sealed"]);
    let www = lab.www().to_string_lossy().to_string();
    let create = |name: &str, replicas: &str, net: &str, cmd: &[&str]| {
        let mut args = vec![
            "service",
            "create",
            "-d",
            "--name",
            name,
            "--replicas",
            replicas,
            "--network",
            net,
            "busybox",
        ];
        args.extend_from_slice(cmd);
        a.cli_ok(&args);
    };
    // `web` serves the same page as "outside" under another name.
    std::fs::write(format!("{www}/web.html"), "hello from web\n").expect("page");
    create(
        "web",
        "3",
        "appnet",
        &["/bin/busybox", "httpd", "-f", "-p", "80", "-h", &www],
    );
    create("client", "1", "appnet", &["/bin/busybox", "sleep", "1000"]);
    create("lonely", "1", "other", &["/bin/busybox", "sleep", "1000"]);
    create(
        "sealedsvc",
        "1",
        "sealed",
        &["/bin/busybox", "sleep", "1000"],
    );
    let web = wait_running(a, "web", 3);
    let client = wait_running(a, "client", 1).remove(0);
    let lonely = wait_running(a, "lonely", 1).remove(0);
    let sealed = wait_running(a, "sealedsvc", 1).remove(0);
    let web_addrs: BTreeSet<String> = web.iter().map(|t| t.3.clone()).collect();
    assert_eq!(web_addrs.len(), 3, "{web:?}");
    let web_nodes: BTreeSet<&str> = web.iter().map(|t| t.1.as_str()).collect();
    assert!(web_nodes.len() >= 2, "web spread over hosts: {web:?}");

    // From the client: the service by name (DNS → VIP), its tasks by name.
    let cpid = client.2;
    eventually("tasks.web resolves to the three task addresses", || {
        let names = resolve(cpid, "tasks.web");
        (names == web_addrs, format!("{names:?}, want {web_addrs:?}"))
    });
    eventually("wget http://web/web.html from the client", || {
        let (ok, out) = wget(cpid, "http://web/web.html");
        (ok && out == "hello from web\n", out)
    });
    // Every web task answers by address, one of them on another host.
    let remote = web
        .iter()
        .find(|t| t.1 != client.1)
        .expect("a web task on another host than the client");
    // (A task is running once its process is, a moment before httpd
    // listens.)
    for t in &web {
        eventually(&format!("web task {} at {} answers", t.0, t.3), || {
            let (ok, out) = wget(cpid, &format!("http://{}/web.html", t.3));
            (ok && out == "hello from web\n", out)
        });
    }
    let (ok, out) = wget(cpid, &format!("http://{}/web.html", remote.3));
    assert!(ok, "cross-host {} → {}: {out}", client.1, remote.1);
    // The way out (egress): the outside answers.
    let outside = format!("http://{OUTSIDE}:8080/index.html");
    let (ok, out) = wget(cpid, &outside);
    assert!(ok && out == "outside\n", "client → outside: {out}");

    // The service's own DNS settings (`--dns`, `--dns-search`,
    // `--dns-option`): in its tasks' resolv.conf, and names that are not
    // the swarm's go to its server (outside: it answers everything with
    // 192.0.2.77); swarm names still answer from the embedded server.
    lab.serve_dns_outside("192.0.2.77");
    a.cli_ok(&[
        "service",
        "create",
        "-d",
        "--name",
        "dnsclient",
        "--network",
        "appnet",
        "--dns",
        OUTSIDE,
        "--dns-search",
        "corp.example",
        "--dns-option",
        "ndots:2",
        "busybox",
        "/bin/busybox",
        "sleep",
        "1000",
    ]);
    let spec = json(a, &["service", "inspect", "dnsclient"]);
    assert_eq!(
        spec[0]["Spec"]["TaskTemplate"]["ContainerSpec"]["DNSConfig"],
        serde_json::json!({"Nameservers": [OUTSIDE], "Search": ["corp.example"], "Options": ["ndots:2"]})
    );
    let dpid = wait_running(a, "dnsclient", 1).remove(0).2;
    assert_resolv_conf(
        in_task(dpid, &["cat", "/etc/resolv.conf"]),
        &[
            "search corp.example",
            "nameserver 127.0.0.11",
            "options ndots:2",
        ],
    );
    eventually("the service's DNS server answers other names", || {
        let names = resolve(dpid, "db.corp.example");
        (
            names == BTreeSet::from(["192.0.2.77".to_string()]),
            format!("{names:?}"),
        )
    });
    assert_eq!(
        resolve(dpid, "tasks.web"),
        web_addrs,
        "swarm names stay ours"
    );
    assert!(
        !resolve(cpid, "db.corp.example").contains("192.0.2.77"),
        "a task without --dns does not ask that server"
    );
    a.cli_ok(&["service", "rm", "dnsclient"]);

    // DNS round robin and a network alias: `rr` has no VIP; its name and
    // its alias give its task addresses.
    a.cli_ok(&[
        "service",
        "create",
        "-d",
        "--name",
        "rr",
        "--replicas",
        "2",
        "--endpoint-mode",
        "dnsrr",
        "--network",
        "name=appnet,alias=rr-alias",
        "busybox",
        "/bin/busybox",
        "httpd",
        "-f",
        "-p",
        "80",
        "-h",
        &www,
    ]);
    let rr: BTreeSet<String> = wait_running(a, "rr", 2).into_iter().map(|t| t.3).collect();
    let vips = json(a, &["service", "inspect", "rr"])[0]["Endpoint"]["VirtualIPs"].clone();
    assert!(
        vips.as_array().is_none_or(|v| v.is_empty()),
        "dnsrr has no VIP: {vips}"
    );
    for name in ["rr", "rr-alias", "tasks.rr"] {
        eventually(&format!("{name} resolves to the rr task addresses"), || {
            let names = resolve(cpid, name);
            (names == rr, format!("{names:?}, want {rr:?}"))
        });
    }
    eventually("wget http://rr-alias/web.html", || {
        let (ok, out) = wget(cpid, "http://rr-alias/web.html");
        (ok && out == "hello from web\n", out)
    });

    // Isolation: another network reaches no web task, nor the VIP's name.
    for t in &web {
        let (ok, out) = wget(lonely.2, &format!("http://{}/web.html", t.3));
        assert!(!ok, "a task on `other` reached web task {}: {out}", t.3);
    }
    assert!(resolve(lonely.2, "tasks.web").is_empty());
    // An internal network has no way out (while appnet has: above).
    let (ok, out) = wget(sealed.2, &outside);
    assert!(!ok, "a task on an internal network got out: {out}");

    // A worker dies with its tasks running (not the client's host).
    let victim = nodes
        .iter()
        .position(|n| {
            let id = n.node_id();
            id != nodes[0].node_id() && id != client.1 && web.iter().any(|t| t.1 == id)
        })
        .expect("a worker running a web task but not the client");
    let victim_ns = lab.hosts[victim].clone();
    let victim_id = nodes[victim].node_id();
    nodes[victim].kill9();
    let a = &nodes[0];

    // Node churn: once the node is down its web task moves; DNS and the
    // VIP follow, with nothing stale (every answer of the VIP in a row
    // comes from a live task).
    let lost: BTreeSet<String> = web
        .iter()
        .filter(|t| t.1 == victim_id)
        .map(|t| t.3.clone())
        .collect();
    let mut moved = BTreeSet::new();
    eventually("the dead node's web task runs elsewhere", || {
        let now = running_tasks(a, "web");
        moved = now.iter().map(|t| t.3.clone()).collect();
        let ok = now.len() == 3 && now.iter().all(|t| t.1 != victim_id);
        (ok, format!("{now:?}"))
    });
    assert!(moved.is_disjoint(&lost), "{moved:?} still holds {lost:?}");
    eventually("tasks.web follows the move", || {
        let names = resolve(cpid, "tasks.web");
        (names == moved, format!("{names:?}, want {moved:?}"))
    });
    eventually("six answers in a row through the VIP", || {
        let answers: Vec<(bool, String)> =
            (0..6).map(|_| wget(cpid, "http://web/web.html")).collect();
        let ok = answers
            .iter()
            .all(|(ok, out)| *ok && out == "hello from web\n");
        (ok, format!("{answers:?}"))
    });
    a.cli_ok(&[
        "service",
        "rm",
        "web",
        "client",
        "lonely",
        "sealedsvc",
        "rr",
    ]);
    wait_until("networks removed", T, || {
        a.cli(&["network", "rm", "appnet", "other", "sealed"]).0
            || a.cli(&["network", "ls", "-q", "--filter", "driver=overlay"])
                .1
                .lines()
                .count()
                == 1
    });
    for (i, n) in nodes.iter().enumerate().filter(|(i, _)| *i != victim) {
        let mut left = Vec::new();
        wait_until(
            &format!("host{} keeps nothing of rswarm's", i + 1),
            T,
            || {
                left = leftovers(&lab.hosts[i], n);
                left.is_empty() && pids_with_env("RSWARM_NODE_ID", &n.node_id()).is_empty()
            },
        );
    }
    // The killed host: its tasks still run, their plumbing is still there.
    assert!(!pids_with_env("RSWARM_NODE_ID", &victim_id).is_empty());
    assert!(!leftovers(&victim_ns, &nodes[victim]).is_empty());
    nodes[victim].restart_from_stopped();
    let mut left = Vec::new();
    wait_until("the restarted host keeps nothing of rswarm's", T, || {
        left = leftovers(&victim_ns, &nodes[victim]);
        left.is_empty() && pids_with_env("RSWARM_NODE_ID", &victim_id).is_empty()
    });
    // Daemons go before their namespaces (drop order: nodes, then lab).
    drop(nodes);
}
