//! `GET /services/{id}/logs` and `GET /tasks/{id}/logs` (spec §6): the
//! query is validated before the stream starts (errors after the 200
//! cannot change the status), then each backend line becomes one frame,
//! sent as soon as it arrives.

use std::convert::Infallible;

use axum::body::Body;
use axum::extract::{Extension, Path, State};
use axum::http::HeaderValue;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use rswarm_types::Timestamp;

use super::Shared;
use crate::backend::{LogOptions, LogTarget};
use crate::error::{ApiError, ApiResult};
use crate::guard;
use crate::logframe::{self, FrameOptions};
use crate::query::Params;
use crate::resolve::{resolve, resolve_service};
use crate::version::ApiVersion;

/// Parses `tail`: `""`/`all` = everything, else a non-negative integer.
pub fn parse_tail(raw: &str) -> Result<Option<usize>, ApiError> {
    if raw.is_empty() || raw == "all" {
        return Ok(None);
    }
    match raw.parse::<i64>() {
        Ok(n) if n < 0 => Err(ApiError::bad_request("negative tail values not supported")),
        Ok(n) => Ok(Some(usize::try_from(n).unwrap_or(usize::MAX))),
        Err(e) => Err(ApiError::bad_request(format!(
            "tail value must be a positive integer or \"all\": {e}"
        ))),
    }
}

/// Parses `since`: `<unix seconds>[.<fraction>]` (moby `timetypes.ParseTimestamps`).
pub fn parse_since(raw: &str) -> Result<Option<Timestamp>, ApiError> {
    if raw.is_empty() {
        return Ok(None);
    }
    let bad =
        |why: String| ApiError::bad_request(format!("could not parse since timestamp: {why}"));
    let (secs, frac) = raw.split_once('.').unwrap_or((raw, ""));
    let secs: i64 = secs.parse().map_err(|e| bad(format!("{raw}: {e}")))?;
    let nanos = if frac.is_empty() {
        0
    } else {
        if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(format!("{raw}: invalid fractional seconds")));
        }
        let digits: u32 = frac.parse().map_err(|e| bad(format!("{raw}: {e}")))?;
        digits * 10u32.pow(9 - frac.len() as u32)
    };
    chrono::DateTime::from_timestamp(secs, nanos)
        .map(Some)
        .ok_or_else(|| bad(format!("{raw}: out of range")))
}

struct LogQuery {
    options: LogOptions,
    frames: FrameOptions,
}

fn parse_query(params: &Params) -> Result<LogQuery, ApiError> {
    let (stdout, stderr) = (params.flag("stdout"), params.flag("stderr"));
    if !stdout && !stderr {
        return Err(ApiError::bad_request(
            "Bad parameters: you must choose at least one stream",
        ));
    }
    let options = LogOptions {
        follow: params.flag("follow"),
        tail: parse_tail(params.get("tail"))?,
        since: parse_since(params.get("since"))?,
        stdout,
        stderr,
    };
    let frames = FrameOptions {
        stdout,
        stderr,
        timestamps: params.flag("timestamps"),
        details: params.flag("details"),
        tty: false,
    };
    Ok(LogQuery { options, frames })
}

async fn stream(
    backend: Shared,
    target: LogTarget,
    q: LogQuery,
    version: &ApiVersion,
) -> ApiResult {
    let messages = backend.logs(target, q.options).await?;
    let frames = q.frames;
    let body = messages.filter_map(move |m| {
        std::future::ready(logframe::encode(&m, &frames).map(Ok::<_, Infallible>))
    });
    let content_type = if !frames.tty && version.at_least("1.42") {
        logframe::MULTIPLEXED
    } else {
        logframe::RAW
    };
    let mut resp = Body::from_stream(body).into_response();
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    Ok(resp)
}

/// `GET /services/{id}/logs`.
pub(super) async fn service_logs(
    State(backend): State<Shared>,
    Extension(version): Extension<ApiVersion>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let mut q = parse_query(&params)?;
    guard::manager(backend.as_ref()).await?;
    let service = resolve_service(backend.as_ref(), &id).await?;
    q.frames.tty = service
        .spec
        .task_template
        .container_spec
        .as_ref()
        .is_some_and(|c| c.tty);
    stream(backend, LogTarget::Service(service.id), q, &version).await
}

/// `GET /tasks/{id}/logs`.
pub(super) async fn task_logs(
    State(backend): State<Shared>,
    Extension(version): Extension<ApiVersion>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let mut q = parse_query(&params)?;
    guard::manager(backend.as_ref()).await?;
    let task = resolve(backend.list_tasks().await?, &id)?;
    q.frames.tty = task.spec.container_spec.as_ref().is_some_and(|c| c.tty);
    stream(backend, LogTarget::Task(task.id), q, &version).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_and_since() {
        assert_eq!(parse_tail("all"), Ok(None));
        assert_eq!(parse_tail(""), Ok(None));
        assert_eq!(parse_tail("10"), Ok(Some(10)));
        assert!(
            parse_tail("-1")
                .expect_err("neg")
                .message
                .contains("negative")
        );
        assert!(parse_tail("x").is_err());
        let t = parse_since("1735787045.000000120")
            .expect("ok")
            .expect("some");
        assert_eq!(
            logframe::format_timestamp(&t),
            "2025-01-02T03:04:05.000000120Z"
        );
        let t = parse_since("1735787045.5").expect("ok").expect("some");
        assert_eq!(t.timestamp_subsec_nanos(), 500_000_000);
        assert_eq!(
            parse_since("1735787045")
                .expect("ok")
                .map(|t| t.timestamp()),
            Some(1_735_787_045)
        );
        assert!(parse_since("10m").is_err());
        assert!(parse_since("1.x").is_err());
    }
}
