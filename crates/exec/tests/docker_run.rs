//! The docker executor against the real engine: exit codes, output in the
//! log store, the container's name, labels and config, removal, a missing
//! image, the engine's facts. Needs `bash scripts/setup.sh` first.

#![allow(clippy::unwrap_used)]

mod dockerkit;

use dockerkit::{IMAGE, Kit, texts};
use futures_util::StreamExt;
use rswarm_exec::docker::{
    LABEL_NODE_ID, LABEL_SERVICE_ID, LABEL_SERVICE_NAME, LABEL_TASK, LABEL_TASK_ID, LABEL_TASK_NAME,
};
use rswarm_exec::{DockerExecutor, ExecError, Executor, ExitStatus, LogStore, LogStream};
use rswarm_types::{ContainerSpec, ResourceRequirements, Resources};

#[tokio::test]
async fn exit_code_and_both_streams_reach_the_log() {
    let kit = Kit::new("run").await;
    let t = kit.task("run", &["sh", "-c", "echo hi; echo err >&2; exit 3"]);
    let ctl = kit.exec.controller(&t).unwrap();
    ctl.prepare().await.unwrap();
    assert!(ctl.container_id().is_some(), "created in prepare");
    ctl.start().await.unwrap();
    assert_eq!(
        ctl.wait().await.unwrap(),
        ExitStatus {
            code: 3,
            signal: None
        }
    );
    assert_eq!(ctl.wait().await.unwrap().code, 3, "wait is repeatable");

    let lines = kit.logs.read(&t.id, None, None).await.unwrap();
    let of = |s: LogStream| {
        lines
            .iter()
            .filter(|l| l.stream == s)
            .map(|l| l.line.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(of(LogStream::Stdout), ["hi"]);
    assert_eq!(of(LogStream::Stderr), ["err"]);
    // The log was closed when the container ended: following it ends.
    let followed: Vec<_> = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        kit.logs.follow(&t.id, None, None).collect::<Vec<_>>(),
    )
    .await
    .expect("the log is closed");
    assert_eq!(texts(&followed).len(), 2);

    ctl.remove().await.unwrap();
}

#[tokio::test]
async fn exit_zero_and_output_without_newline() {
    let kit = Kit::new("zero").await;
    let t = kit.task("zero", &["sh", "-c", "echo one; printf 'two'"]);
    let ctl = kit.exec.controller(&t).unwrap();
    ctl.start().await.unwrap();
    assert_eq!(ctl.wait().await.unwrap().code, 0);
    let lines = kit.logs.read(&t.id, None, None).await.unwrap();
    assert_eq!(texts(&lines), ["one", "two"]);
    ctl.remove().await.unwrap();
}

#[tokio::test]
async fn the_container_carries_the_spec_name_and_swarm_labels() {
    let kit = Kit::new("labels").await;
    let mut spec = ContainerSpec {
        image: IMAGE.into(),
        command: vec!["sh".into(), "-c".into()],
        args: vec!["sleep 1000".into()],
        env: vec!["GREETING=hello".into()],
        dir: "/bin".into(),
        user: "12:34".into(),
        hostname: "boxhost".into(),
        stop_signal: "SIGINT".into(),
        stop_grace_period: Some(3_000_000_000),
        ..Default::default()
    };
    spec.labels.insert("app".into(), "shop".into());
    let mut t = kit.task_with("labels", spec);
    t.spec.resources = Some(ResourceRequirements {
        limits: Some(Resources {
            nano_cpus: 500_000_000,
            memory_bytes: 64 << 20,
            ..Default::default()
        }),
        reservations: None,
    });
    let ctl = kit.exec.controller(&t).unwrap();
    ctl.prepare().await.unwrap();
    let id = ctl.container_id().unwrap();
    let c = kit.inspect(&id).await.expect("container exists");
    let name = format!("{}.2.{}", t.service_annotations.name, t.id);
    assert_eq!(c.name.as_deref(), Some(format!("/{name}").as_str()));

    let config = c.config.unwrap();
    let labels = config.labels.unwrap();
    let get = |k: &str| labels.get(k).map(String::as_str);
    assert_eq!(get(LABEL_SERVICE_ID), Some(t.service_id.as_str()));
    assert_eq!(
        get(LABEL_SERVICE_NAME),
        Some(t.service_annotations.name.as_str())
    );
    assert_eq!(get(LABEL_TASK_ID), Some(t.id.as_str()));
    assert_eq!(get(LABEL_TASK_NAME), Some(name.as_str()));
    assert_eq!(get(LABEL_TASK), Some(""));
    assert_eq!(get(LABEL_NODE_ID), Some(kit.node_id.as_str()));
    assert_eq!(get("app"), Some("shop"));

    let strings = |v: &[&str]| Some(v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(config.entrypoint, strings(&["sh", "-c"]));
    assert_eq!(config.cmd, strings(&["sleep 1000"]));
    assert!(
        config
            .env
            .unwrap_or_default()
            .contains(&"GREETING=hello".to_string())
    );
    assert_eq!(config.working_dir.as_deref(), Some("/bin"));
    assert_eq!(config.user.as_deref(), Some("12:34"));
    assert_eq!(config.hostname.as_deref(), Some("boxhost"));
    assert_eq!(config.stop_signal.as_deref(), Some("SIGINT"));
    assert_eq!(config.stop_timeout, Some(3));
    let hc = c.host_config.unwrap();
    assert_eq!(hc.nano_cpus, Some(500_000_000));
    assert_eq!(hc.memory, Some(64 << 20));

    // Started, it reports a real PID.
    assert!(ctl.start().await.unwrap() > 0);
    ctl.remove().await.unwrap();
}

#[tokio::test]
async fn remove_leaves_no_container() {
    let kit = Kit::new("rm").await;
    let t = kit.task_with(
        "rm",
        ContainerSpec {
            image: IMAGE.into(),
            args: vec!["sleep".into(), "1000".into()],
            stop_grace_period: Some(1_000_000_000),
            ..Default::default()
        },
    );
    let ctl = kit.exec.controller(&t).unwrap();
    ctl.start().await.unwrap();
    let id = ctl.container_id().unwrap();
    assert_eq!(kit.containers_of(&kit.node_id).await, vec![id.clone()]);
    ctl.remove().await.unwrap();
    assert!(kit.inspect(&id).await.is_none(), "container removed");
    assert!(kit.containers_of(&kit.node_id).await.is_empty());
    // The running container was stopped first: wait resolves.
    assert!(ctl.wait().await.is_ok());
    // Removing again is fine.
    ctl.remove().await.unwrap();
}

#[tokio::test]
async fn a_missing_image_is_a_clear_error() {
    let kit = Kit::new("noimage").await;
    let image = format!("rswarm-test/{}:latest", dockerkit::unique("absent"));
    let t = kit.task_with(
        "noimage",
        ContainerSpec {
            image: image.clone(),
            args: vec!["true".into()],
            ..Default::default()
        },
    );
    let ctl = kit.exec.controller(&t).unwrap();
    let err = ctl.prepare().await.unwrap_err();
    assert!(matches!(err, ExecError::InvalidSpec(_)), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "image {image} not found locally and could not be pulled: "
        )),
        "{msg}"
    );
    assert!(kit.containers_of(&kit.node_id).await.is_empty());
    assert!(
        kit.logs.read(&t.id, None, None).await.unwrap().is_empty(),
        "no log for a task that never had a container"
    );
}

