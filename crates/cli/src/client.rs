//! The Engine API client: HTTP/1.1 over a unix socket or TCP, one
//! connection per request, `HEAD /_ping` version negotiation, versioned
//! paths, `{"message"}` error decoding and streamed bodies.

use std::path::PathBuf;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{CliError, Result};

/// The highest API version this client speaks (docker 28.5's).
pub const MAX_API_VERSION: &str = "1.51";
/// The version assumed when the daemon sends no `Api-Version` header.
pub const FALLBACK_API_VERSION: &str = "1.24";

/// Where the daemon listens.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Target {
    Unix(PathBuf),
    Tcp(String),
}

/// A connection factory for one daemon, with the negotiated API version.
#[derive(Clone, Debug)]
pub struct Client {
    host: String,
    target: Target,
    version: String,
}

/// An open response whose body is read incrementally.
pub struct Stream {
    /// The response body.
    pub body: Incoming,
    /// The `Content-Type` header.
    pub content_type: String,
}

fn parse_host(host: &str) -> Result<Target> {
    if let Some(path) = host.strip_prefix("unix://") {
        return Ok(Target::Unix(PathBuf::from(path)));
    }
    if host.starts_with('/') {
        return Ok(Target::Unix(PathBuf::from(host)));
    }
    for prefix in ["tcp://", "http://"] {
        if let Some(addr) = host.strip_prefix(prefix) {
            let addr = addr.trim_end_matches('/');
            if addr.is_empty() {
                break;
            }
            let addr = if addr.contains(':') {
                addr.to_string()
            } else {
                format!("{addr}:2375")
            };
            return Ok(Target::Tcp(addr));
        }
    }
    Err(CliError::msg(format!(
        "unable to parse daemon host `{host}`"
    )))
}

/// Compares `major.minor` versions.
pub fn version_less(a: &str, b: &str) -> bool {
    let parse = |v: &str| -> (u32, u32) {
        let (maj, min) = v.split_once('.').unwrap_or((v, "0"));
        (maj.parse().unwrap_or(0), min.parse().unwrap_or(0))
    };
    parse(a) < parse(b)
}

impl Client {
    /// Connects to `host` and negotiates the API version with `HEAD /_ping`.
    pub async fn connect(host: &str) -> Result<Client> {
        let target = parse_host(host)?;
        let mut c = Client {
            host: host.to_string(),
            target,
            version: MAX_API_VERSION.to_string(),
        };
        let mut resp = c.send(Method::HEAD, "/_ping", None).await?;
        if resp.status() != StatusCode::OK && resp.status() != StatusCode::INTERNAL_SERVER_ERROR {
            resp = c.send(Method::GET, "/_ping", None).await?;
        }
        let server = resp
            .headers()
            .get("api-version")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .unwrap_or_else(|| FALLBACK_API_VERSION.to_string());
        if version_less(&server, MAX_API_VERSION) {
            c.version = server;
        }
        Ok(c)
    }

    /// The negotiated API version.
    pub fn version(&self) -> &str {
        &self.version
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Response<Incoming>> {
        let connect_err = |e: &dyn std::fmt::Display| CliError::Connect {
            host: self.host.clone(),
            reason: e.to_string(),
        };
        let host_header = match &self.target {
            Target::Unix(_) => "api.moby.localhost".to_string(),
            Target::Tcp(addr) => addr.clone(),
        };
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header("host", host_header)
            .header(
                "user-agent",
                concat!("rswarm-cli/", env!("CARGO_PKG_VERSION"), " (linux)"),
            );
        if body.is_some() {
            builder = builder.header("content-type", "application/json");
        }
        let req = builder
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| CliError::msg(e.to_string()))?;
        let send = async {
            match &self.target {
                Target::Unix(p) => {
                    let s = tokio::net::UnixStream::connect(p)
                        .await
                        .map_err(|e| connect_err(&e))?;
                    request_on(TokioIo::new(s), req)
                        .await
                        .map_err(|e| connect_err(&e))
                }
                Target::Tcp(addr) => {
                    let s = tokio::net::TcpStream::connect(addr)
                        .await
                        .map_err(|e| connect_err(&e))?;
                    request_on(TokioIo::new(s), req)
                        .await
                        .map_err(|e| connect_err(&e))
                }
            }
        };
        send.await
    }

    fn url(&self, path: &str) -> String {
        format!("/v{}{}", self.version, path)
    }

