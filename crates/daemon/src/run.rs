//! `rswarm daemon`: binds the sockets, restores the swarm, serves the
//! Engine API until SIGTERM/SIGINT, then stops everything cleanly.

use std::path::PathBuf;
use std::sync::Arc;

use rswarm_exec::{DockerExecutor, ExecError, Executor, LogStore, ProcessExecutor};
use rswarm_rt::{Shutdown, SystemClock};

use crate::args::{DEFAULT_SOCKET, DaemonArgs, Runtime};
use crate::backend::NodeBackend;
use crate::error::DaemonError;
use crate::node::LocalNode;
use crate::paths::Paths;

/// The engine version this daemon reports.
pub const ENGINE_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "-rswarm");

/// A parsed `-H` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listen {
    /// A unix socket path.
    Unix(PathBuf),
    /// A TCP address.
    Tcp(String),
}

/// Parses `unix:///path` or `tcp://host:port`.
pub fn parse_host(h: &str) -> Result<Listen, DaemonError> {
    if let Some(p) = h.strip_prefix("unix://") {
        if p.is_empty() {
            return Err(DaemonError::BadHost(h.into()));
        }
        return Ok(Listen::Unix(PathBuf::from(p)));
    }
    if let Some(a) = h.strip_prefix("tcp://")
        && a.rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        return Ok(Listen::Tcp(a.to_string()));
    }
    Err(DaemonError::BadHost(h.into()))
}

fn default_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// Runs the daemon until a termination signal.
pub async fn run(args: DaemonArgs) -> anyhow::Result<()> {
    let hosts = if args.hosts.is_empty() {
        vec![DEFAULT_SOCKET.to_string()]
    } else {
        args.hosts.clone()
    };
    let listens = hosts
        .iter()
        .map(|h| parse_host(h))
        .collect::<Result<Vec<_>, _>>()?;
    crate::args::set_raft_timing(args.raft_timing().map_err(anyhow::Error::msg)?);
    crate::args::set_network_key_rotation(args.network_key_rotation);
    let paths = Paths::new(&args.data_root);
    private_data_root(paths.root())?;
    let networking = crate::networking::Networking::start(&paths).await;
    let hostname = args.hostname.clone().unwrap_or_else(default_hostname);
    let shutdown = Shutdown::new();
    let logs = LogStore::new(paths.logs());
    let executor = executor(&args, logs.clone()).await?;
    let runtime = executor.describe().runtime;
    tracing::info!("task runtime: {runtime}");
    let node = Arc::new(
        LocalNode::new(
            paths.clone(),
            hostname,
            executor,
            logs,
            Arc::new(SystemClock),
            shutdown.clone(),
        )
        .with_networking(networking.clone()),
    );
    node.restore().await.map_err(|e| DaemonError::State {
        path: paths.swarm().display().to_string(),
        reason: e.to_string(),
    })?;

    let roles = tokio::spawn(node.clone().supervise_role(shutdown.clone()));
    let backend = Arc::new(NodeBackend::new(node.clone(), runtime));
    let router = rswarm_engine_api::router(backend);
    let mut servers = Vec::new();
    for l in listens {
        let stop = shutdown.clone();
        let router = router.clone();
        servers.push(match l {
            Listen::Unix(path) => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| DaemonError::Io {
                        context: format!("creating {}", dir.display()),
                        source: e,
                    })?;
                }
                tokio::spawn(async move {
                    if let Err(e) =
                        rswarm_engine_api::serve_unix(
                            &path,
                            router,
                            async move { stop.wait().await },
                        )
                        .await
                    {
                        tracing::error!("serving {}: {e}", path.display());
                    }
                })
            }
            Listen::Tcp(addr) => {
                let listener =
                    tokio::net::TcpListener::bind(&addr)
                        .await
                        .map_err(|e| DaemonError::Io {
                            context: format!("binding tcp://{addr}"),
                            source: e,
                        })?;
                tokio::spawn(async move {
                    if let Err(e) =
                        rswarm_engine_api::serve_tcp(
                            listener,
                            router,
                            async move { stop.wait().await },
                        )
                        .await
                    {
                        tracing::error!("serving tcp://{addr}: {e}");
                    }
                })
            }
        });
    }
    tracing::info!("rswarm daemon ready on {}", hosts.join(", "));
    wait_for_signal().await;
    tracing::info!("shutting down: stopping tasks and the manager");
    node.deactivate().await;
    shutdown.trigger();
    let _ = roles.await;
    for s in servers {
        let _ = s.await;
    }
    for h in &hosts {
        if let Ok(Listen::Unix(p)) = parse_host(h) {
            let _ = std::fs::remove_file(p);
        }
    }
    if let Some(n) = &networking {
        n.release();
    }
    Ok(())
}

/// Creates the data root `0700`, or narrows an existing one and
/// everything under it to owner-only (saying so): it holds the cluster
/// CA's key.
fn private_data_root(root: &std::path::Path) -> Result<(), DaemonError> {
    let io = |context: String| move |source| DaemonError::Io { context, source };
    rswarm_rt::private::create_dir_all(root)
        .map_err(io(format!("creating data root {}", root.display())))?;
    let changed = rswarm_rt::private::tighten(root).map_err(io(format!(
        "restricting permissions under {}",
        root.display()
    )))?;
    if let Some(first) = changed.first() {
        tracing::warn!(
            "data root {}: {} files and directories were readable by other users \
             (e.g. {} was {:04o}); restricted to owner-only (0700 directories, 0600 files)",
            root.display(),
            changed.len(),
            first.path.display(),
            first.was
        );
    }
    Ok(())
}

/// The task runtime `--runtime` asks for: `docker` needs an engine to
/// answer on `--docker-host`; `auto` uses one when it answers, else runs
/// tasks as processes.
async fn executor(args: &DaemonArgs, logs: LogStore) -> Result<Arc<dyn Executor>, DaemonError> {
    let host = args.docker_host.as_deref();
    match args.runtime {
        Runtime::Process => Ok(Arc::new(ProcessExecutor::new(logs, String::new()))),
        Runtime::Docker => DockerExecutor::connect(host, logs, String::new())
            .await
            .map(|d| Arc::new(d) as Arc<dyn Executor>)
            .map_err(|e| {
                DaemonError::Runtime(format!(
                    "--runtime docker: {} (start the engine, point --docker-host at it, or use --runtime process)",
                    engine_reason(e)
                ))
            }),
        Runtime::Auto => match DockerExecutor::connect(host, logs.clone(), String::new()).await {
            Ok(d) => Ok(Arc::new(d)),
            Err(e) => {
                tracing::info!(
                    "--runtime auto: {}; running tasks as processes",
                    engine_reason(e)
                );
                Ok(Arc::new(ProcessExecutor::new(logs, String::new())))
            }
        },
    }
}

/// Why connecting to the engine failed, without the error's prefix.
fn engine_reason(e: ExecError) -> String {
    match e {
        ExecError::Engine(why) => why,
        other => other.to_string(),
    }
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_parse() {
        assert_eq!(
            parse_host("unix:///tmp/a.sock").expect("unix"),
            Listen::Unix("/tmp/a.sock".into())
        );
        assert_eq!(
            parse_host("tcp://127.0.0.1:2375").expect("tcp"),
            Listen::Tcp("127.0.0.1:2375".into())
        );
        assert!(parse_host("http://x").is_err());
        assert!(parse_host("tcp://nohost").is_err());
    }
}
