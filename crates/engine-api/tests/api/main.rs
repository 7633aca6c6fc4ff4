//! Drives the Engine API router with an in-memory fake backend, request by
//! request, the way the docker CLI does (see
//! `shared/reference/engine-api-swarm.md`).

mod cli;
mod fake;
mod logs;
mod nodes;
mod server;
mod services;
mod swarm;
mod system;
mod tasks;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use bytes::Bytes;
use http_body_util::BodyExt;
use tower::ServiceExt;

pub use fake::Fake;

/// A response, fully read.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    /// The body as JSON (panics with the body text otherwise).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header value ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts an error reply: status, exact JSON content type, message.
    pub fn assert_error(&self, status: u16, message: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text());
        assert_eq!(self.header("content-type"), "application/json");
        assert_eq!(self.json(), serde_json::json!({ "message": message }));
    }
}

/// Sends one request to a fresh router over `fake`.
pub async fn send(fake: &Fake, method: Method, uri: &str, body: Option<&str>) -> Reply {
    let app = rswarm_engine_api::router(Arc::new(fake.clone()));
    let mut req = Request::builder().method(method).uri(uri);
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req
        .body(
            body.map(|b| Body::from(b.to_string()))
                .unwrap_or_else(Body::empty),
        )
        .expect("request");
    let resp = app.oneshot(req).await.expect("infallible");
    let (parts, body) = resp.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// `GET uri`.
pub async fn get(fake: &Fake, uri: &str) -> Reply {
    send(fake, Method::GET, uri, None).await
}

/// `POST uri` with a JSON body.
pub async fn post(fake: &Fake, uri: &str, body: &str) -> Reply {
    send(fake, Method::POST, uri, Some(body)).await
}

/// URL-encodes a filters JSON for a query string.
pub fn filters(json: &str) -> String {
    urlencoding::encode(json).into_owned()
}