#[tokio::test]
async fn a_command_that_does_not_exist_fails_to_start() {
    let kit = Kit::new("nocmd").await;
    let t = kit.task("nocmd", &["/no/such/program"]);
    let ctl = kit.exec.controller(&t).unwrap();
    ctl.prepare().await.unwrap();
    let err = ctl.start().await.unwrap_err();
    assert!(matches!(err, ExecError::StartFailed(_)), "{err:?}");
    assert!(err.to_string().contains("/no/such/program"), "{err}");
    assert!(
        kit.containers_of(&kit.node_id).await.is_empty(),
        "a container that never ran is removed"
    );
}

#[tokio::test]
async fn describes_the_engine() {
    let kit = Kit::new("describe").await;
    let d = kit.exec.describe();
    assert_eq!(d.runtime, "docker");
    assert_eq!(d.os, "linux");
    assert!(!d.architecture.is_empty());
    assert!(d.nano_cpus >= 1_000_000_000 && d.nano_cpus % 1_000_000_000 == 0);
    assert!(d.memory_bytes > 0);
}

#[tokio::test]
async fn no_engine_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("nothing.sock");
    let err = DockerExecutor::connect(
        Some(sock.to_str().unwrap()),
        LogStore::new(dir.path()),
        "n".into(),
    )
    .await
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&format!(
            "cannot reach the Docker engine at unix://{}",
            sock.display()
        )),
        "{msg}"
    );
}

#[tokio::test]
async fn terminal_output_is_logged_as_stdout_lines() {
    let kit = Kit::new("tty").await;
    let t = kit.task_with(
        "tty",
        ContainerSpec {
            image: IMAGE.into(),
            args: vec![
                "sh".into(),
                "-c".into(),
                "echo tty-1; echo tty-2 >&2".into(),
            ],
            tty: true,
            ..Default::default()
        },
    );
    let ctl = kit.exec.controller(&t).unwrap();
    ctl.start().await.unwrap();
    assert_eq!(ctl.wait().await.unwrap().code, 0);
    let lines = kit.logs.read(&t.id, None, None).await.unwrap();
    assert_eq!(texts(&lines), ["tty-1", "tty-2"]);
    assert!(lines.iter().all(|l| l.stream == LogStream::Stdout));
    ctl.remove().await.unwrap();
}
