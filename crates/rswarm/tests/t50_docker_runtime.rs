//! `--runtime docker`: a daemon whose tasks are real containers on the
//! tests' private Docker engine ([`common::test_engine`], never the
//! machine's own), checked with the docker CLI against that engine. Needs
//! `bash scripts/setup.sh` (engine and the local image
//! `rswarm-test/busybox:latest`); without it the tests fail.

mod common;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{DOCKER_28, TestDaemon, test_engine, wait_until};

const T: Duration = Duration::from_secs(60);
const IMAGE: &str = "rswarm-test/busybox:latest";

/// The docker CLI against the tests' engine (not rswarm).
fn engine(args: &[&str]) -> Output {
    Command::new(DOCKER_28)
        .args(["-H", &test_engine()])
        .args(args)
        .env_remove("DOCKER_HOST")
        .output()
        .expect("run docker")
}

/// Fails the test (never skips) when the engine or the image is missing.
fn engine_ready() {
    let v = engine(&["version", "--format", "{{.Server.Version}}"]);
    assert!(
        v.status.success(),
        "no Docker engine answers on {}: {}\nstart it with: bash scripts/setup.sh",
        test_engine(),
        String::from_utf8_lossy(&v.stderr)
    );
    let i = engine(&["image", "inspect", IMAGE]);
    assert!(
        i.status.success(),
        "the test image {IMAGE} is missing: build it with: bash scripts/setup.sh"
    );
}

/// A service name no parallel test or earlier run uses.
fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{name}-{}-{nanos:x}", std::process::id())
}

