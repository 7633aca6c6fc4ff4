//! `GET /swarm/backup` (rswarm only; Docker has no such endpoint): a
//! backup file of the cluster store, taken online on a manager, as
//! `application/octet-stream`. It holds the CA key: never log it.

use axum::http::header;
use axum::response::IntoResponse;

use super::Shared;
use crate::error::ApiResult;
use crate::guard;

/// The media type of a backup file.
pub const BACKUP_MEDIA_TYPE: &str = "application/octet-stream";

/// `GET /swarm/backup`.
pub(super) async fn backup(
    axum::extract::State(backend): axum::extract::State<Shared>,
) -> ApiResult {
    guard::manager(backend.as_ref()).await?;
    let bytes = backend.swarm_backup().await?;
    Ok((
        [
            (header::CONTENT_TYPE, BACKUP_MEDIA_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        bytes,
    )
        .into_response())
}
