//! Overlay networks in the docker runtime (issue 9, acceptance): three
//! "hosts", each a network namespace running an rswarm daemon with
//! `--runtime docker` against the tests' private engine
//! ([`common::test_engine`], never the machine's own), on an underlay
//! bridge in a namespace of its own (as t71), joined into one swarm.
//!
//! On `appnet` a 3-replica busybox httpd service `web` and a `client`
//! (running as nobody), both in the local image `rswarm-test/busybox:latest`: each task runs in
//! the namespace of its network sandbox container (`NetworkMode:
//! container:<sandbox>`, resolv.conf of the data plane mounted read-only);
//! from the client container (`docker exec` through the engine) `wget
//! http://web/` answers, `tasks.web` gives exactly the three task
//! addresses, and every web task answers by address (one on another
//! host). The routing mesh with containers: `pubweb` publishes 8080 with
//! two tasks off dhost3; every host's 8080 answers from outside the swarm
//! (dhost3 too), both tasks answer, and each sees the client's address.
//! One worker is SIGKILLed with its tasks running; after `service
//! rm` and `network rm` no sandbox or task container of the live nodes, no
//! `rsw*` link, `rswarm*` nft table or pinned namespace is left, and
//! neither is anything of the killed worker's once it restarts. Needs `bash scripts/setup.sh`; fails without it.
//!
//! The namespaces, daemons and containers are removed by drop guards,
//! also when the test fails.

mod common;

use std::collections::BTreeSet;
use std::process::{Command, Output};

use common::netlab::{
    Lab, OUTSIDE, T, a_records, assert_resolv_conf, eventually, form_swarm, leftovers, run,
};
use common::{DOCKER_28, TestDaemon, test_engine, wait_until};
use serde_json::Value;

const IMAGE: &str = "rswarm-test/busybox:latest";
const SANDBOX_LABEL: &str = "rswarm.sandbox.task.id";

/// The docker CLI against the tests' engine (not rswarm).
fn engine(args: &[&str]) -> Output {
    Command::new(DOCKER_28)
        .args(["-H", &test_engine()])
        .args(args)
        .env_remove("DOCKER_HOST")
        .output()
        .expect("run docker")
}