/// IDs of the engine's containers with `label` (`all`: stopped ones too).
fn containers(label: &str, all: bool) -> Vec<String> {
    let filter = format!("label={label}");
    let mut args = vec!["ps", "-q", "--no-trunc", "--filter", &filter];
    if all {
        args.push("-a");
    }
    let o = engine(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// `docker inspect` of one container.
fn inspect(id: &str) -> serde_json::Value {
    let o = engine(&["inspect", id]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("inspect json");
    v[0].clone()
}

/// Removes every container of a node when dropped, whatever the test did.
struct NodeContainers(String);

impl Drop for NodeContainers {
    fn drop(&mut self) {
        let ids = containers(&format!("com.docker.swarm.node.id={}", self.0), true);
        if !ids.is_empty() {
            let mut args = vec!["rm", "-f"];
            args.extend(ids.iter().map(String::as_str));
            let _ = engine(&args);
        }
    }
}

/// `service create -d -q` with a short grace period (`sleep` as PID 1
/// ignores SIGTERM: stopping waits the grace period out).
fn create(d: &TestDaemon, args: &[&str]) -> String {
    let mut full = vec!["service", "create", "-d", "-q", "--stop-grace-period", "1s"];
    full.extend_from_slice(args);
    d.ok(&full).trim().to_string()
}

#[test]
fn services_run_as_labelled_containers() {
    engine_ready();
    let d = TestDaemon::start_with_runtime("docker-node", "docker");
    d.init();
    let node = d.node_id();
    let _cleanup = NodeContainers(node.clone());
    let labels = &d.get_json(&format!("/nodes/{node}"))["Description"]["Engine"]["Labels"];
    assert_eq!(labels["rswarm.runtime"], "docker", "{labels}");

    let name = unique("dock");
    let id = create(
        &d,
        &["--name", &name, "--replicas", "3", IMAGE, "sleep", "1000"],
    );
    let of_service = format!("com.docker.swarm.service.id={id}");
    wait_until("3 running containers", T, || {
        containers(&of_service, false).len() == 3
    });
    let running = containers(&of_service, false);
    for c in &running {
        let c = inspect(c);
        let l = &c["Config"]["Labels"];
        assert_eq!(l["com.docker.swarm.node.id"], node.as_str(), "{l}");
        assert_eq!(l["com.docker.swarm.service.name"], name.as_str(), "{l}");
        let task_id = l["com.docker.swarm.task.id"].as_str().unwrap_or_default();
        let task_name = l["com.docker.swarm.task.name"].as_str().unwrap_or_default();
        assert!(
            task_name.starts_with(&format!("{name}.")) && task_name.ends_with(task_id),
            "{l}"
        );
        assert_eq!(c["Name"], format!("/{task_name}"));
        assert_eq!(c["Config"]["Image"], IMAGE);
        assert_eq!(c["Config"]["Cmd"], serde_json::json!(["sleep", "1000"]));
        assert_eq!(c["State"]["Running"], true);
    }
    // Tasks report their container's ID.
    let tasks = d.get_json("/tasks");
    let reported: Vec<&str> = tasks
        .as_array()
        .expect("tasks")
        .iter()
        .filter(|t| t["ServiceID"] == id.as_str() && t["Status"]["State"] == "running")
        .filter_map(|t| t["Status"]["ContainerStatus"]["ContainerID"].as_str())
        .collect();
    assert_eq!(reported.len(), 3, "{tasks}");
    assert!(reported.iter().all(|c| running.iter().any(|r| r == c)));

    d.ok(&["service", "scale", "-d", &format!("{name}=1")]);
    wait_until("1 container left (the others removed)", T, || {
        containers(&of_service, true).len() == 1
    });
    assert_eq!(containers(&of_service, false).len(), 1);

    let talker = unique("talk");
    let talker_id = create(
        &d,
        &[
            "--name",
            &talker,
            IMAGE,
            "sh",
            "-c",
            "echo hello-from-a-container; echo oops >&2; sleep 1000",
        ],
    );
    wait_until("service logs show the container's output", T, || {
        let o = d.rswarm(&["service", "logs", &talker]);
        let out = String::from_utf8_lossy(&o.stdout);
        let err = String::from_utf8_lossy(&o.stderr);
        out.contains("hello-from-a-container") && err.contains("oops")
    });
    let o = d.rswarm(&["service", "logs", "--raw", "--no-task-ids", &talker]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.lines().any(|l| l == "hello-from-a-container"), "{out}");

    d.ok(&["service", "rm", &name, &talker]);
    let of_talker = format!("com.docker.swarm.service.id={talker_id}");
    wait_until("service rm leaves no container", T, || {
        containers(&of_service, true).is_empty() && containers(&of_talker, true).is_empty()
    });
}

#[test]
fn stopping_the_daemon_removes_its_containers() {
    engine_ready();
    let mut d = TestDaemon::start_with_runtime("docker-stop-node", "docker");
    d.init();
    let node = d.node_id();
    let _cleanup = NodeContainers(node.clone());
    let of_node = format!("com.docker.swarm.node.id={node}");
    let name = unique("stop");
    create(
        &d,
        &["--name", &name, "--replicas", "2", IMAGE, "sleep", "1000"],
    );
    wait_until("2 running containers", T, || {
        containers(&of_node, false).len() == 2
    });
    d.stop();
    assert!(
        containers(&of_node, true).is_empty(),
        "a stopped daemon leaves no container"
    );
    // Back up, the tasks run again as new containers.
    d.restart_from_stopped();
    wait_until("2 running containers after the restart", T, || {
        containers(&of_node, false).len() == 2
    });
    d.ok(&["service", "rm", &name]);
    wait_until("no container after service rm", T, || {
        containers(&of_node, true).is_empty()
    });
}

#[test]
fn runtime_docker_without_an_engine_fails_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = format!("unix://{}", dir.path().join("rswarm.sock").display());
    let nowhere = format!("unix://{}", dir.path().join("no-engine.sock").display());
    let mut child = Command::new(common::rswarm_bin())
        .args(["daemon", "-H", &sock, "--data-root"])
        .arg(dir.path().join("data"))
        .args(["--runtime", "docker", "--docker-host", &nowhere])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn daemon");
    let deadline = Instant::now() + T;
    let status = loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the daemon kept running without an engine");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = child.wait_with_output().expect("output");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!status.success());
    assert!(
        err.contains("--runtime docker") && err.contains("cannot reach the Docker engine"),
        "{err}"
    );
}
