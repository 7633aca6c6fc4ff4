//! The part of `GET /info` the CLI reads.

use rswarm_types::TlsInfo;
use serde::Deserialize;

use crate::client::Client;
use crate::error::{CliError, Result};

/// `GET /info` (only `Swarm`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Info {
    /// The swarm section.
    #[serde(default)]
    pub swarm: SwarmInfo,
}

/// `Info.Swarm`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SwarmInfo {
    /// This node's ID ("" outside a swarm).
    #[serde(rename = "NodeID", default)]
    pub node_id: String,
    /// `inactive`, `pending`, `active`, `error` or `locked`.
    #[serde(default)]
    pub local_node_state: String,
    /// True on a reachable manager.
    #[serde(default)]
    pub control_available: bool,
    /// Managers only.
    #[serde(default)]
    pub cluster: Option<ClusterInfo>,
}

/// `Info.Swarm.Cluster` (the bits the CLI reads).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ClusterInfo {
    /// The cluster's trust root and issuer.
    #[serde(rename = "TLSInfo", default)]
    pub tls_info: Option<TlsInfo>,
}

/// Fetches `/info`.
pub async fn get(client: &Client) -> Result<Info> {
    client.get("/info").await
}

/// docker's `node.Reference`: `self` becomes this node's ID.
pub async fn node_reference(client: &Client, r: &str) -> Result<String> {
    if r != "self" {
        return Ok(r.to_string());
    }
    let info = get(client).await?;
    if info.swarm.node_id.is_empty() {
        client.get_raw("/nodes").await?;
        return Err(CliError::msg("node ID not found in /info"));
    }
    Ok(info.swarm.node_id)
}
