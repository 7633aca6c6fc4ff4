//! [`ProcessExecutor`]: the built-in `process` runtime.

use rswarm_types::Task;

use super::controller::ProcessController;
use super::plan::Plan;
use crate::{Controller, ExecError, Executor, ExecutorDescription, LogStore};

/// Runs each task's command (`Command ++ Args`) as a host process; the
/// image name is recorded but never pulled. See [`ProcessController`].
#[derive(Clone, Debug)]
pub struct ProcessExecutor {
    logs: LogStore,
    node_id: String,
}

impl ProcessExecutor {
    /// Runtime name, reported as engine label `rswarm.runtime`.
    pub const RUNTIME: &'static str = "process";

    /// An executor writing task output to `logs`, on node `node_id`.
    pub fn new(logs: LogStore, node_id: String) -> Self {
        Self { logs, node_id }
    }

    /// The store holding task output.
    pub fn logs(&self) -> &LogStore {
        &self.logs
    }

    /// A [`ProcessController`] for `task` (the concrete type behind
    /// [`Executor::controller`]).
    pub fn process_controller(&self, task: &Task) -> Result<ProcessController, ExecError> {
        Ok(ProcessController::new(
            Plan::from_task(task, &self.node_id)?,
            self.logs.clone(),
        ))
    }
}

impl Executor for ProcessExecutor {
    fn describe(&self) -> ExecutorDescription {
        let cpus = std::thread::available_parallelism()
            .map(std::num::NonZero::get)
            .unwrap_or(1);
        ExecutorDescription {
            runtime: Self::RUNTIME.into(),
            architecture: architecture().into(),
            os: std::env::consts::OS.into(),
            nano_cpus: i64::try_from(cpus)
                .unwrap_or(1)
                .saturating_mul(1_000_000_000),
            memory_bytes: std::fs::read_to_string("/proc/meminfo")
                .ok()
                .and_then(|m| mem_total(&m))
                .unwrap_or(0),
        }
    }

    fn controller(&self, task: &Task) -> Result<Box<dyn Controller>, ExecError> {
        Ok(Box::new(self.process_controller(task)?))
    }
}

/// The machine name as `uname -m` (and so Docker) gives it.
fn architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86" => "i686",
        "arm" => "armv7l",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        other => other,
    }
}

/// `MemTotal` from `/proc/meminfo`, in bytes.
fn mem_total(meminfo: &str) -> Option<i64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let mut words = line.split_whitespace().skip(1);
    let n: i64 = words.next()?.parse().ok()?;
    let unit = match words.next() {
        Some("kB") => 1024,
        None => 1,
        Some(_) => return None,
    };
    n.checked_mul(unit)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_meminfo() {
        assert_eq!(
            mem_total("MemTotal:       24577612 kB\nMemFree: 1 kB\n"),
            Some(24577612 * 1024)
        );
        assert_eq!(mem_total("MemFree: 1 kB\n"), None);
    }

    #[test]
    fn describes_this_machine() {
        let d = ProcessExecutor::new(LogStore::new("/nonexistent"), "n1".into()).describe();
        assert_eq!(d.runtime, "process");
        assert_eq!(d.os, "linux");
        assert!(!d.architecture.is_empty());
        assert!(d.nano_cpus >= 1_000_000_000 && d.nano_cpus % 1_000_000_000 == 0);
        assert!(d.memory_bytes > 0);
    }
}
