//! The stock docker CLI (28.x and Debian's 20.10) drives rswarm, and its
//! output has the shape docker prints against Docker Swarm.

mod common;

use std::process::Output;
use std::time::Duration;

use common::{DOCKER_20, DOCKER_28, TestDaemon, service_pids, wait_until};

const T: Duration = Duration::from_secs(30);

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn must(d: &TestDaemon, docker: &str, args: &[&str]) -> String {
    let o = d.docker(docker, args);
    assert!(
        o.status.success(),
        "{docker} {args:?} failed ({}):\nstdout: {}\nstderr: {}\ndaemon log:\n{}",
        o.status,
        stdout(&o),
        String::from_utf8_lossy(&o.stderr),
        d.log()
    );
    stdout(&o)
}

fn require(docker: &str) {
    assert!(
        std::path::Path::new(docker).exists(),
        "{docker} is missing: run .ci/run (or shared/tools/docker-engine-up) to install Debian's docker.io"
    );
}

fn scenario(docker: &str, hostname: &str) {
    require(docker);
    let d = TestDaemon::start(hostname);
    let listen = format!("127.0.0.1:{}", common::free_port());
    let init = must(
        &d,
        docker,
        &[
            "swarm",
            "init",
            "--advertise-addr",
            "127.0.0.1",
            "--listen-addr",
            &listen,
        ],
    );
    assert!(init.contains("Swarm initialized: current node ("), "{init}");
    assert!(
        init.contains("docker swarm join --token SWMTKN-1-"),
        "{init}"
    );

    let nodes = must(&d, docker, &["node", "ls"]);
    let header = nodes.lines().next().unwrap_or_default();
    assert!(
        header.starts_with("ID")
            && header.contains("HOSTNAME")
            && header.contains("MANAGER STATUS"),
        "{nodes}"
    );
    let row = nodes.lines().nth(1).unwrap_or_default();
    assert!(
        row.contains(" * ") && row.contains(hostname) && row.contains("Ready"),
        "{nodes}"
    );
    assert!(row.contains("Active") && row.contains("Leader"), "{nodes}");

    let tls = must(&d, docker, &["node", "ls", "--format", "{{.TLSStatus}}"]);
    assert_eq!(
        tls.trim(),
        "Ready",
        "node certificates are issued by the cluster root"
    );
    let pretty = must(&d, docker, &["node", "inspect", "--pretty", "self"]);
    assert!(
        pretty.contains("TrustRoot:") && pretty.contains("BEGIN CERTIFICATE"),
        "{pretty}"
    );

    // Not detached: docker waits for convergence through the progress loop.
    let created = must(
        &d,
        docker,
        &[
            "service",
            "create",
            "--name",
            "web",
            "--replicas",
            "3",
            "busybox",
            "sleep",
            "1000",
        ],
    );
    assert!(created.contains("converged"), "{created}");
    let id = created
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    assert_eq!(
        service_pids(&id).len(),
        3,
        "3 real processes after convergence"
    );

    let ls = must(&d, docker, &["service", "ls"]);
    assert!(
        ls.lines()
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .eq(["ID", "NAME", "MODE", "REPLICAS", "IMAGE", "PORTS"]),
        "{ls}"
    );
    assert!(
        ls.contains("web") && ls.contains("replicated") && ls.contains("3/3"),
        "{ls}"
    );

    let scaled = must(&d, docker, &["service", "scale", "web=5"]);
    assert!(
        scaled.contains("web scaled to 5") && scaled.contains("converged"),
        "{scaled}"
    );
    assert_eq!(service_pids(&id).len(), 5);

    let ps = must(&d, docker, &["service", "ps", "web"]);
    assert_eq!(
        ps.lines().filter(|l| l.contains("Running")).count(),
        5,
        "{ps}"
    );
    let inspect = must(
        &d,
        docker,
        &[
            "service",
            "inspect",
            "--format",
            "{{.Spec.Mode.Replicated.Replicas}}",
            "web",
        ],
    );
    assert_eq!(inspect.trim(), "5");

    let updated = must(&d, docker, &["service", "update", "--replicas", "2", "web"]);
    assert!(updated.contains("converged"), "{updated}");
    wait_until("2 processes", T, || service_pids(&id).len() == 2);

    must(
        &d,
        docker,
        &["node", "update", "--availability", "drain", hostname],
    );
    wait_until("drained", T, || service_pids(&id).is_empty());
    must(
        &d,
        docker,
        &["node", "update", "--availability", "active", hostname],
    );
    wait_until("back after drain", T, || service_pids(&id).len() == 2);

    let rm = must(&d, docker, &["service", "rm", "web"]);
    assert_eq!(rm.trim(), "web");
    wait_until("no process left", T, || service_pids(&id).is_empty());

    let missing = d.docker(docker, &["service", "inspect", "web"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no such service: web"));

    let left = must(&d, docker, &["swarm", "leave", "--force"]);
    assert!(left.contains("Node left the swarm."), "{left}");
}

#[test]
fn docker_28_drives_rswarm() {
    scenario(DOCKER_28, "docker28-node");
}

#[test]
fn docker_20_10_drives_rswarm() {
    scenario(DOCKER_20, "docker20-node");
}

fn multi_node(docker: &str, prefix: &str) {
    require(docker);
    let m = TestDaemon::start(&format!("{prefix}-m"));
    let w = TestDaemon::start(&format!("{prefix}-w"));
    let listen = format!("127.0.0.1:{}", common::free_port());
    must(
        &m,
        docker,
        &[
            "swarm",
            "init",
            "--advertise-addr",
            "127.0.0.1",
            "--listen-addr",
            &listen,
        ],
    );
    let token = must(&m, docker, &["swarm", "join-token", "-q", "worker"]);
    let joined = must(
        &w,
        docker,
        &[
            "swarm",
            "join",
            "--token",
            token.trim(),
            "--advertise-addr",
            "127.0.0.2",
            &listen,
        ],
    );
    assert!(
        joined.contains("This node joined a swarm as a worker."),
        "{joined}"
    );
    wait_until("2 ready nodes", T, || {
        must(&m, docker, &["node", "ls"])
            .lines()
            .filter(|l| l.contains("Ready"))
            .count()
            == 2
    });
    let created = must(
        &m,
        docker,
        &[
            "service",
            "create",
            "--name",
            "pair",
            "--replicas",
            "4",
            "busybox",
            "sleep",
            "1000",
        ],
    );
    assert!(created.contains("converged"), "{created}");
    let ps = must(&m, docker, &["node", "ps", &format!("{prefix}-w")]);
    assert_eq!(
        ps.lines().filter(|l| l.contains("Running")).count(),
        2,
        "{ps}"
    );
    let on_worker = w.docker(docker, &["node", "ls"]);
    assert!(!on_worker.status.success());
    assert!(
        String::from_utf8_lossy(&on_worker.stderr)
            .contains("Worker nodes can't be used to view or modify cluster state")
    );
    let left = must(&w, docker, &["swarm", "leave"]);
    assert!(left.contains("Node left the swarm."), "{left}");
    must(
        &m,
        docker,
        &["node", "rm", "--force", &format!("{prefix}-w")],
    );
    wait_until("4 tasks back on the manager", T, || {
        must(&m, docker, &["service", "ls"]).contains("4/4")
    });
}

#[test]
fn docker_28_joins_and_manages_nodes() {
    multi_node(DOCKER_28, "d28");
}

#[test]
fn docker_20_10_joins_and_manages_nodes() {
    multi_node(DOCKER_20, "d20");
}
