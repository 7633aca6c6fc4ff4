//! `/swarm/*`: init, join, leave, inspect, update, unlock key, unlock.

use axum::Json;
use axum::extract::{Extension, State};
use axum::response::{IntoResponse, Response};
use rswarm_types::{ControlError, SwarmSpec};

use super::Shared;
use crate::backend::{InitRequest, JoinRequest, LocalNodeState, Rotation};
use crate::body::JsonBody;
use crate::cluster_info::Swarm;
use crate::error::{ApiError, ApiResult};
use crate::guard;
use crate::query::Params;
use crate::version::ApiVersion;

/// `POST /swarm/init`: 200 with the node ID as a JSON string.
pub(super) async fn init(
    State(backend): State<Shared>,
    Extension(version): Extension<ApiVersion>,
    JsonBody(mut req): JsonBody<InitRequest>,
) -> ApiResult {
    if version.less_than("1.39") {
        req.default_addr_pool = None;
        req.subnet_size = 0;
    }
    if version.less_than("1.40") {
        req.data_path_port = 0;
    }
    let node_id = backend.swarm_init(req).await?;
    Ok(Json(node_id).into_response())
}

/// `POST /swarm/join`.
pub(super) async fn join(
    State(backend): State<Shared>,
    JsonBody(req): JsonBody<JoinRequest>,
) -> ApiResult {
    backend.swarm_join(req).await?;
    Ok(().into_response())
}

/// `POST /swarm/leave?force=1`.
pub(super) async fn leave(State(backend): State<Shared>, params: Params) -> ApiResult {
    guard::check_in_swarm(&backend.info().await)?;
    backend.swarm_leave(params.flag("force")).await?;
    Ok(().into_response())
}

/// `GET /swarm`: ClusterInfo plus join tokens, never a key.
pub(super) async fn inspect(State(backend): State<Shared>) -> ApiResult {
    guard::manager(backend.as_ref()).await?;
    let cluster = backend.swarm_inspect().await?;
    Ok(Json(Swarm::from_cluster(&cluster)).into_response())
}

fn rotate_flag(params: &Params, key: &str) -> Result<bool, ApiError> {
    params
        .strict_flag(key)
        .map(|v| v.unwrap_or(false))
        .map_err(|raw| ApiError::bad_request(format!("invalid value for {key}: {raw}")))
}

/// `POST /swarm/update?version=N&rotateWorkerToken=..&rotateManagerToken=..&rotateManagerUnlockKey=..`.
pub(super) async fn update(
    State(backend): State<Shared>,
    params: Params,
    JsonBody(spec): JsonBody<SwarmSpec>,
) -> ApiResult {
    let version = params.object_version("swarm")?;
    let rotation = Rotation {
        worker_token: rotate_flag(&params, "rotateWorkerToken")?,
        manager_token: rotate_flag(&params, "rotateManagerToken")?,
        unlock_key: rotate_flag(&params, "rotateManagerUnlockKey")?,
    };
    guard::manager(backend.as_ref()).await?;
    backend
        .swarm_update(version, spec, rotation)
        .await
        .map_err(ApiError::from_control_api)?;
    Ok(().into_response())
}

/// `GET /swarm/unlockkey`: `""` while autolock is off.
pub(super) async fn unlock_key(State(backend): State<Shared>) -> ApiResult {
    guard::manager(backend.as_ref()).await?;
    let cluster = backend.swarm_inspect().await?;
    if cluster.spec.encryption_config.auto_lock_managers {
        return Err(ControlError::NotImplemented(
            "swarm autolock is not supported yet in rswarm".into(),
        )
        .into());
    }
    Ok(Json(serde_json::json!({ "UnlockKey": "" })).into_response())
}

/// `POST /swarm/unlock`.
pub(super) async fn unlock(
    State(backend): State<Shared>,
    JsonBody(_req): JsonBody<serde_json::Value>,
) -> Response {
    let info = backend.info().await;
    let err = match info.state {
        LocalNodeState::Locked => {
            ControlError::NotImplemented("swarm unlock is not supported yet in rswarm".into())
        }
        _ => match guard::check_manager(&info) {
            Err(e) => e,
            Ok(()) => ControlError::FailedPrecondition("swarm is not locked".into()),
        },
    };
    ApiError::from(err).into_response()
}
