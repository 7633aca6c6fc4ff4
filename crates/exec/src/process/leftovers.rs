//! Task processes left behind by an earlier run of the daemon (killed
//! with SIGKILL, or crashed) are found by their `RSWARM_NODE_ID`
//! environment entry and killed, process group and all, before the agent
//! starts: after a restart the agent owns no process it did not start.

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// Kills every process group led by a task process of `node_id`.
/// Returns how many groups were signalled.
pub fn kill_leftovers(node_id: &str) -> usize {
    if node_id.is_empty() {
        return 0;
    }
    let needle = format!("RSWARM_NODE_ID={node_id}");
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut groups = std::collections::BTreeSet::new();
    for e in entries.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(env) = std::fs::read(e.path().join("environ")) else {
            continue;
        };
        if !env.split(|b| *b == 0).any(|kv| kv == needle.as_bytes()) {
            continue;
        }
        if let Some(pgid) = process_group(pid) {
            groups.insert(pgid);
        }
    }
    let me = nix::unistd::getpgrp().as_raw();
    groups
        .into_iter()
        .filter(|g| *g > 1 && *g != me)
        .filter(|g| killpg(Pid::from_raw(*g), Signal::SIGKILL).is_ok())
        .count()
}

/// The process group of `pid` (field 5 of `/proc/<pid>/stat`).
fn process_group(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(2)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;

    #[test]
    fn finds_and_kills_processes_of_a_node() {
        let node = format!("leftover-test-{}", std::process::id());
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 1000 & sleep 1000"])
            .env("RSWARM_NODE_ID", &node)
            .process_group(0)
            .spawn()
            .expect("spawn");
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert_eq!(kill_leftovers(&node), 1);
        let status = child.wait().expect("wait");
        assert!(!status.success());
        assert_eq!(kill_leftovers(""), 0);
    }
}
