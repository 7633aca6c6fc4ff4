//! Endpoints rswarm does not serve, answered with a clear 501 instead of
//! a confusing 404: local containers, images, volumes, builds, exec,
//! events and disk usage (out of scope: rswarm runs swarm services only),
//! and networks, secrets, configs and plugins (not implemented yet).
//!
//! Read-only lookups of networks, secrets and configs answer truthfully
//! that none exist (`[]` and 404), so `stack rm`, `service create
//! --network` and `secret inspect` fail or succeed exactly as they would
//! on a cluster without such objects.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use rswarm_types::ControlError;

use super::Shared;
use crate::error::{ApiError, ApiResult};
use crate::guard;

/// The 501 message for container-engine endpoints.
pub const LOCAL_ONLY: &str =
    "rswarm does not manage local containers, images or volumes: it runs swarm services only";

fn not_yet(what: &str) -> ApiError {
    ControlError::NotImplemented(format!("{what} are not implemented yet in rswarm")).into()
}

async fn local_only() -> ApiError {
    ControlError::NotImplemented(LOCAL_ONLY.into()).into()
}

async fn networks() -> ApiError {
    not_yet("networks")
}

async fn secrets() -> ApiError {
    not_yet("secrets")
}

async fn configs() -> ApiError {
    not_yet("configs")
}

async fn plugins() -> ApiError {
    not_yet("plugins")
}

async fn distribution() -> ApiError {
    ControlError::NotImplemented(
        "rswarm does not query image registries: image digests are not resolved".into(),
    )
    .into()
}

async fn no_networks() -> Response {
    Json(Vec::<serde_json::Value>::new()).into_response()
}

async fn network_not_found(Path(id): Path<String>) -> ApiError {
    ControlError::not_found("network", id).into()
}

async fn empty_list(State(backend): State<Shared>) -> ApiResult {
    guard::manager(backend.as_ref()).await?;
    Ok(Json(Vec::<serde_json::Value>::new()).into_response())
}

async fn secret_not_found(State(backend): State<Shared>, Path(id): Path<String>) -> ApiResult {
    guard::manager(backend.as_ref()).await?;
    Err(ControlError::not_found("secret", id).into())
}

async fn config_not_found(State(backend): State<Shared>, Path(id): Path<String>) -> ApiResult {
    guard::manager(backend.as_ref()).await?;
    Err(ControlError::not_found("config", id).into())
}

/// The routes of this module.
pub(super) fn routes() -> axum::Router<Shared> {
    let mut r = axum::Router::new();
    for prefix in [
        "/containers",
        "/images",
        "/volumes",
        "/exec",
        "/build",
        "/system/df",
        "/events",
        "/commit",
        "/session",
    ] {
        r = r
            .route(prefix, any(local_only))
            .route(&format!("{prefix}/{{*rest}}"), any(local_only));
    }
    r.route("/plugins", any(plugins))
        .route("/plugins/{*rest}", any(plugins))
        .route("/networks", get(no_networks).fallback(networks))
        .route(
            "/networks/{id}",
            get(network_not_found)
                .delete(network_not_found)
                .fallback(networks),
        )
        .route("/networks/{id}/{*rest}", any(networks))
        .route("/secrets", get(empty_list).fallback(secrets))
        .route(
            "/secrets/{id}",
            get(secret_not_found)
                .delete(secret_not_found)
                .fallback(secrets),
        )
        .route("/secrets/{id}/update", any(secrets))
        .route("/configs", get(empty_list).fallback(configs))
        .route(
            "/configs/{id}",
            get(config_not_found)
                .delete(config_not_found)
                .fallback(configs),
        )
        .route("/configs/{id}/update", any(configs))
        .route("/distribution/{*rest}", get(distribution))
}
