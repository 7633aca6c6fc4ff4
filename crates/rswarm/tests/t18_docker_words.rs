//! Everyday docker commands give what Docker gives (issue 7, items 2, 5,
//! 6 and 7): `docker inspect` without `--type` finds swarm objects, errors
//! carry Docker's words, inspect JSON has Docker's shape, and a rollback
//! ends the way Docker's does. Both docker CLIs (28.x and 20.10).

mod common;

use std::process::Output;
use std::time::Duration;

use common::{DOCKER_20, DOCKER_28, TestDaemon, wait_until};
use serde_json::Value;

const T: Duration = Duration::from_secs(30);

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn ok(d: &TestDaemon, docker: &str, args: &[&str]) -> String {
    let o = d.docker(docker, args);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{docker} {args:?}: {out}{err}");
    out
}

/// Runs a command that must fail; returns its stderr.
fn fails(d: &TestDaemon, docker: &str, args: &[&str]) -> String {
    let o = d.docker(docker, args);
    let (out, err) = text(&o);
    assert!(!o.status.success(), "{docker} {args:?} succeeded: {out}");
    err
}

fn inspect(d: &TestDaemon, docker: &str, args: &[&str]) -> Value {
    let out = ok(d, docker, args);
    let v: Value = serde_json::from_str(&out).expect("inspect JSON");
    v[0].clone()
}

fn scenario(docker: &str) {
    assert!(
        std::path::Path::new(docker).exists(),
        "{docker} missing: run scripts/setup.sh"
    );
    let d = TestDaemon::start("words");
    d.init();
    ok(
        &d,
        docker,
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
    // Running for real: the task inspected below must have its PID.
    wait_until("2 tasks running", T, || {
        ok(
            &d,
            docker,
            &[
                "service",
                "ps",
                "--filter",
                "desired-state=running",
                "--format",
                "{{.CurrentState}}",
                "web",
            ],
        )
        .lines()
        .filter(|l| l.starts_with("Running"))
        .count()
            == 2
    });

    // Item 2: docker inspect without --type.
    let svc = inspect(&d, docker, &["inspect", "web"]);
    assert_eq!(svc["Spec"]["Name"], "web");
    let task_id = ok(&d, docker, &["service", "ps", "-q", "web"]);
    let task_id = task_id.lines().next().expect("a task");
    let task = inspect(&d, docker, &["inspect", task_id]);
    assert_eq!(task["ServiceID"], svc["ID"]);
    let node = inspect(&d, docker, &["inspect", "words"]);
    assert_eq!(node["Description"]["Hostname"], "words");

    // Item 9: the node reports the issuer of the certificate it holds,
    // which is the cluster's root here, so TLS STATUS is Ready.
    let swarm: Value = serde_json::from_str(&ok(
        &d,
        docker,
        &["info", "--format", "{{json .Swarm.Cluster.TLSInfo}}"],
    ))
    .expect("cluster TLS info");
    let tls = &node["Description"]["TLSInfo"];
    assert!(
        tls["CertIssuerPublicKey"]
            .as_str()
            .is_some_and(|k| !k.is_empty()),
        "{node}"
    );
    assert_eq!(tls, &swarm, "node reports the cluster root as its issuer");
    let status = ok(&d, docker, &["node", "ls", "--format", "{{.TLSStatus}}"]);
    assert_eq!(status.trim(), "Ready");
    let err = fails(&d, docker, &["inspect", "nothing-here"]);
    assert!(err.contains("No such object: nothing-here"), "{err}");

    // Item 6: inspect JSON shape.
    let spec = &svc["Spec"]["TaskTemplate"];
    assert_eq!(spec["Runtime"], "container", "{svc}");
    assert_eq!(spec["ContainerSpec"]["Isolation"], "default", "{svc}");
    assert_eq!(svc["Endpoint"]["Spec"], serde_json::json!({}), "{svc}");
    assert!(task.get("ServiceAnnotations").is_none(), "{task}");
    assert!(
        task["Status"]["ContainerStatus"]["PID"]
            .as_i64()
            .unwrap_or(0)
            > 0,
        "{task}"
    );
    ok(
        &d,
        docker,
        &[
            "service",
            "create",
            "-d",
            "--name",
            "oneshot",
            "--restart-condition",
            "none",
            "busybox",
            "sh",
            "-c",
            "exit 3",
        ],
    );
    wait_until("the oneshot task failed", T, || {
        ok(
            &d,
            docker,
            &["service", "ps", "--format", "{{.CurrentState}}", "oneshot"],
        )
        .starts_with("Failed")
    });
    let done = ok(&d, docker, &["service", "ps", "-q", "oneshot"]);
    let done = inspect(&d, docker, &["inspect", done.trim()]);
    let status = &done["Status"]["ContainerStatus"];
    assert_eq!(
        (status["ExitCode"].as_i64(), status["PID"].as_i64()),
        (Some(3), Some(0)),
        "{done}"
    );

    // Item 5: errors in Docker's words.
    let node_id = d.node_id();
    let err = fails(
        &d,
        docker,
        &["node", "update", "--availability", "bogus", &node_id],
    );
    assert!(err.contains(r#"invalid Availability: "bogus""#), "{err}");
    let err = fails(
        &d,
        docker,
        &[
            "service",
            "create",
            "--restart-condition",
            "bogus",
            "busybox",
            "true",
        ],
    );
    assert!(
        err.contains(r#"invalid RestartCondition: "bogus""#),
        "{err}"
    );
    let err = fails(
        &d,
        docker,
        &["service", "update", "-d", "--update-order", "bogus", "web"],
    );
    assert!(err.contains("unrecognized update order bogus"), "{err}");
    let err = fails(&d, docker, &["service", "ls", "--filter", "bogus=x"]);
    assert!(err.contains("Invalid filter 'bogus'"), "{err}");
    let err = fails(&d, docker, &["node", "demote", &node_id]);
    assert!(
        err.contains("rpc error: code = FailedPrecondition desc = attempting to demote the last manager of the swarm"),
        "{err}"
    );
    let err = fails(
        &d,
        docker,
        &["service", "create", "--name", "WEB", "busybox", "true"],
    );
    assert!(
        err.contains("rpc error: code = AlreadyExists desc = name conflicts with an existing object: service WEB already exists"),
        "{err}"
    );
    let services = ok(&d, docker, &["service", "ls", "-q"]);
    assert_eq!(
        services.lines().count(),
        2,
        "bad input changed nothing: {services}"
    );

    // Item 7: a rollback of a replica-count change ends as Docker's does.
    ok(&d, docker, &["service", "update", "--replicas", "3", "web"]);
    let out = ok(&d, docker, &["service", "rollback", "web"]);
    assert_eq!(
        out.trim_end().lines().last(),
        Some("rollback: rollback completed"),
        "{out}"
    );
    let back = inspect(&d, docker, &["service", "inspect", "web"]);
    assert_eq!(back["Spec"]["Mode"]["Replicated"]["Replicas"], 2);
    assert_eq!(
        back["PreviousSpec"]["TaskTemplate"]["Runtime"], "container",
        "{back}"
    );
}

#[test]
fn docker_28_gets_dockers_words() {
    scenario(DOCKER_28);
}

#[test]
fn docker_20_10_gets_dockers_words() {
    scenario(DOCKER_20);
}
