//! [`Plan`]: what to run for a task, checked and derived from its spec
//! without touching the system.

use std::path::PathBuf;
use std::time::Duration;

use nix::sys::signal::Signal;
use rswarm_types::{DEFAULT_STOP_GRACE_PERIOD, Task};

use super::signal::parse_signal;
use crate::ExecError;

/// A task's process, ready to prepare and launch.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub task_id: String,
    pub service_id: String,
    pub node_id: String,
    pub slot: u64,
    /// Program and its arguments: `Command ++ Args`.
    pub argv: Vec<String>,
    /// The spec's `KEY=VALUE` entries.
    pub env: Vec<String>,
    /// Absolute working directory, if the spec gives one.
    pub dir: Option<PathBuf>,
    /// The spec's user, resolved in `prepare`.
    pub user: String,
    pub stop_signal: Signal,
    pub grace: Duration,
}

impl Plan {
    /// Checks `task`'s spec for the process runtime.
    pub(crate) fn from_task(task: &Task, node_id: &str) -> Result<Self, ExecError> {
        crate::unsupported::check_supported(task, "process")?;
        let Some(spec) = &task.spec.container_spec else {
            return Err(ExecError::InvalidSpec(
                "the process runtime runs a task's command: the task has no container spec (give a command, e.g. \"rswarm service create busybox sleep 100\")"
                    .into(),
            ));
        };
        let argv: Vec<String> = spec.command.iter().chain(&spec.args).cloned().collect();
        if argv.is_empty() {
            let image = spec.image.trim();
            let detail = if image.is_empty() {
                "the service has no image either".to_string()
            } else {
                format!("image {image:?} cannot be run without a Docker engine")
            };
            let example = if image.is_empty() { "busybox" } else { image };
            return Err(ExecError::InvalidSpec(format!(
                "the process runtime runs a task's command: service spec has no Command or Args ({detail}; give a command, e.g. \"rswarm service create {example} sleep 100\")"
            )));
        }
        if argv[0].is_empty() {
            return Err(ExecError::InvalidSpec(
                "the process runtime runs a task's command: the program name is empty".into(),
            ));
        }
        let dir = match spec.dir.trim() {
            "" => None,
            d if d.starts_with('/') => Some(PathBuf::from(d)),
            d => {
                return Err(ExecError::InvalidSpec(format!(
                    "the working directory {d:?} is invalid: it needs to be an absolute path"
                )));
            }
        };
        let stop_signal = parse_signal(&spec.stop_signal).map_err(ExecError::InvalidSpec)?;
        let grace_nanos = spec
            .stop_grace_period
            .unwrap_or(DEFAULT_STOP_GRACE_PERIOD)
            .max(0);
        Ok(Self {
            task_id: task.id.clone(),
            service_id: task.service_id.clone(),
            node_id: if task.node_id.is_empty() {
                node_id.to_string()
            } else {
                task.node_id.clone()
            },
            slot: task.slot,
            argv,
            env: spec.env.clone(),
            dir,
            user: spec.user.clone(),
            stop_signal,
            grace: Duration::from_nanos(u64::try_from(grace_nanos).unwrap_or(0)),
        })
    }
}
