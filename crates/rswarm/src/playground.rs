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
    /// Number of manager nodes (1 to 7; 3 or 5 survive losing 1 or 2).
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
    if !(1..=7).contains(&args.managers) {
        bail!("--managers {}: must be between 1 and 7", args.managers);
    }
    if args.managers + args.workers > 250 {
        bail!(
            "--managers {} --workers {}: at most 250 nodes fit on the loopback addresses 127.0.0.1-250",
            args.managers,
            args.workers
        );
    }
    let exe = std::env::current_exe().context("finding the rswarm binary")?;
    let names = (1..=args.managers)
        .map(|i| format!("manager{i}"))
        .chain((1..=args.workers).map(|i| format!("worker{i}")));
    let mut daemons = Vec::new();
    for name in names {
        match start_daemon(&exe, dir.path(), &name).await {
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

/// Node `i` (0-based: managers first) lives on 127.0.0.`i+1`.
fn node_ip(i: usize) -> String {
    format!("127.0.0.{}", i + 1)
}

async fn demo(exe: &Path, daemons: &[Daemon], args: &PlaygroundArgs) -> anyhow::Result<()> {
    let managers = args.managers as usize;
    let (Some(first), Some(workers)) = (daemons.first(), daemons.get(managers..)) else {
        bail!("no daemon started")
    };
    let s = first.socket.as_str();
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
            &listen,
            "--listen-addr",
            &listen,
        ],
    )
    .await?;
    let manager_token = capture(exe, s, &["swarm", "join-token", "-q", "manager"]).await?;
    for (i, m) in daemons.iter().enumerate().take(managers).skip(1) {
        let me = format!("{}:{port}", node_ip(i));
        cli(
            exe,
            &m.socket,
            &[
                "swarm",
                "join",
                "--token",
                manager_token.trim(),
                "--advertise-addr",
                &me,
                "--listen-addr",
                &me,
                &listen,
            ],
        )
        .await?;
    }
    let token = capture(exe, s, &["swarm", "join-token", "-q", "worker"]).await?;
    for (i, w) in workers.iter().enumerate() {
        let ip = node_ip(managers + i);
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
    if managers > 1 {
        println!("\nFailover: kill the leader's daemon, then on another manager:");
        println!("  kill -9 {}", first.child.id().unwrap_or_default());
        println!("  rswarm -H {} node ls", daemons[1].socket);
    }
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
