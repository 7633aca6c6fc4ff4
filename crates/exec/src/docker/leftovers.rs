//! Containers left by an earlier run of the daemon (stopped, killed or
//! crashed) are found by their `com.docker.swarm.node.id` label and
//! removed before the agent starts, and again when it stops: the agent
//! owns no container it did not create.

use std::collections::HashMap;

use bollard::Docker;
use bollard::query_parameters::{ListContainersOptionsBuilder, RemoveContainerOptionsBuilder};

use super::error;
use super::spec::LABEL_NODE_ID;
use crate::ExecError;

/// Removes (force, with anonymous volumes) every container, running or
/// not, labelled `com.docker.swarm.node.id=<node_id>`. Returns how many
/// were removed; an empty node ID removes nothing.
pub async fn remove_leftover_containers(
    docker: &Docker,
    node_id: &str,
) -> Result<usize, ExecError> {
    if node_id.is_empty() {
        return Ok(0);
    }
    let filters = HashMap::from([("label", vec![format!("{LABEL_NODE_ID}={node_id}")])]);
    let options = ListContainersOptionsBuilder::new()
        .all(true)
        .filters(&filters)
        .build();
    let containers = docker
        .list_containers(Some(options))
        .await
        .map_err(|e| error::engine("listing containers", &e))?;
    let mut removed = 0;
    for id in containers.into_iter().filter_map(|c| c.id) {
        let options = RemoveContainerOptionsBuilder::new()
            .force(true)
            .v(true)
            .build();
        match docker.remove_container(&id, Some(options)).await {
            Ok(()) => removed += 1,
            Err(e) if error::is_not_found(&e) || error::is_conflict(&e) => {}
            Err(e) => return Err(error::engine(&format!("removing container {id}"), &e)),
        }
    }
    Ok(removed)
}
