//! Stopping real processes: outside kills, stop signals, grace periods,
//! process-group cleanup, concurrent wait and shutdown.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{Reaper, eventually, executor, task, task_processes, task_with, wait_for_line};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use rswarm_exec::{ExecError, Executor, ExitStatus};
use rswarm_types::ContainerSpec;

fn spec(argv: &[&str]) -> ContainerSpec {
    ContainerSpec {
        image: "busybox".into(),
        command: argv.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

#[tokio::test]
async fn kill_9_from_outside_gives_137() {
    let (exec, _logs, _dir) = executor();
    let ctl = exec.controller(&task("kill9", &["sleep", "100"])).unwrap();
    let pid = ctl.start().await.unwrap();
    let _reaper = Reaper(pid);
    kill(Pid::from_raw(pid as i32), Signal::SIGKILL).unwrap();
    assert_eq!(
        ctl.wait().await.unwrap(),
        ExitStatus {
            code: 137,
            signal: Some(9)
        }
    );
}

#[tokio::test]
async fn shutdown_with_sigterm_ends_sleep() {
    let (exec, _logs, _dir) = executor();
    // Default grace (10 s): ending by SIGTERM (143), not SIGKILL, shows the
    // grace period was not waited out.
    let ctl = exec.controller(&task("term", &["sleep", "100"])).unwrap();
    let _reaper = Reaper(ctl.start().await.unwrap());
    ctl.shutdown().await.unwrap();
    assert_eq!(
        ctl.wait().await.unwrap(),
        ExitStatus {
            code: 143,
            signal: Some(15)
        }
    );
}

#[tokio::test]
async fn custom_stop_signal_is_sent() {
    let (exec, _logs, _dir) = executor();
    let mut s = spec(&["sleep", "100"]);
    s.stop_signal = "INT".into();
    let ctl = exec.controller(&task_with("int", s)).unwrap();
    let _reaper = Reaper(ctl.start().await.unwrap());
    ctl.shutdown().await.unwrap();
    assert_eq!(
        ctl.wait().await.unwrap(),
        ExitStatus {
            code: 130,
            signal: Some(2)
        }
    );
}

#[tokio::test]
async fn shutdown_escalates_to_sigkill_after_grace() {
    let (exec, logs, _dir) = executor();
    let mut s = spec(&["sh", "-c", "trap '' TERM; echo ready; sleep 100"]);
    s.stop_grace_period = Some(300_000_000);
    let t = task_with("trap", s);
    let ctl = exec.controller(&t).unwrap();
    let _reaper = Reaper(ctl.start().await.unwrap());
    wait_for_line(&logs, &t.id, "ready").await;
    ctl.shutdown().await.unwrap();
    assert_eq!(
        ctl.wait().await.unwrap(),
        ExitStatus {
            code: 137,
            signal: Some(9)
        }
    );
    assert!(eventually(|| task_processes(&t.id).is_empty()).await);
}

#[tokio::test]
async fn shutdown_kills_the_whole_process_group() {
    let (exec, _logs, _dir) = executor();
    let t = task("group", &["sh", "-c", "sleep 1000 & sleep 1000"]);
    let ctl = exec.controller(&t).unwrap();
    let _reaper = Reaper(ctl.start().await.unwrap());
    assert!(
        eventually(|| task_processes(&t.id).len() >= 2).await,
        "both sleeps run"
    );
    ctl.shutdown().await.unwrap();
    assert!(ctl.wait().await.unwrap().signal.is_some());
    assert!(
        eventually(|| task_processes(&t.id).is_empty()).await,
        "left behind: {:?}",
        task_processes(&t.id)
    );
}

#[tokio::test]
async fn exit_kills_what_the_process_left_behind() {
    let (exec, logs, _dir) = executor();
    // The background sleep keeps stdout open; the exit must not wait on it.
    let t = task("leftover", &["sh", "-c", "sleep 1000 & echo started"]);
    let ctl = exec.controller(&t).unwrap();
    let _reaper = Reaper(ctl.start().await.unwrap());
    assert_eq!(ctl.wait().await.unwrap().code, 0);
    assert!(
        eventually(|| task_processes(&t.id).is_empty()).await,
        "left behind: {:?}",
        task_processes(&t.id)
    );
    assert_eq!(
        common::texts(&logs.read(&t.id, None, None).await.unwrap()),
        ["started"]
    );
}

#[tokio::test]
async fn wait_and_shutdown_run_concurrently_and_shutdown_is_idempotent() {
    let (exec, _logs, _dir) = executor();
    let ctl: std::sync::Arc<dyn rswarm_exec::Controller> = exec
        .controller(&task("conc", &["sleep", "100"]))
        .unwrap()
        .into();
    let reaper = Reaper(ctl.start().await.unwrap());
    assert_eq!(ctl.start().await.unwrap(), reaper.0, "start is idempotent");
    let waiter = tokio::spawn({
        let ctl = ctl.clone();
        async move { ctl.wait().await }
    });
    let (a, b) = tokio::join!(ctl.shutdown(), ctl.shutdown());
    a.unwrap();
    b.unwrap();
    let status = tokio::time::timeout(Duration::from_secs(20), waiter)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(status.signal, Some(15));
    ctl.shutdown().await.unwrap();
    ctl.remove().await.unwrap();
}

#[tokio::test]
async fn shutdown_before_start_cancels_and_wait_needs_start() {
    let (exec, logs, _dir) = executor();
    let t = task("early", &["sleep", "100"]);
    let ctl = exec.controller(&t).unwrap();
    assert!(matches!(ctl.wait().await, Err(ExecError::NotStarted(_))));
    ctl.prepare().await.unwrap();
    ctl.prepare().await.unwrap();
    ctl.shutdown().await.unwrap();
    assert!(matches!(ctl.start().await, Err(ExecError::NotStarted(_))));
    ctl.shutdown().await.unwrap();
    // The opened log was closed, so a follower ends.
    let lines: Vec<_> = futures_util::StreamExt::collect(logs.follow(&t.id, None, None)).await;
    assert!(lines.is_empty());
    assert!(task_processes(&t.id).is_empty());
}
