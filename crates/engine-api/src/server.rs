//! Serving the router on a unix socket or a TCP listener, with graceful
//! shutdown. Open log streams (`follow=1`) would keep a graceful shutdown
//! waiting forever, so connections get [`SHUTDOWN_GRACE`] to finish after
//! the shutdown signal, then the server returns anyway.

use std::future::Future;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::time::Duration;

use axum::Router;
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::watch;

/// How long open connections may outlive the shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Serves `router` on a unix socket at `path` until `shutdown` completes.
///
/// A stale socket file is removed first (any other kind of file is left
/// alone, and binding then fails); the socket is made `0660`, and removed
/// again when the server stops.
pub async fn serve_unix(
    path: &Path,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(meta) = std::fs::symlink_metadata(path)
        && meta.file_type().is_socket()
    {
        std::fs::remove_file(path)?;
    }
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)?;
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    tracing::info!(socket = %path.display(), "engine API listening");
    let result = with_grace(shutdown, |graceful| async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(graceful)
            .await
    })
    .await;
    let _ = std::fs::remove_file(path);
    result
}

/// Serves `router` on `listener` until `shutdown` completes.
pub async fn serve_tcp(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "engine API listening");
    }
    with_grace(shutdown, |graceful| async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(graceful)
            .await
    })
    .await
}

/// Runs `serve(graceful)`; returns when it finishes, or [`SHUTDOWN_GRACE`]
/// after `shutdown` fired if connections are still open.
async fn with_grace<S, F>(
    shutdown: impl Future<Output = ()> + Send + 'static,
    serve: S,
) -> std::io::Result<()>
where
    S: FnOnce(std::pin::Pin<Box<dyn Future<Output = ()> + Send>>) -> F,
    F: Future<Output = std::io::Result<()>>,
{
    let (tx, mut rx) = watch::channel(false);
    let graceful = Box::pin(async move {
        shutdown.await;
        let _ = tx.send(true);
    });
    let server = serve(graceful);
    tokio::pin!(server);
    let deadline = async move {
        if rx.wait_for(|fired| *fired).await.is_err() {
            // The sender is gone without firing: never force the server down.
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        result = &mut server => result,
        () = deadline => {
            tracing::warn!("engine API: connections still open after shutdown grace period, closing");
            Ok(())
        }
    }
}
