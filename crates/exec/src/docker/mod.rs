//! The `docker` runtime: each task runs as a container on the node's
//! Docker engine, through bollard ([`DockerExecutor`] →
//! [`DockerController`]).
//!
//! Containers are named and labelled as Docker Swarm names and labels its
//! task containers (`<service>.<slot>.<task id>`, `com.docker.swarm.*`);
//! their output goes to the same [`LogStore`](crate::LogStore) as process
//! tasks', so `service logs` does not care which runtime ran a task.
//!
//! Files: `executor` (connecting, node facts), `spec` (ContainerSpec →
//! create body, pure), `image` (present or pulled), `controller` (the
//! contract), `logs` (output → log store), `entry` (one log entry → lines), `monitor` (exit, then log
//! closed), `leftovers` (containers of an earlier run), `sandbox` (the
//! network sandbox container of a task on swarm networks), `error`
//! (engine errors).

mod controller;
mod entry;
mod error;
mod executor;
mod image;
mod leftovers;
mod logs;
mod monitor;
mod sandbox;
mod spec;

pub use controller::DockerController;
pub use executor::DockerExecutor;
pub use leftovers::remove_leftover_containers;
pub use sandbox::{LABEL_SANDBOX, sandbox_name};
pub use spec::{
    ContainerPlan, LABEL_NODE_ID, LABEL_SERVICE_ID, LABEL_SERVICE_NAME, LABEL_TASK, LABEL_TASK_ID,
    LABEL_TASK_NAME, pull_reference, stop_timeout_secs, task_name,
};
