//! End-to-end placement throughput on a highly available control plane:
//! three real `rswarm daemon` managers (127.0.0.1-3, Raft-replicated, the
//! managers drained so they run nothing) and N simulated agents in this
//! process (real joins, real mutual-TLS sessions and heartbeats). Each
//! agent reports every task it is assigned as running at once, as a node
//! whose runtime costs nothing would. Measures, for one `service create`
//! of T replicas on the leader, the time until the leader's store holds
//! all T tasks running (`GET /services?status=true`, polled every 50 ms):
//! orchestrator, allocator, scheduler, Raft commits to the followers,
//! dispatch to the sessions and the agents' status reports, all on the
//! critical path.
//!
//! `cargo bench -p rswarm --bench placement_load [-- AGENTS TASKS]`
//! (defaults: 1,000 agents, 10,000 tasks).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rswarm_agent::DispatcherClient;
use rswarm_agent::remote::{RemoteDispatcherClient, join};
use rswarm_types::{NodeDescription, TaskState, TaskStatus};
use support::{Daemon, free_port};

mod support;

/// Running tasks of `service` as the manager's store has them.
fn running_tasks(d: &Daemon, service: &str) -> u64 {
    let out = d.cli(&[
        "service",
        "ls",
        "--filter",
        &format!("name={service}"),
        "--format",
        "{{.Replicas}}",
    ]);
    out.trim()
        .split_once('/')
        .and_then(|(r, _)| r.parse().ok())
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let agents: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let tasks: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);

    let dir = std::env::temp_dir().join(format!("rswarm-placement-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let port = free_port();
    let addr = |i: usize| format!("127.0.0.{i}:{port}");
    let managers: Vec<Daemon> = (1..=3)
        .map(|i| Daemon::start(&dir, &format!("bench-manager-{i}")))
        .collect();
    managers[0].cli(&[
        "swarm",
        "init",
        "--advertise-addr",
        &addr(1),
        "--listen-addr",
        &addr(1),
    ]);
    let manager_token = managers[0].cli(&["swarm", "join-token", "-q", "manager"]);
    for (i, m) in managers.iter().enumerate().skip(1) {
        let me = addr(i + 1);
        m.cli(&[
            "swarm",
            "join",
            "--token",
            manager_token.trim(),
            "--advertise-addr",
            &me,
            "--listen-addr",
            &me,
            &addr(1),
        ]);
    }
    // A joined manager's node shows up once its agent registers.
    for i in 1..=3 {
        let name = format!("bench-manager-{i}");
        for _ in 0..200 {
            if managers[0]
                .cli(&["node", "ls", "--format", "{{.Hostname}}"])
                .lines()
                .any(|l| l == name)
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        managers[0].cli(&["node", "update", "--availability", "drain", &name]);
    }
    let token = managers[0]
        .cli(&["swarm", "join-token", "-q", "worker"])
        .trim()
        .to_string();

    let joined = Instant::now();
    let reported = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    // Tasks the agents have been sent, and when the last one arrived.
    let assigned = Arc::new(AtomicU64::new(0));
    let all_assigned = Arc::new(std::sync::OnceLock::<Instant>::new());
    let mut sessions = Vec::new();
    let manager_addrs: Vec<String> = (1..=3).map(addr).collect();
    for i in 0..agents {
        let ip = format!("127.0.{}.{}", 1 + i / 250, 2 + i % 250);
        let identity = join(&addr(1), &token, None, &ip).await.expect("join");
        let client = RemoteDispatcherClient::new(manager_addrs.clone(), identity, ip);
        let desc = NodeDescription {
            hostname: format!("sim-{i}"),
            ..Default::default()
        };
        let period = client.register(desc).await.expect("register");
        let mut assignments = client.assignments().await.expect("assignments");
        let reported = reported.clone();
        let failures = failures.clone();
        let (assigned, all_assigned) = (assigned.clone(), all_assigned.clone());
        let expected = tasks;
        sessions.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            // Reported and acknowledged; assigned but not acknowledged
            // yet (sent again on the next set or heartbeat, as the real
            // agent's reporter does).
            let mut running = std::collections::HashSet::new();
            let mut unacked: Vec<String> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            loop {
                tokio::select! {
                    _ = tick.tick() => { let _ = client.heartbeat().await; }
                    set = assignments.recv() => {
                        let Some(set) = set else { return };
                        for t in &set {
                            if seen.insert(t.id.clone()) {
                                let n = assigned.fetch_add(1, Ordering::Relaxed) + 1;
                                if n == expected {
                                    let _ = all_assigned.set(Instant::now());
                                }
                            }
                        }
                        unacked = set
                            .iter()
                            .filter(|t| t.desired_state == TaskState::Running && !running.contains(&t.id))
                            .map(|t| t.id.clone())
                            .collect();
                    }
                }
                if unacked.is_empty() {
                    continue;
                }
                let updates: Vec<(String, TaskStatus)> = unacked
                    .iter()
                    .map(|id| (id.clone(), TaskStatus {
                        timestamp: chrono::Utc::now(),
                        state: TaskState::Running,
                        message: "started".into(),
                        ..Default::default()
                    }))
                    .collect();
                match client.update_task_status(updates).await {
                    Ok(()) => {
                        reported.fetch_add(unacked.len() as u64, Ordering::Relaxed);
                        running.extend(unacked.drain(..));
                    }
                    Err(e) => {
                        if failures.fetch_add(1, Ordering::Relaxed) == 0 {
                            eprintln!("first failed status report: {e}");
                        }
                    }
                }
            }
        }));
    }
    let join_secs = joined.elapsed().as_secs_f64();
    let ready = loop {
        let ready = managers[0]
            .cli(&["node", "ls"])
            .lines()
            .filter(|l| l.contains(" Ready ") && l.contains("sim-"))
            .count();
        if ready == agents || joined.elapsed() > Duration::from_secs(120) {
            break ready;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    let created = Instant::now();
    managers[0].cli(&[
        "service",
        "create",
        "-d",
        "-q",
        "--name",
        "placed",
        "--replicas",
        &tasks.to_string(),
        "busybox",
        "sleep",
        "1000",
    ]);
    let acked = created.elapsed().as_secs_f64();
    let deadline = created + Duration::from_secs(600);
    let mut running = 0;
    while running < tasks && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        running = running_tasks(&managers[0], "placed");
    }
    let all_running = created.elapsed().as_secs_f64();
    // The last follower holds them too (its own reads).
    let mut on_follower = 0;
    while on_follower < tasks && Instant::now() < deadline {
        on_follower = running_tasks(&managers[2], "placed");
        if on_follower < tasks {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let follower_secs = created.elapsed().as_secs_f64();

    for s in sessions {
        s.abort();
    }
    drop(managers);
    let _ = std::fs::remove_dir_all(&dir);

    println!(
        "placement load: 3 managers, {agents} simulated agents ({ready} ready), {tasks} tasks"
    );
    println!("  agents joined in {join_secs:.1} s");
    println!("  service create acknowledged in {acked:.3} s");
    println!(
        "  {running} of {tasks} tasks running on the leader after {all_running:.2} s: {:.0} tasks/s ({} task statuses acknowledged, {} reports failed and were sent again)",
        running as f64 / all_running,
        reported.load(Ordering::Relaxed),
        failures.load(Ordering::Relaxed)
    );
    if let Some(at) = all_assigned.get() {
        println!(
            "  all {tasks} tasks reached their agents {:.2} s after the create",
            at.duration_since(created).as_secs_f64()
        );
    }
    println!("  {on_follower} running on a follower after {follower_secs:.2} s");
}
