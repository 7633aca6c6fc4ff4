//! Helpers for the docker executor's tests against the tests' private
//! Docker engine (`scripts/setup.sh` starts it; `$RSWARM_TEST_DOCKER_HOST`,
//! default unix:///run/rswarm-test-docker/docker.sock; never the machine's
//! own engine): an executor per test (its own node ID), tasks in
//! the local test image, and a guard removing every container of the
//! test's node however the test ends. No engine is a failure pointing at
//! `scripts/setup.sh`, never a skip.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use bollard::Docker;
use bollard::models::ContainerInspectResponse;
use bollard::query_parameters::{InspectContainerOptions, ListContainersOptionsBuilder};
use rswarm_exec::docker::{LABEL_NODE_ID, remove_leftover_containers};
use rswarm_exec::{DockerExecutor, LogLine, LogStore};
use rswarm_types::{ContainerSpec, Task, TaskSpec};

/// The image `scripts/setup.sh` builds (busybox `FROM scratch`).
pub const IMAGE: &str = "rswarm-test/busybox:latest";

/// The tests' private Docker engine.
pub fn test_engine() -> String {
    std::env::var("RSWARM_TEST_DOCKER_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unix:///run/rswarm-test-docker/docker.sock".to_string())
}

/// A name no other test (or test binary, or run) uses.
pub fn unique(name: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{name}-{}-{nanos:x}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// One test's executor on the real engine, with its own node ID and log
/// directory; its containers are removed on drop.
pub struct Kit {
    pub exec: DockerExecutor,
    pub logs: LogStore,
    pub node_id: String,
    _dir: tempfile::TempDir,
}

impl Kit {
    /// Connects to the engine, failing the test with directions when none
    /// answers or the test image is missing.
    pub async fn new(name: &str) -> Kit {
        let dir = tempfile::tempdir().unwrap();
        let logs = LogStore::new(dir.path().join("logs"));
        let node_id = unique(&format!("node-{name}"));
        let engine = test_engine();
        let exec = match DockerExecutor::connect(Some(&engine), logs.clone(), node_id.clone()).await
        {
            Ok(e) => e,
            Err(e) => panic!(
                "these tests need the tests' Docker engine on {engine}: {e}\n\
                 start it (and build the test image) with: bash scripts/setup.sh"
            ),
        };
        if exec.docker().inspect_image(IMAGE).await.is_err() {
            panic!("the test image {IMAGE} is missing: build it with: bash scripts/setup.sh");
        }
        Kit {
            exec,
            logs,
            node_id,
            _dir: dir,
        }
    }

    /// A task of this node in the test image, running `args` (as `service
    /// create IMAGE ARGS...` sends them: Args, no Command).
    pub fn task(&self, name: &str, args: &[&str]) -> Task {
        self.task_with(
            name,
            ContainerSpec {
                image: IMAGE.into(),
                args: args.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            },
        )
    }

    /// A task of this node with the given spec.
    pub fn task_with(&self, name: &str, spec: ContainerSpec) -> Task {
        let mut t = Task {
            id: unique("task"),
            service_id: unique("svcid"),
            node_id: self.node_id.clone(),
            slot: 2,
            spec: TaskSpec {
                container_spec: Some(spec),
                ..Default::default()
            },
            ..Default::default()
        };
        t.service_annotations.name = unique(name);
        t
    }

    /// The container of `name_or_id`, if the engine has it.
    pub async fn inspect(&self, name_or_id: &str) -> Option<ContainerInspectResponse> {
        self.exec
            .docker()
            .inspect_container(name_or_id, None::<InspectContainerOptions>)
            .await
            .ok()
    }

    /// IDs of the containers (any state) labelled with `node_id`.
    pub async fn containers_of(&self, node_id: &str) -> Vec<String> {
        let filters = HashMap::from([("label", vec![format!("{LABEL_NODE_ID}={node_id}")])]);
        let options = ListContainersOptionsBuilder::new()
            .all(true)
            .filters(&filters)
            .build();
        self.exec
            .docker()
            .list_containers(Some(options))
            .await
            .unwrap()
            .into_iter()
            .filter_map(|c| c.id)
            .collect()
    }
}

impl Drop for Kit {
    fn drop(&mut self) {
        remove_all_of(self.exec.docker().clone(), self.node_id.clone());
    }
}

/// Removes every container of `node_id`, from synchronous code (a drop).
pub fn remove_all_of(docker: Docker, node_id: String) {
    let _ = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _ = rt.block_on(remove_leftover_containers(&docker, &node_id));
    })
    .join();
}

/// The text of log lines.
pub fn texts(lines: &[LogLine]) -> Vec<&str> {
    lines.iter().map(|l| l.line.as_str()).collect()
}
