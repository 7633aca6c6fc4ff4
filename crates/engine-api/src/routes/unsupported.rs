//! Endpoints rswarm does not serve, answered with a clear 501 instead of
//! a confusing 404: creating or changing local containers, images,
//! volumes, builds, exec and disk usage (out of scope: rswarm runs swarm
//! services only), and network connect/disconnect/prune, secrets, configs
//! and plugins (not implemented yet). Reads of local objects answer as an empty engine
//! would (see [`super::local`]).
//!
//! Read-only lookups of secrets and configs answer truthfully that none
//! exist (`[]` and 404), so `stack rm` and `secret inspect` fail or
//! succeed exactly as they would on a cluster without such objects.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::{any, get};
use rswarm_types::ControlError;

use super::{Shared, local};
use crate::error::{ApiError, ApiResult};
use crate::guard;

/// The 501 message for container-engine endpoints.
pub const LOCAL_ONLY: &str =
    "rswarm does not manage local containers, images or volumes: it runs swarm services only";

fn not_yet(what: &str) -> ApiError {
    ControlError::NotImplemented(format!("{what} are not implemented yet in rswarm")).into()
}

/// The 501 for a local-container endpoint.
pub(super) fn local_only_error() -> ApiError {
    ControlError::NotImplemented(LOCAL_ONLY.into()).into()
}

/// Reads (and drops) the request body first: a client still writing it
/// when the answer comes would see a broken pipe instead of the message.
async fn local_only(_body: axum::body::Bytes) -> ApiError {
    local_only_error()
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
    let mut r = axum::Router::new()
        .route(
            "/containers/json",
            get(local::empty_list).fallback(local_only),
        )
        .route(
            "/containers/{*rest}",
            get(local::container).fallback(local_only),
        )
        .route("/images/json", get(local::empty_list).fallback(local_only))
        .route("/images/{*rest}", get(local::image).fallback(local_only))
        .route("/volumes", get(local::volumes).fallback(local_only))
        .route("/volumes/{*rest}", get(local::volume).fallback(local_only))
        .route("/events", get(local::events).fallback(local_only));
    for prefix in [
        "/containers",
        "/images",
        "/exec",
        "/build",
        "/system/df",
        "/commit",
        "/session",
    ] {
        r = r.route(prefix, any(local_only));
    }
    for prefix in ["/exec", "/build", "/system/df", "/commit", "/session"] {
        r = r.route(&format!("{prefix}/{{*rest}}"), any(local_only));
    }
    r.route("/plugins", get(local::empty_list).fallback(plugins))
        .route("/plugins/{*rest}", get(local::plugin).fallback(plugins))
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
