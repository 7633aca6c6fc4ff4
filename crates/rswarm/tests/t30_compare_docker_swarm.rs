//! The same docker commands against real Docker Swarm (the tests' private
//! Docker engine, [`common::test_engine`], started by `scripts/setup.sh`;
//! never the machine's own) and against rswarm print the same shapes:
//! identical headers, the same columns and the same values where they do
//! not depend on IDs or times.
//!
//! Issue 7's items, side by side with both docker CLIs (28.x and 20.10):
//! `docker inspect` without `--type` (2), errors in Docker's words (5), the
//! JSON of services, tasks, nodes and the swarm (6) and the end of a
//! rollback (7). JSON is compared path by path: every key, its JSON type,
//! and its value unless the value depends on IDs, times, keys or ports;
//! the few keys that legitimately differ are listed (with the reason) next
//! to each kind of object.

mod common;
#[path = "t30/items.rs"]
mod items;
#[path = "t30/json.rs"]
mod json;

use std::process::{Command, Output};
use std::sync::Mutex;
use std::time::Duration;

use common::{DOCKER_20, DOCKER_28, TestDaemon, test_engine, wait_until};
use serde_json::Value;

const IMAGE: &str = "rswarm-test/busybox:latest";

/// The reference engine holds one swarm at a time: the tests take turns.
static REFERENCE: Mutex<()> = Mutex::new(());

fn reference_turn() -> std::sync::MutexGuard<'static, ()> {
    REFERENCE.lock().unwrap_or_else(|e| e.into_inner())
}

fn run(docker_host: &str, args: &[&str]) -> Output {
    run_cli(DOCKER_28, docker_host, args)
}

/// `docker -H <host> args...` with the given docker CLI binary.
fn run_cli(docker: &str, docker_host: &str, args: &[&str]) -> Output {
    Command::new(docker)
        .arg("-H")
        .arg(docker_host)
        .args(args)
        .env(
            "DOCKER_CONFIG",
            std::env::temp_dir().join("rswarm-compare-docker-config"),
        )
        .env_remove("DOCKER_HOST")
        .output()
        .expect("run docker")
}

fn out(docker_host: &str, args: &[&str]) -> String {
    out_cli(DOCKER_28, docker_host, args)
}