    /// Sends a request to a versioned path and fails on an error status.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Response<Incoming>> {
        let url = self.url(path);
        let resp = self.send(method, &url, body).await?;
        let status = resp.status();
        if status.is_success() || status.is_redirection() || status.is_informational() {
            return Ok(resp);
        }
        let ct = content_type(&resp);
        let bytes = read_all(resp).await?;
        Err(error_from(status, &ct, &bytes, &url))
    }

    /// `GET` and decode JSON.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let bytes = self.get_raw(path).await?;
        serde_json::from_slice(&bytes).map_err(|e| CliError::Decode(e.to_string()))
    }

    /// `GET` and return the raw body.
    pub async fn get_raw(&self, path: &str) -> Result<Vec<u8>> {
        let resp = self.call(Method::GET, path, None).await?;
        read_all(resp).await
    }

    /// `POST` a JSON body (newline-terminated, like Go's encoder).
    pub async fn post<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> Result<Vec<u8>> {
        let mut bytes = serde_json::to_vec(body).map_err(|e| CliError::msg(e.to_string()))?;
        bytes.push(b'\n');
        let resp = self.call(Method::POST, path, Some(bytes)).await?;
        read_all(resp).await
    }

    /// `POST` without a body.
    pub async fn post_empty(&self, path: &str) -> Result<Vec<u8>> {
        let resp = self.call(Method::POST, path, None).await?;
        read_all(resp).await
    }

    /// `DELETE`.
    pub async fn delete(&self, path: &str) -> Result<()> {
        let resp = self.call(Method::DELETE, path, None).await?;
        read_all(resp).await.map(|_| ())
    }

    /// `GET` a streamed body (logs).
    pub async fn stream(&self, path: &str) -> Result<Stream> {
        let resp = self.call(Method::GET, path, None).await?;
        let content_type = content_type(&resp);
        Ok(Stream {
            body: resp.into_body(),
            content_type,
        })
    }
}

async fn request_on<I>(
    io: I,
    req: Request<Full<Bytes>>,
) -> std::result::Result<Response<Incoming>, hyper::Error>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    sender.send_request(req).await
}

fn content_type(resp: &Response<Incoming>) -> String {
    resp.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

async fn read_all(resp: Response<Incoming>) -> Result<Vec<u8>> {
    let collected = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| CliError::msg(format!("error reading response: {e}")))?;
    Ok(collected.to_bytes().to_vec())
}

/// Turns an error response into a [`CliError::Daemon`], as the Go client
/// does (`checkResponseErr`).
pub fn error_from(status: StatusCode, content_type: &str, body: &[u8], url: &str) -> CliError {
    #[derive(serde::Deserialize)]
    struct ErrBody {
        #[serde(default)]
        message: String,
    }
    let message = if body.is_empty() {
        format!(
            "request returned {} for API route and version {url}, check if the server supports the requested API version",
            status.canonical_reason().unwrap_or("error")
        )
    } else if content_type == "application/json" {
        match serde_json::from_slice::<ErrBody>(body) {
            Ok(e) => e.message,
            Err(e) => format!("Error reading JSON: {e}"),
        }
    } else {
        String::from_utf8_lossy(body).trim().to_string()
    };
    CliError::Daemon {
        status: status.as_u16(),
        message,
    }
}

/// Percent-encodes a path segment (IDs and names given by users).
pub fn seg(s: &str) -> String {
    urlencoding::encode(s).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_versions() {
        assert_eq!(
            parse_host("unix:///run/x.sock").expect("unix"),
            Target::Unix("/run/x.sock".into())
        );
        assert_eq!(
            parse_host("tcp://127.0.0.1:2375").expect("tcp"),
            Target::Tcp("127.0.0.1:2375".into())
        );
        assert_eq!(
            parse_host("tcp://localhost").expect("tcp"),
            Target::Tcp("localhost:2375".into())
        );
        assert!(parse_host("ftp://x").is_err());
        assert!(version_less("1.41", "1.51"));
        assert!(!version_less("1.51", "1.51"));
        assert!(version_less("1.9", "1.41"));
    }

    #[test]
    fn error_bodies() {
        let e = error_from(
            StatusCode::NOT_FOUND,
            "application/json",
            br#"{"message":"service x not found"}"#,
            "/v1.51/services/x",
        );
        assert_eq!(
            e.to_string(),
            "Error response from daemon: service x not found"
        );
        assert!(e.is_not_found());
        let e = error_from(StatusCode::BAD_REQUEST, "text/plain", b"boom\n", "/x");
        assert_eq!(e.to_string(), "Error response from daemon: boom");
        let e = error_from(StatusCode::NOT_FOUND, "", b"", "/v1.51/x");
        assert!(
            e.to_string()
                .contains("request returned Not Found for API route and version /v1.51/x")
        );
    }
}
