//! The one place where errors become HTTP responses: `{"message": ...}`
//! with `Content-Type: application/json` exactly (the Go client only
//! parses the body when the header is exactly that), and the status
//! mapping moby uses for each kind of failure.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rswarm_types::ControlError;

/// An error on its way to the client.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The text the CLI prints after `Error response from daemon: `.
    pub message: String,
}

/// The message moby gives for a stale `version` (a swarmkit gRPC error
/// passed on verbatim).
pub const OUT_OF_SEQUENCE: &str = "rpc error: code = Unknown desc = update out of sequence";

/// moby's message for a filter key an endpoint does not accept (Docker
/// 20.10's engine words; `{}` is the key).
pub fn invalid_filter(key: &str) -> ApiError {
    ApiError::bad_request(format!("Invalid filter '{key}'"))
}

/// The HTTP status for each control error kind.
pub fn status_of(err: &ControlError) -> StatusCode {
    match err {
        ControlError::NotInSwarm
        | ControlError::NotAManager
        | ControlError::WorkerNotManager
        | ControlError::AlreadyInSwarm
        | ControlError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        ControlError::NotFound { .. } => StatusCode::NOT_FOUND,
        ControlError::Ambiguous { .. }
        | ControlError::InvalidArgument(_)
        | ControlError::FailedPrecondition(_) => StatusCode::BAD_REQUEST,
        ControlError::NameConflict { .. } => StatusCode::CONFLICT,
        ControlError::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
        ControlError::OutOfSequence | ControlError::Internal(_) => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

impl From<ControlError> for ApiError {
    fn from(err: ControlError) -> Self {
        let message = match &err {
            ControlError::OutOfSequence => OUT_OF_SEQUENCE.to_string(),
            other => other.to_string(),
        };
        ApiError {
            status: status_of(&err),
            message,
        }
    }
}

/// The gRPC code swarmkit's control API answers with for an error that
/// moby passes on verbatim as `rpc error: code = <Code> desc = <message>`
/// (scripts grep these texts). `None`: moby words it itself.
fn grpc_code(err: &ControlError) -> Option<&'static str> {
    match err {
        ControlError::InvalidArgument(_) => Some("InvalidArgument"),
        ControlError::FailedPrecondition(_) => Some("FailedPrecondition"),
        ControlError::NameConflict { .. } => Some("AlreadyExists"),
        _ => None,
    }
}

impl ApiError {
    /// 400 with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    /// An error of the swarm control API (swarmkit's `controlapi` in
    /// Docker), worded as the docker CLI shows it: validation and
    /// precondition failures and name conflicts arrive through gRPC, e.g.
    /// `rpc error: code = FailedPrecondition desc = attempting to demote
    /// the last manager of the swarm`.
    pub fn from_control_api(err: ControlError) -> Self {
        let mut api = ApiError::from(err.clone());
        if let Some(code) = grpc_code(&err) {
            api.message = format!("rpc error: code = {code} desc = {err}");
        }
        api
    }

    /// 404 with `message` (local objects a swarm node never has).
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }

    /// 404 `page not found`, for unknown routes and methods.
    pub fn page_not_found() -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            message: "page not found".into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({ "message": self.message })),
        )
            .into_response()
    }
}

/// What handlers return.
pub type ApiResult<T = Response> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_matches_moby() {
        let cases: Vec<(ControlError, u16)> = vec![
            (ControlError::NotInSwarm, 503),
            (ControlError::NotAManager, 503),
            (ControlError::WorkerNotManager, 503),
            (ControlError::AlreadyInSwarm, 503),
            (ControlError::Unavailable("x".into()), 503),
            (ControlError::not_found("service", "x"), 404),
            (
                ControlError::Ambiguous {
                    kind: "node",
                    id: "a".into(),
                    matches: 2,
                },
                400,
            ),
            (ControlError::invalid("x"), 400),
            (ControlError::FailedPrecondition("x".into()), 400),
            (
                ControlError::NameConflict {
                    kind: "service",
                    name: "x".into(),
                },
                409,
            ),
            (ControlError::OutOfSequence, 500),
            (ControlError::NotImplemented("x".into()), 501),
            (ControlError::Internal("x".into()), 500),
        ];
        for (err, code) in cases {
            assert_eq!(ApiError::from(err.clone()).status.as_u16(), code, "{err:?}");
        }
        assert_eq!(
            ApiError::from(ControlError::OutOfSequence).message,
            OUT_OF_SEQUENCE
        );
    }
}
