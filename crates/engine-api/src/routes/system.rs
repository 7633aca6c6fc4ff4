//! The handshake: `/_ping` and `/version` (spec §1.1, §1.2).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, PRAGMA};
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::Shared;
use crate::backend::NodeInfo;
use crate::guard::swarm_status;
use crate::host::HostFacts;
use crate::{API_VERSION, MIN_API_VERSION, SERVER_VERSION};

fn ping_response(info: &NodeInfo, body: &'static str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store, must-revalidate"),
    );
    h.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(
        HeaderName::from_static("swarm"),
        HeaderValue::from_static(swarm_status(info)),
    );
    resp
}

/// `GET /_ping`: `OK`.
pub(super) async fn ping(State(backend): State<Shared>) -> Response {
    ping_response(&backend.info().await, "OK")
}

/// `HEAD /_ping`: the same headers, `Content-Length: 0`.
pub(super) async fn ping_head(State(backend): State<Shared>) -> Response {
    let mut resp = ping_response(&backend.info().await, "");
    resp.headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
    resp
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Component {
    name: &'static str,
    version: String,
    details: BTreeMap<&'static str, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Platform {
    name: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct VersionResponse {
    platform: Platform,
    components: Vec<Component>,
    version: &'static str,
    api_version: &'static str,
    #[serde(rename = "MinAPIVersion")]
    min_api_version: &'static str,
    git_commit: &'static str,
    go_version: &'static str,
    os: &'static str,
    arch: String,
    kernel_version: String,
}

/// Git commit baked in at build time, if the build provided one.
const GIT_COMMIT: &str = match option_env!("RSWARM_GIT_COMMIT") {
    Some(c) => c,
    None => "unknown",
};

/// `GET /version`.
pub(super) async fn version() -> Response {
    let host = HostFacts::read();
    let details: BTreeMap<&'static str, String> = [
        ("ApiVersion", API_VERSION.to_string()),
        ("MinAPIVersion", MIN_API_VERSION.to_string()),
        ("GitCommit", GIT_COMMIT.to_string()),
        ("GoVersion", "n/a (rust)".to_string()),
        ("Os", "linux".to_string()),
        ("Arch", host.go_arch.clone()),
        ("Experimental", "false".to_string()),
        ("KernelVersion", host.kernel_version.clone()),
    ]
    .into_iter()
    .collect();
    let rswarm = Component {
        name: "rswarm",
        version: env!("CARGO_PKG_VERSION").to_string(),
        details: [("GitCommit", GIT_COMMIT.to_string())]
            .into_iter()
            .collect(),
    };
    Json(VersionResponse {
        platform: Platform { name: "rswarm" },
        components: vec![
            Component {
                name: "Engine",
                version: SERVER_VERSION.to_string(),
                details,
            },
            rswarm,
        ],
        version: SERVER_VERSION,
        api_version: API_VERSION,
        min_api_version: MIN_API_VERSION,
        git_commit: GIT_COMMIT,
        go_version: "n/a (rust)",
        os: "linux",
        arch: host.go_arch,
        kernel_version: host.kernel_version,
    })
    .into_response()
}
