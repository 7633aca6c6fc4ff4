//! `/networks`: swarm networks (list with filters, inspect, create,
//! remove). rswarm has no local networks: off a manager the list is empty
//! and lookups find nothing, as on an engine without networks.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use rswarm_types::{ControlError, Network};

use super::Shared;
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::filters::Filters;
use crate::guard;
use crate::network_json::{NetworkCreateRequest, network_out, spec_in};
use crate::query::Params;
use crate::resolve::resolve;

const ACCEPTED: &[&str] = &["dangling", "driver", "id", "label", "name", "scope", "type"];

/// True when `n` passes `f` (moby's network list filters; every swarm
/// network is `custom`, none is dangling-checked here).
fn matches(f: &Filters, n: &Network) -> bool {
    let name_ok = f.get("name").is_empty() || f.get("name").iter().any(|x| n.spec.name.contains(x));
    let scope_ok = f.get("scope").is_empty() || f.get("scope").contains(&"swarm");
    let type_ok = f.get("type").is_empty() || f.get("type").contains(&"custom");
    name_ok
        && scope_ok
        && type_ok
        && f.prefix("id", &n.id)
        && f.exact("driver", &n.driver_state.name)
        && f.labels("label", &n.spec.labels)
}

/// The networks, or none off a manager.
async fn networks(backend: &Shared) -> Result<Vec<Network>, ApiError> {
    if guard::manager(backend.as_ref()).await.is_err() {
        return Ok(Vec::new());
    }
    Ok(backend.list_networks().await?)
}

/// `GET /networks[?filters=...]`.
pub(super) async fn list(State(backend): State<Shared>, params: Params) -> ApiResult {
    let f = Filters::parse(params.get("filters"))?;
    f.validate(ACCEPTED)?;
    for t in f.get("type") {
        if !matches!(t, "custom" | "builtin") {
            return Err(ApiError::bad_request(format!(
                "invalid filter: 'type'='{t}'"
            )));
        }
    }
    let list: Vec<serde_json::Value> = networks(&backend)
        .await?
        .iter()
        .filter(|n| matches(&f, n))
        .map(network_out)
        .collect();
    Ok(Json(list).into_response())
}

/// `GET /networks/{id}` (ID, name or prefix).
pub(super) async fn inspect(State(backend): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let network = resolve(networks(&backend).await?, &id)?;
    Ok(Json(network_out(&network)).into_response())
}

/// `POST /networks/create`: 201 `{"Id","Warning":""}`.
pub(super) async fn create(
    State(backend): State<Shared>,
    JsonBody(req): JsonBody<NetworkCreateRequest>,
) -> ApiResult {
    let name = req.name.clone();
    let spec = spec_in(req).map_err(|e| match e {
        ControlError::FailedPrecondition(m) => ApiError {
            status: StatusCode::FORBIDDEN,
            message: m,
        },
        e => e.into(),
    })?;
    guard::manager(backend.as_ref()).await?;
    let network = backend.create_network(spec).await.map_err(|e| match e {
        ControlError::NameConflict { .. } => ApiError {
            status: StatusCode::CONFLICT,
            message: format!("network with name {name} already exists"),
        },
        e => ApiError::from_control_api(e),
    })?;
    let body = serde_json::json!({ "Id": network.id, "Warning": "" });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `DELETE /networks/{id}`: 204.
pub(super) async fn remove(State(backend): State<Shared>, Path(id): Path<String>) -> ApiResult {
    guard::manager(backend.as_ref()).await?;
    let network = resolve(backend.list_networks().await?, &id)?;
    backend
        .remove_network(&network.id)
        .await
        .map_err(ApiError::from_control_api)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
