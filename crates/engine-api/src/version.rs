//! API version handling: the `/v1.NN` path prefix, the supported range,
//! and the headers every response carries (moby's version and
//! experimental middlewares).
//!
//! The middleware runs before routing: it strips the prefix, rejects
//! versions outside [`MIN_API_VERSION`]..=[`API_VERSION`] with moby's
//! messages, and records the negotiated [`ApiVersion`] as a request
//! extension for handlers whose output depends on it.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::{API_VERSION, MIN_API_VERSION, SERVER_VERSION};

/// A dotted API version such as `1.41`, compared numerically part by part
/// (a missing or non-numeric part counts as 0, as in moby's `versions`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiVersion {
    raw: String,
    parts: Vec<u64>,
}

impl ApiVersion {
    /// Parses any dotted string; never fails.
    pub fn parse(raw: &str) -> ApiVersion {
        let parts = raw.split('.').map(|p| p.parse().unwrap_or(0)).collect();
        ApiVersion {
            raw: raw.to_string(),
            parts,
        }
    }

    /// The highest version we serve.
    pub fn max() -> ApiVersion {
        ApiVersion::parse(API_VERSION)
    }

    /// The version as the client wrote it.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// True when `self < other` (e.g. `at_least("1.42")` is its negation).
    pub fn less_than(&self, other: &str) -> bool {
        self.cmp_parts(&ApiVersion::parse(other)) == std::cmp::Ordering::Less
    }

    /// True when `self >= other`.
    pub fn at_least(&self, other: &str) -> bool {
        !self.less_than(other)
    }

    fn cmp_parts(&self, other: &ApiVersion) -> std::cmp::Ordering {
        let n = self.parts.len().max(other.parts.len());
        for i in 0..n {
            let a = self.parts.get(i).copied().unwrap_or(0);
            let b = other.parts.get(i).copied().unwrap_or(0);
            if a != b {
                return a.cmp(&b);
            }
        }
        std::cmp::Ordering::Equal
    }
}

impl Default for ApiVersion {
    fn default() -> Self {
        ApiVersion::max()
    }
}

/// Splits `/v1.41/info` into `("1.41", "/info")`; `None` when the path has
/// no version prefix (moby's route pattern is `/v{version:[0-9.]+}/...`).
pub fn split_prefix(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("/v")?;
    let end = rest.find('/')?;
    let (version, tail) = rest.split_at(end);
    let valid = !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    valid.then_some((version, tail))
}

/// Rejects versions outside the supported range with moby's messages.
pub fn check(version: &ApiVersion) -> Result<(), ApiError> {
    if version.cmp_parts(&ApiVersion::max()) == std::cmp::Ordering::Greater {
        return Err(ApiError::bad_request(format!(
            "client version {} is too new. Maximum supported API version is {API_VERSION}",
            version.as_str()
        )));
    }
    if version.less_than(MIN_API_VERSION) {
        return Err(ApiError::bad_request(format!(
            "client version {} is too old. Minimum supported API version is {MIN_API_VERSION}, please upgrade your client to a newer version",
            version.as_str()
        )));
    }
    Ok(())
}

/// Strips the version prefix, checks the version, and stamps the standard
/// headers on whatever response comes back.
pub async fn middleware(mut req: Request, next: Next) -> Response {
    let split =
        split_prefix(req.uri().path()).map(|(v, rest)| (ApiVersion::parse(v), rest.to_string()));
    let mut response = match split {
        None => {
            req.extensions_mut().insert(ApiVersion::max());
            next.run(req).await
        }
        Some((version, rest)) => match check(&version) {
            Err(err) => err.into_response(),
            Ok(()) => match rewrite(req.uri(), &rest) {
                Err(err) => err.into_response(),
                Ok(uri) => {
                    *req.uri_mut() = uri;
                    req.extensions_mut().insert(version);
                    next.run(req).await
                }
            },
        },
    };
    stamp_headers(response.headers_mut());
    response
}

fn rewrite(uri: &Uri, path: &str) -> Result<Uri, ApiError> {
    let path_and_query = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    };
    path_and_query
        .parse::<Uri>()
        .map_err(|e| ApiError::bad_request(format!("invalid request path: {e}")))
}

/// Adds `Api-Version`, `Ostype`, `Docker-Experimental` and `Server`.
pub fn stamp_headers(headers: &mut axum::http::HeaderMap) {
    let server = format!("Docker/{SERVER_VERSION} (linux)");
    let pairs = [
        ("api-version", API_VERSION.to_string()),
        ("ostype", "linux".to_string()),
        ("docker-experimental", "false".to_string()),
        ("server", server),
    ];
    for (name, value) in pairs {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(split_prefix("/v1.41/info"), Some(("1.41", "/info")));
        assert_eq!(
            split_prefix("/v1.51/services/web/logs"),
            Some(("1.51", "/services/web/logs"))
        );
        assert_eq!(split_prefix("/info"), None);
        assert_eq!(split_prefix("/v1.41"), None);
        assert_eq!(split_prefix("/volumes/x"), None);
        assert_eq!(split_prefix("/vx.1/info"), None);
    }

    #[test]
    fn comparisons() {
        let v = ApiVersion::parse("1.41");
        assert!(v.less_than("1.42"));
        assert!(v.at_least("1.41"));
        assert!(ApiVersion::parse("1.100").at_least("1.51"));
        assert!(check(&ApiVersion::parse("1.51")).is_ok());
        assert!(check(&ApiVersion::parse("1.24")).is_ok());
        let new = check(&ApiVersion::parse("1.52")).expect_err("too new");
        assert_eq!(
            new.message,
            "client version 1.52 is too new. Maximum supported API version is 1.51"
        );
        let old = check(&ApiVersion::parse("1.23")).expect_err("too old");
        assert!(
            old.message.starts_with(
                "client version 1.23 is too old. Minimum supported API version is 1.24"
            )
        );
    }
}
