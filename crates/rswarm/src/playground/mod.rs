//! `rswarm playground`: a local swarm of real daemons in a temporary
//! directory, with a demo service, running until Ctrl-C; then everything
//! it started is stopped and its files removed.
//!
//! As root, every node runs in a network namespace of its own (see
//! [`hosts`]) and the seeds' first demo runs too: a web service published
//! on port 8080 answers on every node's address, also where none of its
//! tasks runs (the routing mesh). Otherwise the nodes share this
//! namespace on 127.0.0.1, 127.0.0.2, ...

mod hosts;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

use hosts::Hosts;

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
    let count = (args.managers + args.workers) as usize;
    let hosts = if Hosts::possible() {
        Some(Hosts::create(count).context("making a network namespace per node")?)
    } else {
        None
    };
    let mut daemons = Vec::new();
    for (i, name) in names.enumerate() {
        let netns = hosts.as_ref().map(|h| h.netns(i));
        match start_daemon(&exe, dir.path(), &name, netns.as_deref()).await {
            Ok(d) => daemons.push(d),
            Err(e) => {
                stop_all(&mut daemons).await;
                return Err(e);
            }
        }
    }
    let result = demo(&exe, dir.path(), &daemons, &args, hosts.is_some()).await;
    if result.is_ok() && !args.no_wait {
        println!("\nThe playground runs until Ctrl-C.");
        let _ = tokio::signal::ctrl_c().await;
        println!("\nStopping the playground...");
    }
    stop_all(&mut daemons).await;
    drop(hosts);
    drop(dir);
    result
}

async fn start_daemon(
    exe: &Path,
    dir: &Path,
    name: &str,
    netns: Option<&str>,
) -> anyhow::Result<Daemon> {
    let root: PathBuf = dir.join(name);
    let socket = format!("unix://{}", root.join("rswarm.sock").display());
    let log = std::fs::File::create(dir.join(format!("{name}.log")))
        .context("creating the daemon log")?;
    // `ip netns exec` execs the daemon: the child is the daemon.
    let mut cmd = match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns]).arg(exe);
            c
        }
        None => Command::new(exe),
    };
    let child = cmd
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

/// Node `i` (0-based: managers first) lives on 198.18.0.`i+1` in its own
/// namespace, or on 127.0.0.`i+1` in this one.
fn node_ip(in_hosts: bool, i: usize) -> String {
    if in_hosts {
        hosts::addr(i)
    } else {
        format!("127.0.0.{}", i + 1)
    }
}

async fn demo(
    exe: &Path,
    dir: &Path,
    daemons: &[Daemon],
    args: &PlaygroundArgs,
    in_hosts: bool,
) -> anyhow::Result<()> {
    let managers = args.managers as usize;
    let (Some(first), Some(workers)) = (daemons.first(), daemons.get(managers..)) else {
        bail!("no daemon started")
    };
    let s = first.socket.as_str();
    let port = if in_hosts {
        2377
    } else {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .context("finding a free swarm port")?
            .port()
    };
    let node_ip = |i| node_ip(in_hosts, i);
    let listen = format!("{}:{port}", node_ip(0));
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
    if in_hosts {
        web(exe, dir, s, daemons.len()).await?;
    }
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

/// The seeds' first demo: `web`, 2 replicas published on port 8080,
/// answers on every node's address.
async fn web(exe: &Path, dir: &Path, s: &str, nodes: usize) -> anyhow::Result<()> {
    let www = dir.join("www");
    std::fs::create_dir_all(&www).context("creating the web root")?;
    std::fs::write(www.join("index.html"), "hello from the rswarm playground\n")
        .context("writing the web page")?;
    let www = www.display().to_string();
    let server: Vec<&str> = if Path::new("/bin/busybox").exists() {
        vec!["/bin/busybox", "httpd", "-f", "-p", "80", "-h", &www]
    } else {
        vec!["python3", "-m", "http.server", "80", "--directory", &www]
    };
    let mut create = vec![
        "service",
        "create",
        "--name",
        "web",
        "--replicas",
        "2",
        "-p",
        "8080:80",
        "busybox",
    ];
    create.extend(server);
    cli(exe, s, &create).await?;
    println!(
        "\nThe routing mesh: port 8080 answers on every node, from here ({}):",
        hosts::HERE
    );
    for i in 0..nodes {
        let addr = format!("{}:8080", hosts::addr(i));
        let mut said = String::new();
        for _ in 0..100 {
            match http_get(&addr).await {
                Ok(body) => {
                    said = body;
                    break;
                }
                Err(e) => said = format!("no answer ({e})"),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        println!("$ curl http://{addr}/\n{}", said.trim_end());
    }
    Ok(())
}

/// The body of `GET /` at `addr`.
async fn http_get(addr: &str) -> anyhow::Result<String> {
    let io = async {
        let mut c = tokio::net::TcpStream::connect(addr).await?;
        c.write_all(b"GET / HTTP/1.0\r\n\r\n").await?;
        let mut out = String::new();
        c.read_to_string(&mut out).await?;
        Ok::<_, std::io::Error>(out)
    };
    let out = tokio::time::timeout(Duration::from_secs(2), io)
        .await
        .context("timed out")??;
    match out.split_once("\r\n\r\n") {
        Some((head, body)) if head.starts_with("HTTP/1.") && head.contains(" 200 ") => {
            Ok(body.to_string())
        }
        _ => bail!("unexpected answer {:?}", out.lines().next().unwrap_or("")),
    }
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
