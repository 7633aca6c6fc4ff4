//! Helpers shared by the integration tests: task builders, a guard that
//! kills a started process group however a test ends, /proc scans.

#![allow(dead_code, clippy::unwrap_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use rswarm_exec::{LogLine, LogStore, ProcessExecutor};
use rswarm_types::{ContainerSpec, Task, TaskSpec};

/// A task ID no other test (or test binary) uses.
pub fn unique_id(name: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// A task running `command` in the `busybox` image.
pub fn task(name: &str, command: &[&str]) -> Task {
    let spec = ContainerSpec {
        image: "busybox".into(),
        command: command.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    task_with(name, spec)
}

/// A task with the given container spec.
pub fn task_with(name: &str, spec: ContainerSpec) -> Task {
    Task {
        id: unique_id(name),
        service_id: "svc1".into(),
        slot: 2,
        spec: TaskSpec {
            container_spec: Some(spec),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// A process executor logging to a fresh temporary directory.
pub fn executor() -> (ProcessExecutor, LogStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogStore::new(dir.path().join("logs"));
    (
        ProcessExecutor::new(logs.clone(), "node1".into()),
        logs,
        dir,
    )
}

/// Kills a process group when dropped, so a failing test leaves nothing.
pub struct Reaper(pub i64);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = killpg(Pid::from_raw(self.0 as i32), Signal::SIGKILL);
    }
}

/// PIDs of live (non-zombie) processes whose environment holds
/// `RSWARM_TASK_ID=<task_id>`.
pub fn task_processes(task_id: &str) -> Vec<i32> {
    let needle = format!("RSWARM_TASK_ID={task_id}");
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(env) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if env.split(|b| *b == 0).any(|kv| kv == needle.as_bytes()) {
            found.push(pid);
        }
    }
    found
}

/// Polls (up to 10 s) until `f` holds; returns whether it did.
pub async fn eventually(mut f: impl FnMut() -> bool) -> bool {
    for _ in 0..200 {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    f()
}

/// Polls (up to 10 s) until the task's log holds `text`.
pub async fn wait_for_line(logs: &LogStore, task_id: &str, text: &str) {
    for _ in 0..200 {
        if logs
            .read(task_id, None, None)
            .await
            .unwrap()
            .iter()
            .any(|l| l.line == text)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{text:?} never appeared in the log of {task_id}");
}

/// The text of log lines.
pub fn texts(lines: &[LogLine]) -> Vec<&str> {
    lines.iter().map(|l| l.line.as_str()).collect()
}