fn out_cli(docker: &str, docker_host: &str, args: &[&str]) -> String {
    let o = run_cli(docker, docker_host, args);
    assert!(
        o.status.success(),
        "{docker} -H {docker_host} {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Leaves the reference swarm even when the test fails.
struct ReferenceSwarm;

impl Drop for ReferenceSwarm {
    fn drop(&mut self) {
        let engine = test_engine();
        let services = run(&engine, &["service", "ls", "-q"]);
        for id in String::from_utf8_lossy(&services.stdout).split_whitespace() {
            let _ = run(&engine, &["service", "rm", id]);
        }
        let _ = run(&engine, &["swarm", "leave", "--force"]);
    }
}

fn columns(line: &str) -> Vec<String> {
    line.split("  ")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn docker_prints_the_same_against_rswarm_and_docker_swarm() {
    let _turn = reference_turn();
    let engine = test_engine();
    let dockerd = engine.as_str();
    let ping = run(dockerd, &["version"]);
    assert!(
        ping.status.success(),
        "the reference Docker engine must run: bash scripts/setup.sh starts it"
    );
    let _ = run(dockerd, &["swarm", "leave", "--force"]);
    let _guard = ReferenceSwarm;
    // Same hostname as the reference node, so the NODE/HOSTNAME columns match.
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname");
    let d = TestDaemon::start(hostname.trim());
    let ours = d.host();

    // The same refusals of bad swarm addresses (an interface that does not
    // exist, a data path address with a port), word for word.
    let error_line = |o: &Output| {
        String::from_utf8_lossy(&o.stderr)
            .lines()
            .find(|l| l.starts_with("Error response from daemon:"))
            .unwrap_or_default()
            .to_string()
    };
    for flags in [
        ["--advertise-addr", "nosuchif0"],
        ["--data-path-addr", "lo:4567"],
    ] {
        let listen = format!("lo:{}", common::free_port());
        let mut args = vec!["swarm", "init", "--listen-addr", &listen];
        args.extend(flags);
        let (r, o) = (run(dockerd, &args), run(&ours, &args));
        assert!(!r.status.success() && !o.status.success(), "{flags:?}");
        assert_eq!(error_line(&o), error_line(&r), "swarm init {flags:?}");
        assert!(!error_line(&r).is_empty(), "{flags:?}");
    }

    // Loopback only and its own ports: the reference swarm stays private.
    let listen_ref = format!("127.0.0.1:{}", common::free_port());
    let init_ref = out(
        dockerd,
        &[
            "swarm",
            "init",
            "--advertise-addr",
            "127.0.0.1",
            "--listen-addr",
            &listen_ref,
            "--data-path-port",
            "4790",
        ],
    );
    let listen = format!("127.0.0.1:{}", common::free_port());
    let init_ours = out(
        &ours,
        &[
            "swarm",
            "init",
            "--advertise-addr",
            "127.0.0.1",
            "--listen-addr",
            &listen,
        ],
    );
    let shape = |s: &str| {
        s.lines()
            .map(|l| {
                l.split_whitespace()
                    .filter(|w| {
                        !w.starts_with("SWMTKN-1-")
                            && !w.starts_with('(')
                            && !w.starts_with("127.0.0.1:")
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        shape(&init_ours),
        shape(&init_ref),
        "swarm init output\nours:\n{init_ours}\nreference:\n{init_ref}"
    );

    // Service names that are not DNS labels: the same refusal.
    for name in ["a.b", "abc-"] {
        let args = [
            "service", "create", "-d", "--name", name, IMAGE, "sleep", "1",
        ];
        let (r, o) = (run(dockerd, &args), run(&ours, &args));
        assert!(!r.status.success() && !o.status.success(), "{name}");
        assert_eq!(
            error_line(&o),
            error_line(&r),
            "service create --name {name}"
        );
        assert!(error_line(&r).contains("DNS name component"), "{name}");
    }

    for host in [dockerd, ours.as_str()] {
        let o = run(
            host,
            &[
                "service",
                "create",
                "-d",
                "--name",
                "cmp",
                "--replicas",
                "2",
                IMAGE,
                "sleep",
                "1000",
            ],
        );
        assert!(
            o.status.success(),
            "{host}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        wait_until(&format!("2/2 on {host}"), Duration::from_secs(60), || {
            out(host, &["service", "ls"]).contains("2/2")
        });
    }

    for args in [
        vec!["service", "ls"],
        vec!["node", "ls"],
        vec!["service", "ps", "cmp"],
    ] {
        let r = out(dockerd, &args);
        let o = out(&ours, &args);
        let (rh, oh) = (
            r.lines().next().unwrap_or_default(),
            o.lines().next().unwrap_or_default(),
        );
        assert_eq!(
            columns(oh),
            columns(rh),
            "{args:?} header\nours:\n{o}\nreference:\n{r}"
        );
        assert_eq!(
            o.lines().count(),
            r.lines().count(),
            "{args:?} rows\nours:\n{o}\nreference:\n{r}"
        );
        for (ol, rl) in o.lines().zip(r.lines()).skip(1) {
            let (oc, rc) = (columns(ol), columns(rl));
            assert_eq!(
                oc.len(),
                rc.len(),
                "{args:?} columns\nours: {ol}\nreference: {rl}"
            );
        }
    }

    let ls = |host: &str| {
        let s = out(
            host,
            &[
                "service",
                "ls",
                "--format",
                "{{.Name}} {{.Mode}} {{.Replicas}} {{.Image}} {{.Ports}}",
            ],
        );
        s.trim().to_string()
    };
    assert_eq!(ls(&ours), ls(dockerd));
    let nodes = |host: &str| {
        out(
            host,
            &[
                "node",
                "ls",
                "--format",
                "{{.Self}} {{.Status}} {{.Availability}} {{.ManagerStatus}}",
            ],
        )
    };
    assert_eq!(nodes(&ours), nodes(dockerd));
    let tasks = |host: &str| {
        let mut v: Vec<String> = out(
            host,
            &[
                "service",
                "ps",
                "--format",
                "{{.Name}} {{.Image}} {{.DesiredState}}",
                "cmp",
            ],
        )
        .lines()
        .map(str::to_string)
        .collect();
        v.sort();
        v
    };
    assert_eq!(tasks(&ours), tasks(dockerd));
    for fmt in [
        "{{json .Spec.Mode}}",
        "{{json .Spec.Labels}}",
        "{{.Spec.TaskTemplate.ContainerSpec.Image}}",
    ] {
        let r = out(dockerd, &["service", "inspect", "--format", fmt, "cmp"]);
        let o = out(&ours, &["service", "inspect", "--format", fmt, "cmp"]);
        assert_eq!(o, r, "service inspect --format {fmt}");
    }
    let tok = |host: &str| {
        out(host, &["swarm", "join-token", "worker"])
            .split_whitespace()
            .filter(|w| !w.starts_with("SWMTKN-1-") && !w.contains(':'))
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(tok(&ours), tok(dockerd));
}
