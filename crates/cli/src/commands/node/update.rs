//! `node update`, `node promote`, `node demote`: read the node, change
//! its spec, post it back with the read version.

use std::io::Write;

use rswarm_types::{Node, NodeRole, NodeSpec};
use serde::Serialize;

use super::UpdateArgs;
use crate::client::{Client, seg};
use crate::error::{CliError, Result};
use crate::opts::kv_map;
use crate::output::Output;

/// The body docker sends: the spec with role and availability as given
/// (the daemon validates them).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SpecBody {
    #[serde(skip_serializing_if = "String::is_empty")]
    name: String,
    labels: std::collections::BTreeMap<String, String>,
    role: String,
    availability: String,
}

fn body(spec: &NodeSpec, role: Option<&str>, availability: Option<&str>) -> SpecBody {
    SpecBody {
        name: spec.name.clone(),
        labels: spec.labels.clone(),
        role: role.map_or_else(|| spec.role.as_str().to_string(), str::to_string),
        availability: availability
            .map_or_else(|| spec.availability.as_str().to_string(), str::to_string),
    }
}

async fn post(client: &Client, node: &Node, b: &SpecBody) -> Result<()> {
    client
        .post(
            &format!(
                "/nodes/{}/update?version={}",
                seg(&node.id),
                node.meta.version.index
            ),
            b,
        )
        .await?;
    Ok(())
}

/// Runs `node update`.
pub async fn update(client: &Client, a: UpdateArgs, io: &mut Output) -> Result<()> {
    let mut node: Node = client.get(&format!("/nodes/{}", seg(&a.node))).await?;
    for (k, v) in kv_map(&a.label_add) {
        node.spec.labels.insert(k, v);
    }
    for k in &a.label_rm {
        if node.spec.labels.remove(k).is_none() {
            return Err(CliError::msg(format!(
                "key {k} doesn't exist in node's labels"
            )));
        }
    }
    let b = body(&node.spec, a.role.as_deref(), a.availability.as_deref());
    post(client, &node, &b).await?;
    writeln!(io.out, "{}", a.node)?;
    Ok(())
}

/// Runs `node promote` (`manager = true`) or `node demote`.
pub async fn set_role(
    client: &Client,
    nodes: Vec<String>,
    manager: bool,
    io: &mut Output,
) -> Result<()> {
    for n in nodes {
        let mut node: Node = client.get(&format!("/nodes/{}", seg(&n))).await?;
        let want = if manager {
            NodeRole::Manager
        } else {
            NodeRole::Worker
        };
        if node.spec.role == want {
            writeln!(io.out, "Node {} is already a {}.", node.id, want.as_str())?;
            continue;
        }
        node.spec.role = want;
        let b = body(&node.spec, None, None);
        post(client, &node, &b).await?;
        if manager {
            writeln!(io.out, "Node {n} promoted to a manager in the swarm.")?;
        } else {
            writeln!(io.out, "Manager {n} demoted in the swarm.")?;
        }
    }
    Ok(())
}
