//! JSON request bodies. Like moby's `httputils.ReadJSON`, an empty body
//! decodes to the default value; anything else must be one JSON value,
//! decoded with Go's rules (see [`crate::gojson`]); a syntax error names
//! its position, a type error the field path.

use axum::extract::{FromRequest, Request};
use bytes::Bytes;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body decoded into `T` (`T::default()` when the body is empty).
#[derive(Clone, Debug, PartialEq)]
pub struct JsonBody<T>(pub T);

/// Decodes `bytes` as `T`, with an error message naming the problem.
pub fn decode<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_json::Value::deserialize(&mut de)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?;
    de.end().map_err(|e| {
        ApiError::bad_request(format!(
            "invalid JSON body: unexpected content after JSON: {e}"
        ))
    })?;
    crate::gojson::from_value(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        if is_domain_message(&inner) {
            ApiError::bad_request(inner)
        } else if path.is_empty() || path == "." {
            ApiError::bad_request(format!("invalid JSON body: {inner}"))
        } else {
            ApiError::bad_request(format!("invalid JSON body: {path}: {inner}"))
        }
    })
}

/// A value the types refused in Docker's own words (`invalid
/// Availability: "x"`), shown as is; serde's type errors get the field path.
fn is_domain_message(msg: &str) -> bool {
    const SERDE: [&str; 5] = [
        "invalid type",
        "invalid value",
        "invalid length",
        "unknown variant",
        "missing field",
    ];
    msg.starts_with("invalid ") && !SERDE.iter().any(|p| msg.starts_with(p))
}

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Default,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError {
                status: e.status(),
                message: format!("failed to read request body: {}", e.body_text()),
            })?;
        decode(&bytes).map(JsonBody)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_types::{NodeSpec, ServiceSpec};

    #[test]
    fn empty_is_default_and_errors_name_the_field() {
        let spec: NodeSpec = decode(b"  \n").expect("empty");
        assert_eq!(spec, NodeSpec::default());
        let err = decode::<NodeSpec>(br#"{"Availability":"sleepy"}"#).expect_err("bad");
        assert_eq!(err.status.as_u16(), 400);
        assert_eq!(err.message, r#"invalid Availability: "sleepy""#);
        let spec: NodeSpec =
            decode(br#"{"availability":"Drain","role":"MANAGER"}"#).expect("any case");
        assert_eq!(
            (spec.availability, spec.role),
            (
                rswarm_types::Availability::Drain,
                rswarm_types::NodeRole::Manager
            )
        );
        let err =
            decode::<ServiceSpec>(br#"{"Name":"web","Mode":{"Replicated":{"Replicas":"x"}}}"#)
                .expect_err("bad");
        assert!(
            err.message.contains("Mode.Replicated.Replicas"),
            "{}",
            err.message
        );
        let err = decode::<NodeSpec>(b"{} {}").expect_err("trailing");
        assert!(
            err.message.contains("unexpected content"),
            "{}",
            err.message
        );
        let err = decode::<NodeSpec>(b"{").expect_err("eof");
        assert!(
            err.message.starts_with("invalid JSON body: "),
            "{}",
            err.message
        );
    }
}
