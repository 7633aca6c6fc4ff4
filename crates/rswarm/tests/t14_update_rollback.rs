//! Rolling updates and rollbacks, checked on the task processes.

mod common;

use std::time::Duration;

use common::{DOCKER_28, TestDaemon, pids_with_env, service_pids, wait_until};

const T: Duration = Duration::from_secs(60);

/// Values of `key` in the environments of the service's task processes.
fn env_values(service: &str, key: &str) -> Vec<String> {
    let mut v: Vec<String> = service_pids(service)
        .into_iter()
        .filter_map(|pid| std::fs::read(format!("/proc/{pid}/environ")).ok())
        .filter_map(|env| {
            env.split(|b| *b == 0)
                .filter_map(|kv| std::str::from_utf8(kv).ok())
                .find_map(|kv| kv.strip_prefix(&format!("{key}=")).map(str::to_string))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn update_replaces_tasks_rollback_restores_them_and_force_restarts() {
    let d = TestDaemon::start("upd-node");
    d.init();
    let id = d
        .ok(&[
            "service",
            "create",
            "-d",
            "-q",
            "--name",
            "web",
            "--replicas",
            "3",
            "--env",
            "LEVEL=1",
            "--update-delay",
            "100ms",
            "busybox",
            "sleep",
            "1000",
        ])
        .trim()
        .to_string();
    wait_until("3 tasks at LEVEL=1", T, || {
        env_values(&id, "LEVEL") == vec!["1"; 3]
    });
    let before = service_pids(&id);

    let out = d.ok(&["service", "update", "--env-add", "LEVEL=2", "web"]);
    assert!(out.contains("converged"), "{out}");
    assert_eq!(
        env_values(&id, "LEVEL"),
        vec!["2"; 3],
        "every task replaced"
    );
    assert!(service_pids(&id).iter().all(|p| !before.contains(p)));
    // The CLI stops at convergence; the update is marked completed once
    // its last task passed the monitor period (as in Swarm).
    wait_until("the update is completed", T, || {
        d.get_json(&format!("/services/{id}"))["UpdateStatus"]["State"] == "completed"
    });
    let svc = d.get_json(&format!("/services/{id}"));
    assert_eq!(
        svc["PreviousSpec"]["TaskTemplate"]["ContainerSpec"]["Env"][0],
        "LEVEL=1"
    );
    let ps = d.ok(&["service", "ps", "web"]);
    assert_eq!(
        ps.lines()
            .filter(|l| l.contains("\\_ web.") && l.contains("Shutdown"))
            .count(),
        3,
        "{ps}"
    );

    let out = d.ok(&["service", "rollback", "web"]);
    assert!(out.contains("rollback"), "{out}");
    wait_until("back to LEVEL=1", T, || {
        env_values(&id, "LEVEL") == vec!["1"; 3]
    });
    wait_until("rollback completed", T, || {
        d.get_json(&format!("/services/{id}"))["UpdateStatus"]["State"] == "rollback_completed"
    });

    let old = service_pids(&id);
    let o = d.docker(DOCKER_28, &["service", "update", "--force", "web"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("converged"));
    let new = service_pids(&id);
    assert_eq!(new.len(), 3);
    assert!(
        new.iter().all(|p| !old.contains(p)),
        "--force replaced every task"
    );
    assert_eq!(
        pids_with_env("LEVEL", "1")
            .iter()
            .filter(|p| new.contains(p))
            .count(),
        3
    );

    let bad = d.rswarm(&["service", "update", "--name-does-not-exist", "web"]);
    assert!(!bad.status.success());

    // A valid spec at a stale version: Docker's "update out of sequence"
    // (500), and nothing changes; the same body at the current version
    // goes through.
    let svc = d.get_json(&format!("/services/{id}"));
    let version = svc["Version"]["Index"].as_u64().expect("version");
    let mut spec = svc["Spec"].clone();
    spec["Labels"]["stale"] = "no".into();
    let body = spec.to_string();
    let stale = d.http(
        "POST",
        &format!("/v1.51/services/{id}/update?version={}", version - 1),
        Some(&body),
    );
    assert_eq!(
        (stale.status, stale.message().as_str()),
        (
            500,
            "rpc error: code = Unknown desc = update out of sequence"
        ),
        "{}",
        stale.body
    );
    let after = d.get_json(&format!("/services/{id}"));
    assert_eq!(after["Version"]["Index"].as_u64(), Some(version));
    assert!(after["Spec"]["Labels"].get("stale").is_none(), "{after}");
    let current = d.http(
        "POST",
        &format!("/v1.51/services/{id}/update?version={version}"),
        Some(&body),
    );
    assert_eq!(current.status, 200, "{}", current.body);
    assert_eq!(
        d.get_json(&format!("/services/{id}"))["Spec"]["Labels"]["stale"],
        "no"
    );
}
