//! The route table (unversioned paths; [`crate::version`] strips the
//! prefix before these are matched). Unknown paths and wrong methods get
//! moby's 404 `page not found`.

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::backend::Backend;
use crate::error::ApiError;

mod backup;
mod info;
mod local;
mod logs;
mod networks;
mod nodes;
mod services;
mod swarm;
mod system;
mod tasks;
mod unsupported;

/// Shared handler state.
pub(crate) type Shared = Arc<dyn Backend>;

/// All routes, with the backend as state.
pub(crate) fn api(backend: Shared) -> Router {
    Router::new()
        .route("/_ping", get(system::ping).head(system::ping_head))
        .route("/version", get(system::version))
        .route("/info", get(info::info))
        .route("/swarm", get(swarm::inspect))
        .route("/swarm/init", post(swarm::init))
        .route("/swarm/join", post(swarm::join))
        .route("/swarm/leave", post(swarm::leave))
        .route("/swarm/update", post(swarm::update))
        .route("/swarm/backup", get(backup::backup))
        .route("/swarm/unlockkey", get(swarm::unlock_key))
        .route("/swarm/unlock", post(swarm::unlock))
        .route("/nodes", get(nodes::list))
        .route("/nodes/{id}", get(nodes::inspect).delete(nodes::remove))
        .route("/nodes/{id}/update", post(nodes::update))
        .route("/services", get(services::list))
        .route("/services/create", post(services::create))
        .route(
            "/services/{id}",
            get(services::inspect).delete(services::remove),
        )
        .route("/services/{id}/update", post(services::update))
        .route("/services/{id}/logs", get(logs::service_logs))
        .route("/networks", get(networks::list))
        .route("/networks/create", post(networks::create))
        .route(
            "/networks/{id}",
            get(networks::inspect).delete(networks::remove),
        )
        .route("/tasks", get(tasks::list))
        .route("/tasks/{id}", get(tasks::inspect))
        .route("/tasks/{id}/logs", get(logs::task_logs))
        .merge(unsupported::routes())
        .fallback(page_not_found)
        .method_not_allowed_fallback(page_not_found)
        .with_state(backend)
}

async fn page_not_found() -> ApiError {
    ApiError::page_not_found()
}
