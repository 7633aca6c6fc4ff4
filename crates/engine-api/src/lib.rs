//! The Docker-Engine-compatible HTTP API (axum) over unix and TCP sockets.
//!
//! Handlers parse requests, resolve IDs/names/prefixes, apply filters and
//! format responses exactly as the stock `docker` CLI (28.x and 20.10)
//! expects; all state lives behind the [`Backend`] trait that the daemon
//! implements. Every route is served both unversioned and under a
//! `/v1.NN` prefix (see [`version`]); every error leaves through one
//! status mapping (see [`error`]).
//!
//! What it does not do: validate or default specs beyond what the Engine
//! API layer of moby does (that is the control API's job), manage local
//! containers, images or volumes (those endpoints answer 501), or keep any
//! state of its own.
//!
//! Entry points: [`router`], [`serve_unix`], [`serve_tcp`].

pub mod backend;
pub mod body;
pub mod cluster_info;
pub mod convert;
pub mod error;
pub mod filters;
pub mod gojson;
pub mod guard;
pub mod host;
pub mod logframe;
pub mod names;
pub mod network_json;
pub mod query;
pub mod resolve;
mod routes;
pub mod server;
pub mod spec_in;
pub mod status;
pub mod version;

pub use backend::*;
pub use error::ApiError;
pub use server::{serve_tcp, serve_unix};

/// The highest Engine API version served (what docker 28.5 speaks).
pub const API_VERSION: &str = "1.51";
/// The lowest Engine API version accepted.
pub const MIN_API_VERSION: &str = "1.24";
/// The engine version reported in `Server`, `/version` and `/info`: the
/// Docker release whose API we follow, tagged with rswarm's own version.
pub const SERVER_VERSION: &str = concat!("28.5.2-rswarm.", env!("CARGO_PKG_VERSION"));

/// The whole Engine API as one router (versioned and unversioned paths).
pub fn router(backend: std::sync::Arc<dyn Backend>) -> axum::Router {
    let api = routes::api(backend);
    axum::Router::new()
        .fallback_service(api)
        .layer(axum::middleware::from_fn(version::middleware))
}