/// Container IDs on the engine with `label`, stopped ones too.
fn containers(label: &str) -> Vec<String> {
    let filter = format!("label={label}");
    let o = engine(&["ps", "-aq", "--no-trunc", "--filter", &filter]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

fn inspect(id: &str) -> Value {
    let o = engine(&["inspect", id]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice::<Value>(&o.stdout).expect("inspect json")[0].clone()
}

/// Removes every container of the nodes when dropped (after the daemons).
struct NodeContainers(Vec<String>);

impl Drop for NodeContainers {
    fn drop(&mut self) {
        for node in &self.0 {
            let ids = containers(&format!("com.docker.swarm.node.id={node}"));
            if !ids.is_empty() {
                let mut args = vec!["rm", "-f"];
                args.extend(ids.iter().map(String::as_str));
                let _ = engine(&args);
            }
        }
    }
}

/// A running task: ID, node ID, container ID, overlay address.
#[derive(Debug)]
struct RunningTask {
    id: String,
    node: String,
    container: String,
    addr: String,
}

fn running_tasks(d: &TestDaemon, service: &str) -> Vec<RunningTask> {
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
        let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
        out.push(RunningTask {
            id: id.to_string(),
            node: s(&t["NodeID"]),
            container: s(&t["Status"]["ContainerStatus"]["ContainerID"]),
            addr: s(&t["NetworksAttachments"][0]["Addresses"][0])
                .split('/')
                .next()
                .unwrap_or_default()
                .to_string(),
        });
    }
    out
}

fn wait_running(d: &TestDaemon, service: &str, n: usize) -> Vec<RunningTask> {
    let mut tasks = Vec::new();
    wait_until(&format!("{n} running tasks of {service}"), T, || {
        tasks = running_tasks(d, service);
        tasks.len() == n
    });
    tasks
}

/// `docker exec` of busybox `args` in `container`, for at most 5 s.
fn exec(container: &str, args: &[&str]) -> (bool, String) {
    let mut full = vec!["exec", container, "timeout", "5"];
    full.extend_from_slice(args);
    let o = engine(&full);
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

/// A busybox httpd whose CGI `who` answers "<task's random id> <client
/// address>".
const WHO_SERVER: &str = "cat /proc/sys/kernel/random/uuid > /id && mkdir -p /www/cgi-bin \
    && printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho $(cat /id) $REMOTE_ADDR\\n' \
    > /www/cgi-bin/who && chmod +x /www/cgi-bin/who && exec httpd -f -p 80 -h /www";

/// A GET of `url` from the lab's outside namespace (Python's urllib, 3 s;
/// busybox-static's wget crashes on this machine): whether it answered,
/// the answer, and the error.
fn from_outside(lab: &Lab, url: &str) -> (bool, String, String) {
    let o = run(Command::new("ip").args([
        "netns",
        "exec",
        &lab.underlay(),
        "python3",
        "-c",
        "import sys, urllib.request as u; print(u.urlopen(sys.argv[1], timeout=3).read().decode(), end='')",
        url,
    ]));
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The A records `name` has through the task's embedded DNS.
fn resolve(container: &str, name: &str) -> BTreeSet<String> {
    a_records(&exec(container, &["nslookup", "-type=a", name, "127.0.0.11"]).1)
}

#[test]
fn overlay_across_three_docker_hosts() {
    let v = engine(&["image", "inspect", IMAGE]);
    assert!(
        v.status.success(),
        "no engine on {} or no image {IMAGE}: run bash scripts/setup.sh: {}",
        test_engine(),
        String::from_utf8_lossy(&v.stderr)
    );
    let lab = Lab::new("rsw72", 3);
    let mut guard = NodeContainers(Vec::new());
    let mut nodes: Vec<TestDaemon> = (0..3)
        .map(|i| {
            TestDaemon::start_in_netns_with_runtime(
                &format!("dhost{}", i + 1),
                &lab.hosts[i],
                "docker",
            )
        })
        .collect();
    form_swarm(&lab, &nodes);
    guard.0.extend(nodes.iter().map(TestDaemon::node_id));
    let a = &nodes[0];

    a.cli_ok(&["network", "create", "-d", "overlay", "appnet"]);
    let create = |name: &str, replicas: &str, flags: &[&str], cmd: &[&str]| {
        let mut args = vec![
            "service",
            "create",
            "-d",
            "--stop-grace-period",
            "1s",
            "--name",
            name,
            "--replicas",
            replicas,
        ];
        args.extend_from_slice(flags);
        args.push(IMAGE);
        args.extend_from_slice(cmd);
        a.cli_ok(&args);
    };
    create(
        "web",
        "3",
        &["--user", "0", "--network", "appnet"],
        &[
            "sh",
            "-c",
            "mkdir -p /www && echo hello from web > /www/index.html && exec httpd -f -p 80 -h /www",
        ],
    );
    // (The client comes once web's tasks have their addresses: a VIP
    // allocated while the allocator's pass is under way can get an
    // address that pass gives a task.)
    let web = wait_running(a, "web", 3);
    // The client runs as nobody: the resolv.conf mount is readable. Its
    // DNS settings reach that resolv.conf (the engine takes none with a
    // container's network).
    create(
        "client",
        "1",
        &[
            "--user",
            "65534:65534",
            "--network",
            "appnet",
            "--dns",
            "198.18.0.254",
            "--dns-search",
            "corp.example",
            "--dns-option",
            "ndots:3",
        ],
        &["sleep", "1000"],
    );
    let client = wait_running(a, "client", 1).remove(0);
    let web_addrs: BTreeSet<String> = web.iter().map(|t| t.addr.clone()).collect();
    assert_eq!(web_addrs.len(), 3, "{web:?}");
    let web_nodes: BTreeSet<&str> = web.iter().map(|t| t.node.as_str()).collect();
    assert!(web_nodes.len() >= 2, "web spread over hosts: {web:?}");

    // Each task container lives in its sandbox's namespace, with the data
    // plane's resolv.conf; the sandbox is a running `none` container.
    for t in web.iter().chain(std::iter::once(&client)) {
        let c = inspect(&t.container);
        let mode = c["HostConfig"]["NetworkMode"].as_str().unwrap_or_default();
        let sandbox = mode
            .strip_prefix("container:")
            .unwrap_or_else(|| panic!("task {} network mode {mode:?}", t.id));
        let s = inspect(sandbox);
        assert_eq!(s["Config"]["Labels"][SANDBOX_LABEL], t.id.as_str(), "{s}");
        assert_eq!(s["HostConfig"]["NetworkMode"], "none", "{s}");
        assert_eq!(s["State"]["Running"], true, "{s}");
        let resolv = c["Mounts"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["Destination"] == "/etc/resolv.conf")
            .unwrap_or_else(|| panic!("no resolv.conf mount: {}", c["Mounts"]));
        assert_eq!(resolv["RW"], false, "{resolv}");
    }
    assert_resolv_conf(
        exec(&client.container, &["cat", "/etc/resolv.conf"]),
        &[
            "nameserver 127.0.0.11",
            "search corp.example",
            "options ndots:3",
        ],
    );
    let (_, me) = exec(&client.container, &["id", "-u"]);
    assert_eq!(me.trim(), "65534");

    // From the client container: tasks by name, the service by its VIP.
    eventually("tasks.web resolves to the three task addresses", || {
        let names = resolve(&client.container, "tasks.web");
        (names == web_addrs, format!("{names:?}, want {web_addrs:?}"))
    });
    eventually("wget http://web/ from the client", || {
        let (ok, out) = exec(&client.container, &["wget", "-q", "-O", "-", "http://web/"]);
        (ok && out == "hello from web\n", out)
    });
    assert!(
        web.iter().any(|t| t.node != client.node),
        "a web task on another host than the client: {web:?}"
    );
    for t in &web {
        eventually(&format!("web task {} at {} answers", t.id, t.addr), || {
            let url = format!("http://{}/", t.addr);
            let (ok, out) = exec(&client.container, &["wget", "-q", "-O", "-", &url]);
            (ok && out == "hello from web\n", out)
        });
    }
    let sandboxes = containers(SANDBOX_LABEL);
    assert!(sandboxes.len() >= 4, "{sandboxes:?}");

    // A task that ends gives up its sandbox at once (not when the managers
    // remove the task); its own container stays for logs and inspect.
    a.cli_ok(&[
        "service",
        "create",
        "-d",
        "--name",
        "once",
        "--mode",
        "replicated-job",
        "--network",
        "appnet",
        IMAGE,
        "echo",
        "done",
    ]);
    let mut once = String::new();
    wait_until("the job's task completes", T, || {
        once = a
            .cli_ok(&["service", "ps", "-q", "once"])
            .trim()
            .to_string();
        !once.is_empty()
            && a.cli_ok(&["inspect", "--format", "{{.Status.State}}", &once])
                .trim()
                == "complete"
    });
    eventually("the finished task's sandbox is removed", || {
        let left = containers(&format!("{SANDBOX_LABEL}={once}"));
        (left.is_empty(), format!("{left:?}"))
    });
    let kept = containers(&format!("com.docker.swarm.task.id={once}"));
    assert_eq!(kept.len(), 1, "the task's container stays: {kept:?}");
    assert_eq!(
        a.cli_ok(&["service", "logs", "--raw", "once"]).trim(),
        "done"
    );

    // The routing mesh with containers: `pubweb` publishes 8080 with two
    // tasks kept off dhost3; every host's 8080 answers from outside,
    // dhost3's too, both tasks answer, and each sees the client's address.
    create(
        "pubweb",
        "2",
        &["--constraint", "node.hostname!=dhost3", "-p", "8080:80"],
        &["sh", "-c", WHO_SERVER],
    );
    wait_running(a, "pubweb", 2);
    let mut answers = BTreeSet::new();
    for round in 0..10 {
        for i in 0..3 {
            let what = format!("round {round}: dhost{}:8080 from outside", i + 1);
            eventually(&what, || {
                let url = format!("http://{}:8080/cgi-bin/who", lab.addr(i));
                let (ok, out, msgs) = from_outside(&lab, &url);
                let mut w = out.split_whitespace();
                let (id, peer) = (w.next().unwrap_or_default(), w.next().unwrap_or_default());
                // busybox httpd listens on IPv6: "[::ffff:198.18.0.254]".
                let peer = peer.trim_start_matches("[::ffff:").trim_end_matches(']');
                if ok && peer == OUTSIDE {
                    answers.insert(id.to_string());
                    return (true, out);
                }
                (false, format!("{out}{msgs}"))
            });
        }
    }
    assert_eq!(answers.len(), 2, "both pubweb tasks answer: {answers:?}");

    // A worker dies with its tasks running (their sandboxes stay); the
    // rest is removed and leaves nothing: containers, links, tables,
    // namespaces; the dead worker's leftovers go when it restarts.
    let victim = (1..3)
        .find(|i| web.iter().any(|t| t.node == nodes[*i].node_id()))
        .expect("a worker running a web task");
    let victim_id = nodes[victim].node_id();
    nodes[victim].kill9();
    let of_victim = format!("com.docker.swarm.node.id={victim_id}");
    let kept = containers(&of_victim);
    assert!(
        kept.iter()
            .any(|c| sandboxes.contains(c) && inspect(c)["State"]["Running"] == true),
        "the killed worker's sandbox runs on: {kept:?}"
    );
    let a = &nodes[0];
    a.cli_ok(&["service", "rm", "web", "client", "pubweb", "once"]);
    wait_until("appnet removed", T, || {
        a.cli(&["network", "rm", "appnet"]).0
            || !a
                .cli_ok(&["network", "ls", "--format", "{{.Name}}"])
                .lines()
                .any(|l| l == "appnet")
    });
    let nothing_left = |i: usize, n: &TestDaemon, node: &str| {
        eventually(&format!("dhost{} keeps nothing of rswarm's", i + 1), || {
            let mut left = leftovers(&lab.hosts[i], n);
            left.extend(
                containers(&format!("com.docker.swarm.node.id={node}"))
                    .into_iter()
                    .map(|c| format!("container {c}")),
            );
            (left.is_empty(), format!("{left:?}"))
        });
    };
    for (i, n) in nodes.iter().enumerate().filter(|(i, _)| *i != victim) {
        nothing_left(i, n, &n.node_id());
    }
    assert!(!leftovers(&lab.hosts[victim], &nodes[victim]).is_empty());
    assert!(!containers(&of_victim).is_empty());
    nodes[victim].restart_from_stopped();
    nothing_left(victim, &nodes[victim], &victim_id);
    for s in &sandboxes {
        let o = engine(&["inspect", s]);
        assert!(!o.status.success(), "sandbox {s} is still there");
    }
    // Daemons go before their containers' sweep and their namespaces.
    drop(nodes);
    drop(guard);
}
