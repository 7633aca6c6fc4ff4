//! Reads of a node's local objects (containers, images, volumes, plugins)
//! and the event stream, answered as a Docker engine with none of them
//! would answer: empty lists, and 404 `No such ...` for a name. SDKs and
//! tools make these reads around swarm work (`docker inspect X` tries a
//! container, an image, a volume and a plugin before the swarm objects),
//! so they must never get a 501. Writes stay refused (see
//! [`super::unsupported`]).

use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::Path;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::ApiError;
use crate::query::Params;

fn no_such(message: String) -> ApiError {
    ApiError::not_found(message)
}

/// `GET /containers/json`, `/images/json`, `/plugins`: `[]`.
pub(super) async fn empty_list() -> Response {
    Json(Vec::<serde_json::Value>::new()).into_response()
}

/// `GET /volumes`.
pub(super) async fn volumes() -> Response {
    Json(json!({"Volumes": [], "Warnings": null})).into_response()
}

/// `GET /containers/{id}/json` (other container reads are refused).
pub(super) async fn container(Path(rest): Path<String>) -> ApiError {
    match rest.strip_suffix("/json") {
        Some(id) => no_such(format!("No such container: {id}")),
        None => super::unsupported::local_only_error(),
    }
}

/// `GET /images/{name}/json` (the name may hold `/`, as in `repo/img:tag`).
pub(super) async fn image(Path(rest): Path<String>) -> ApiError {
    match rest.strip_suffix("/json") {
        Some(name) => no_such(format!("No such image: {name}")),
        None => super::unsupported::local_only_error(),
    }
}

/// `GET /volumes/{name}`.
pub(super) async fn volume(Path(name): Path<String>) -> ApiError {
    no_such(format!("get {name}: no such volume"))
}

/// `GET /plugins/{name}/json` (the name may hold `/`).
pub(super) async fn plugin(Path(rest): Path<String>) -> ApiError {
    match rest.strip_suffix("/json") {
        Some(name) => no_such(format!("plugin \"{name}\" not found")),
        None => super::unsupported::local_only_error(),
    }
}

/// `GET /events`: a JSON stream with no local events. It ends at `until`
/// (a Unix time, as Docker's) when given, and stays open otherwise, as
/// Docker's does, so clients that follow events keep working.
pub(super) async fn events(params: Params) -> Result<Response, ApiError> {
    let until = match params.get("until") {
        "" => None,
        raw => Some(
            raw.parse::<f64>()
                .map_err(|_| ApiError::bad_request(format!("invalid value for until: {raw}")))?,
        ),
    };
    let wait = until.map(|t| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        Duration::from_secs_f64((t - now).max(0.0))
    });
    let stream = futures_util::stream::once(async move {
        match wait {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending::<()>().await,
        }
        Ok::<_, std::io::Error>(bytes::Bytes::new())
    });
    Ok((
        [(CONTENT_TYPE, "application/json")],
        Body::from_stream(stream),
    )
        .into_response())
}
