//! Dispatcher cost: a real `rswarm daemon` manager with N simulated agents
//! (real joins, real mutual-TLS gRPC sessions and heartbeats from this
//! process). Reports the manager daemon's CPU and memory while the agents
//! only keep their sessions alive.
//!
//! `cargo bench -p rswarm --bench dispatcher_load [-- AGENTS SECONDS HEARTBEAT]`
//! (defaults: 200 agents, 30 s, 5s heartbeat period).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rswarm_agent::DispatcherClient;
use rswarm_agent::remote::{RemoteDispatcherClient, join};
use rswarm_types::NodeDescription;
use support::{Daemon, free_port};

mod support;

fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: f64 = fields
        .get(11)
        .and_then(|u| u.parse::<f64>().ok())
        .unwrap_or(0.0)
        + fields
            .get(12)
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0);
    ticks / 100.0
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let agents: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(200);
    let seconds: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(30);
    let heartbeat = args.get(2).cloned().unwrap_or_else(|| "5s".into());

    let dir = std::env::temp_dir().join(format!("rswarm-dispatcher-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let daemon = Daemon::start(&dir, "bench-manager");
    let pid = daemon.pid();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    daemon.cli(&[
        "swarm",
        "init",
        "--advertise-addr",
        "127.0.0.1",
        "--listen-addr",
        &addr,
        "--dispatcher-heartbeat",
        &heartbeat,
    ]);
    let token = daemon
        .cli(&["swarm", "join-token", "-q", "worker"])
        .trim()
        .to_string();
    let (idle_cpu0, t0) = (cpu_seconds(pid), Instant::now());
    tokio::time::sleep(Duration::from_secs(5)).await;
    let idle = (cpu_seconds(pid) - idle_cpu0) / t0.elapsed().as_secs_f64() * 100.0;
    let idle_rss = rss_mib(pid);

    let joined = Instant::now();
    let beats = Arc::new(AtomicU64::new(0));
    let mut sessions = Vec::new();
    for i in 0..agents {
        let ip = format!("127.0.{}.{}", 1 + i / 250, 2 + i % 250);
        let identity = join(&addr, &token, None, &ip).await.expect("join");
        let client = RemoteDispatcherClient::new(vec![addr.clone()], identity, ip);
        let desc = NodeDescription {
            hostname: format!("sim-{i}"),
            ..Default::default()
        };
        let period = client.register(desc).await.expect("register");
        let mut assignments = client.assignments().await.expect("assignments");
        let beats = beats.clone();
        sessions.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        if client.heartbeat().await.is_ok() {
                            beats.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    set = assignments.recv() => if set.is_none() { return },
                }
            }
        }));
    }
    let join_secs = joined.elapsed().as_secs_f64();
    let nodes = daemon.cli(&["node", "ls", "-q"]).lines().count();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (cpu0, b0, t1) = (
        cpu_seconds(pid),
        beats.load(Ordering::Relaxed),
        Instant::now(),
    );
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let elapsed = t1.elapsed().as_secs_f64();
    let busy = (cpu_seconds(pid) - cpu0) / elapsed * 100.0;
    let rate = (beats.load(Ordering::Relaxed) - b0) as f64 / elapsed;
    let ready = daemon
        .cli(&["node", "ls"])
        .lines()
        .filter(|l| l.contains(" Ready "))
        .count();
    let rss = rss_mib(pid);
    for s in sessions {
        s.abort();
    }
    drop(daemon);
    let _ = std::fs::remove_dir_all(&dir);

    println!(
        "dispatcher load: {agents} simulated agents, heartbeat {heartbeat}, {seconds} s window"
    );
    println!(
        "  joins (CSR + certificate + session) took {join_secs:.2} s ({:.1} ms per node); {nodes} nodes listed, {ready} ready at the end",
        join_secs * 1000.0 / agents as f64
    );
    println!("  manager idle before agents: CPU {idle:.2}% of one core, RSS {idle_rss:.1} MiB");
    println!(
        "  manager with {agents} agents: CPU {busy:.2}% of one core, RSS {rss:.1} MiB, {rate:.1} heartbeats/s served"
    );
}
