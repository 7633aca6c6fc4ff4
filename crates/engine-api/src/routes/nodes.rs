//! `/nodes`: list (with filters), inspect, update, remove.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use rswarm_types::{Node, NodeSpec};

use super::Shared;
use crate::body::JsonBody;
use crate::convert::node_out;
use crate::error::{ApiError, ApiResult};
use crate::filters::Filters;
use crate::guard;
use crate::query::Params;
use crate::resolve::resolve;

const ACCEPTED: &[&str] = &["id", "name", "label", "node.label", "role", "membership"];

/// Checks the node filters and their enum values.
pub fn node_filters(raw: &str) -> Result<Filters, ApiError> {
    let f = Filters::parse(raw)?;
    f.validate(ACCEPTED)?;
    for r in f.get("role") {
        if !r.is_empty() && !matches!(r.to_ascii_lowercase().as_str(), "worker" | "manager") {
            return Err(ApiError::bad_request(format!("Invalid role filter: '{r}'")));
        }
    }
    for m in f.get("membership") {
        if !m.is_empty() && !matches!(m.to_ascii_lowercase().as_str(), "accepted" | "pending") {
            return Err(ApiError::bad_request(format!(
                "Invalid membership filter: '{m}'"
            )));
        }
    }
    Ok(f)
}

/// True when `node` passes `f` (swarmkit `ListNodes` semantics).
pub fn node_matches(f: &Filters, node: &Node) -> bool {
    let roles: Vec<String> = f
        .get("role")
        .iter()
        .map(|r| r.to_ascii_lowercase())
        .collect();
    let memberships: Vec<String> = f
        .get("membership")
        .iter()
        .map(|m| m.to_ascii_lowercase())
        .collect();
    f.prefix("id", &node.id)
        && f.prefix("name", &node.description.hostname)
        && f.labels("label", &node.description.engine.labels)
        && f.labels("node.label", &node.spec.labels)
        && (roles.is_empty() || roles.iter().any(|r| r == node.role.as_str()))
        && (memberships.is_empty() || memberships.iter().any(|m| m == "accepted"))
}

/// `GET /nodes[?filters=...]`.
pub(super) async fn list(State(backend): State<Shared>, params: Params) -> ApiResult {
    let f = node_filters(params.get("filters"))?;
    guard::manager(backend.as_ref()).await?;
    let nodes: Vec<serde_json::Value> = backend
        .list_nodes()
        .await?
        .into_iter()
        .filter(|n| node_matches(&f, n))
        .map(node_out)
        .collect();
    Ok(Json(nodes).into_response())
}

/// `GET /nodes/{id}` (ID, hostname or prefix).
pub(super) async fn inspect(State(backend): State<Shared>, Path(id): Path<String>) -> ApiResult {
    guard::manager(backend.as_ref()).await?;
    let node = resolve(backend.list_nodes().await?, &id)?;
    Ok(Json(node_out(node)).into_response())
}

/// `POST /nodes/{id}/update?version=N` with the full NodeSpec.
pub(super) async fn update(
    State(backend): State<Shared>,
    Path(id): Path<String>,
    params: Params,
    JsonBody(spec): JsonBody<NodeSpec>,
) -> ApiResult {
    let version = params.object_version("node")?;
    guard::manager(backend.as_ref()).await?;
    let node = resolve(backend.list_nodes().await?, &id)?;
    backend
        .update_node(&node.id, version, spec)
        .await
        .map_err(ApiError::from_control_api)?;
    Ok(().into_response())
}

/// `DELETE /nodes/{id}[?force=1]`.
pub(super) async fn remove(
    State(backend): State<Shared>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult {
    guard::manager(backend.as_ref()).await?;
    let node = resolve(backend.list_nodes().await?, &id)?;
    backend
        .remove_node(&node.id, params.flag("force"))
        .await
        .map_err(ApiError::from_control_api)?;
    Ok(().into_response())
}
