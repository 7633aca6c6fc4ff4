//! Stopping and cleaning up docker tasks on the real engine: shutdown
//! with the grace period and the stop signal, shutdown before start, and
//! the leftover cleanup by node label. Needs `bash scripts/setup.sh` first.

#![allow(clippy::unwrap_used)]

mod dockerkit;

use dockerkit::{IMAGE, Kit, texts};
use rswarm_exec::{ExecError, Executor};
use rswarm_types::ContainerSpec;

fn spec(args: &[&str], grace_secs: i64, stop_signal: &str) -> ContainerSpec {
    ContainerSpec {
        image: IMAGE.into(),
        args: args.iter().map(|s| s.to_string()).collect(),
        stop_grace_period: Some(grace_secs * 1_000_000_000),
        stop_signal: stop_signal.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_long_sleep_is_killed_after_a_short_grace_period() {
    let kit = Kit::new("grace").await;
    // `sleep` as PID 1 of its container ignores SIGTERM: only the kill
    // after the grace period ends it.
    let t = kit.task_with("grace", spec(&["sleep", "1000"], 1, ""));
    let ctl = kit.exec.controller(&t).unwrap();
    let pid = ctl.start().await.unwrap();
    assert!(pid > 0);
    ctl.shutdown().await.unwrap();
    let exit = ctl.wait().await.unwrap();
    assert_eq!(exit.code, 137, "SIGKILL, as docker reports it");
    let c = kit.inspect(&ctl.container_id().unwrap()).await.unwrap();
    assert_eq!(c.state.unwrap().running, Some(false));
    // Idempotent.
    ctl.shutdown().await.unwrap();
    ctl.remove().await.unwrap();
    assert!(kit.containers_of(&kit.node_id).await.is_empty());
}

#[tokio::test]
async fn the_stop_signal_reaches_the_container() {
    let kit = Kit::new("signal").await;
    let script = "trap 'echo got INT; exit 0' INT; echo ready; while true; do sleep 0.1; done";
    let t = kit.task_with("signal", spec(&["sh", "-c", script], 30, "SIGINT"));
    let ctl = kit.exec.controller(&t).unwrap();
    ctl.start().await.unwrap();
    let mut ready = false;
    for _ in 0..200 {
        let lines = kit.logs.read(&t.id, None, None).await.unwrap();
        if texts(&lines).contains(&"ready") {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(ready, "the task never printed ready");
    ctl.shutdown().await.unwrap();
    assert_eq!(ctl.wait().await.unwrap().code, 0, "the trap exited 0");
    let lines = kit.logs.read(&t.id, None, None).await.unwrap();
    assert_eq!(texts(&lines), ["ready", "got INT"]);
    ctl.remove().await.unwrap();
}

#[tokio::test]
async fn shutdown_before_start_cancels_the_task() {
    let kit = Kit::new("cancel").await;
    let t = kit.task("cancel", &["sleep", "1000"]);
    let ctl = kit.exec.controller(&t).unwrap();
    ctl.prepare().await.unwrap();
    let id = ctl.container_id().unwrap();
    ctl.shutdown().await.unwrap();
    assert!(matches!(ctl.start().await, Err(ExecError::NotStarted(_))));
    assert!(matches!(ctl.wait().await, Err(ExecError::NotStarted(_))));
    let c = kit.inspect(&id).await.expect("kept until remove");
    assert_eq!(c.state.unwrap().running, Some(false));
    ctl.remove().await.unwrap();
    assert!(kit.inspect(&id).await.is_none());
}

#[tokio::test]
async fn leftover_containers_of_a_node_are_removed() {
    let kit = Kit::new("leftovers").await;
    let other = Kit::new("bystander").await;
    // A running and a created container of this node, one of another.
    let running = kit
        .exec
        .controller(&kit.task("left", &["sleep", "1000"]))
        .unwrap();
    running.start().await.unwrap();
    let created = kit
        .exec
        .controller(&kit.task("left", &["sleep", "1000"]))
        .unwrap();
    created.prepare().await.unwrap();
    let bystander = other
        .exec
        .controller(&other.task("keep", &["sleep", "1000"]))
        .unwrap();
    bystander.prepare().await.unwrap();
    assert_eq!(kit.containers_of(&kit.node_id).await.len(), 2);

    assert_eq!(kit.exec.cleanup_leftovers(&kit.node_id).await, 2);
    assert!(kit.containers_of(&kit.node_id).await.is_empty());
    assert_eq!(
        other.containers_of(&other.node_id).await.len(),
        1,
        "another node's container stays"
    );
    // The stopped task's wait resolves; nothing left to remove.
    assert!(running.wait().await.is_ok());
    assert_eq!(
        kit.exec
            .remove_leftover_containers(&kit.node_id)
            .await
            .unwrap(),
        0
    );
    assert_eq!(kit.exec.remove_leftover_containers("").await.unwrap(), 0);
    bystander.remove().await.unwrap();
}
