//! The Docker-Engine-compatible HTTP API (axum) over unix and TCP sockets.
//!
//! Handlers parse requests, resolve IDs/names/prefixes, apply filters and
//! format responses exactly as the stock `docker` CLI expects; all state
//! lives behind the [`Backend`] trait that the daemon implements.

pub mod backend;

pub use backend::*;
