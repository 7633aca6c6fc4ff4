//! `rswarm playground`: a local swarm of real daemons in a temporary
//! directory, with a demo service, running until Ctrl-C; then everything
//! it started is stopped and its files removed.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

/// Flags of `rswarm playground`.
#[derive(Debug, clap::Args)]
pub struct PlaygroundArgs {
    /// Number of manager nodes (1 until multi-manager Raft support lands).
    #[arg(long, default_value_t = 1)]
    pub managers: u32,
    /// Number of worker nodes.
    #[arg(long, default_value_t = 2)]
    pub workers: u32,
    /// Number of replicas of the demo service.
    #[arg(long, default_value_t = 3)]
    pub replicas: u32,
    /// Exit right after the swarm is up (for scripts and tests) instead of waiting for Ctrl-C.
    #[arg(long)]
    pub no_wait: bool,
}

struct Daemon {
    child: Child,
    socket: String,
}

/// Runs the playground.
pub async fn run(args: PlaygroundArgs) -> anyhow::Result<()> {
    let dir = tempfile::Builder::new()
        .prefix("rswarm-playground-")
        .tempdir()
        .context("creating a temporary directory")?;
    if args.managers != 1 {
        bail!(
            "--managers {}: only 1 manager is supported until multi-manager (Raft) support lands",
            args.managers
        );
    }
    if args.workers > 250 {
        bail!(
            "--workers {}: at most 250 workers fit on the loopback addresses 127.0.0.2-251",
            args.workers
        );
    }
    let exe = std::env::current_exe().context("finding the rswarm binary")?;
    let mut daemons = vec![start_daemon(&exe, dir.path(), "manager1").await?];
    for i in 1..=args.workers {
        match start_daemon(&exe, dir.path(), &format!("worker{i}")).await {
            Ok(d) => daemons.push(d),
            Err(e) => {
                stop_all(&mut daemons).await;
                return Err(e);
            }
        }
    }
    let result = demo(&exe, &daemons, &args).await;
    if result.is_ok() && !args.no_wait {
        println!("\nThe playground runs until Ctrl-C.");
        let _ = tokio::signal::ctrl_c().await;
        println!("\nStopping the playground...");
    }
    stop_all(&mut daemons).await;
    drop(dir);
    result
}

async fn start_daemon(exe: &Path, dir: &Path, name: &str) -> anyhow::Result<Daemon> {
    let root: PathBuf = dir.join(name);
    let socket = format!("unix://{}", root.join("rswarm.sock").display());
    let log = std::fs::File::create(dir.join(format!("{name}.log")))
        .context("creating the daemon log")?;
    let child = Command::new(exe)
        .arg("daemon")
        .arg("-H")
        .arg(&socket)
        .arg("--data-root")
        .arg(root.join("data"))
        .arg("--hostname")
        .arg(name)
        .arg("--runtime")
        .arg("process")
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .context("starting rswarm daemon")?;
    let path = root.join("rswarm.sock");
    for _ in 0..100 {
        if path.exists() {
            return Ok(Daemon { child, socket });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!(
        "rswarm daemon did not create {} in time (see {}/{name}.log)",
        path.display(),
        dir.display()
    )
}

async fn stop_all(daemons: &mut [Daemon]) {
    for d in daemons.iter_mut().rev() {
        stop_daemon(d).await;
    }
}

async fn stop_daemon(d: &mut Daemon) {
    if let Some(pid) = d.child.id() {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
    if tokio::time::timeout(Duration::from_secs(30), d.child.wait())
        .await
        .is_err()
    {
        let _ = d.child.kill().await;
    }
}

async fn cli(exe: &Path, socket: &str, args: &[&str]) -> anyhow::Result<()> {
    println!("$ rswarm {}", args.join(" "));
    let status = Command::new(exe)
        .arg("-H")
        .arg(socket)
        .args(args)
        .status()
        .await
        .context("running rswarm")?;
    if !status.success() {
        bail!("`rswarm {}` failed", args.join(" "));
    }
    Ok(())
}

async fn demo(exe: &Path, daemons: &[Daemon], args: &PlaygroundArgs) -> anyhow::Result<()> {
    let Some((manager, workers)) = daemons.split_first() else {
        bail!("no daemon started")
    };
    let s = manager.socket.as_str();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .context("finding a free swarm port")?
        .port();
    let listen = format!("127.0.0.1:{port}");
    cli(
        exe,
        s,
        &[
            "swarm",
            "init",
            "--advertise-addr",
            "127.0.0.1",
            "--listen-addr",
            &listen,
        ],
    )
    .await?;
    let token = capture(exe, s, &["swarm", "join-token", "-q", "worker"]).await?;
    for (i, w) in workers.iter().enumerate() {
        let ip = format!("127.0.0.{}", i + 2);
        cli(
            exe,
            &w.socket,
            &[
                "swarm",
                "join",
                "--token",
                token.trim(),
                "--advertise-addr",
                &ip,
                &listen,
            ],
        )
        .await?;
    }
    let replicas = args.replicas.to_string();
    cli(
        exe,
        s,
        &[
            "service",
            "create",
            "--name",
            "hello",
            "--replicas",
            &replicas,
            "busybox",
            "sh",
            "-c",
            "while true; do echo \"hello from task $RSWARM_TASK_SLOT\"; sleep 5; done",
        ],
    )
    .await?;
    cli(exe, s, &["node", "ls"]).await?;
    cli(exe, s, &["service", "ls"]).await?;
    cli(exe, s, &["service", "ps", "hello"]).await?;
    println!("\nTry it (the manager's socket):");
    println!("  rswarm -H {s} service scale hello=6");
    println!("  rswarm -H {s} service logs hello");
    println!("  rswarm -H {s} node update --availability drain worker1");
    println!("  docker -H {s} service ls");
    Ok(())
}

async fn capture(exe: &Path, socket: &str, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(exe)
        .arg("-H")
        .arg(socket)
        .args(args)
        .output()
        .await
        .context("running rswarm")?;
    if !out.status.success() {
        bail!(
            "`rswarm {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
