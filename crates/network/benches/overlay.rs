//! Overlay data-plane benchmark (issue 9). Run it with
//! `bash bench/overlay.sh` (root). Two netlab hosts, the real
//! `LinuxDataPlane` on each, and in the same run:
//!
//! - throughput of one TCP stream and the rate of sequential connections
//!   (connect, 1 byte, close) over: the underlay directly (host to host,
//!   veth + bridge: the baseline), the overlay across hosts, the overlay
//!   on one host, and a VIP whose backend is on the other host; each as a
//!   ratio to the baseline;
//! - DNS answer latency through 127.0.0.11 inside a task, for a swarm
//!   name and for a forwarded one.
//!
//! Env: RUNS (default 3) rounds, each measuring every path once in turn;
//! SECONDS (default 3) per measurement; DNS_QUERIES (default 2000).
//! Prints median (min–max) over the rounds. Never used by tests.

#[path = "../tests/dataplane/dnslab.rs"]
mod dnslab;
#[path = "../tests/dataplane/maps.rs"]
mod maps;
#[path = "../tests/dataplane/netlab.rs"]
mod netlab;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hickory_proto::rr::RecordType;
use rswarm_network::{AttachRequest, DNS_ADDR, DataPlane, DnsSettings, LinuxDataPlane, TaskNetns};

use dnslab::{FakeDns, dns_query};
use maps::{endpoint, network, snapshot, vip_service};
use netlab::{Lab, OUTSIDE, in_netns};

const TPUT_PORT: u16 = 5001;
const CONN_PORT: u16 = 5002;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> ExitCode {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("overlay benchmark: needs root (namespaces, links, nftables)");
        return ExitCode::FAILURE;
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(run());
    ExitCode::SUCCESS
}

/// A path to measure: where the client runs, where it connects.
struct Route {
    label: &'static str,
    client: PathBuf,
    target: Ipv4Addr,
}

async fn run() {
    let runs: usize = env("RUNS", 3);
    let secs: f64 = env("SECONDS", 3.0);
    let queries: usize = env("DNS_QUERIES", 2000);
    let lab = Lab::new("bench", 2);
    let (h1, h2) = (lab.hosts[0].addr, lab.hosts[1].addr);
    let mut app = network("app", 4097, 1, false);
    let local = endpoint(&mut app, 11, h1, "local", "web");
    let remote = endpoint(&mut app, 12, h2, "remote", "web");
    endpoint(&mut app, 21, h1, "client", "client");
    let vip = vip_service(&mut app, "web", 2, &[remote]);
    let map = snapshot(1, &[&app]);
    let dp1 = LinuxDataPlane::new(lab.config(0)).expect("data plane 1");
    let dp2 = LinuxDataPlane::new(lab.config(1)).expect("data plane 2");
    for dp in [&dp1, &dp2] {
        dp.cleanup_leftovers().await.expect("cleanup");
        dp.apply(&map).await.expect("apply");
    }
    let attach = |task: &str| AttachRequest {
        task_id: task.into(),
        netns: TaskNetns::Create,
        networks: vec!["app".into()],
        dns: DnsSettings::default(),
    };
    let t_local = dp1.attach(&attach("local")).await.expect("attach local");
    let t_client = dp1.attach(&attach("client")).await.expect("attach client");
    let t_remote = dp2.attach(&attach("remote")).await.expect("attach remote");
    let _upstream = FakeDns::start(&lab.outside(), OUTSIDE, Ipv4Addr::new(192, 0, 2, 1));

    let servers = [
        Servers::start(&lab.hosts[1].path()),
        Servers::start(&t_remote.netns),
        Servers::start(&t_local.netns),
    ];
    let paths = [
        Route {
            label: "direct: host to host over the underlay (veth + bridge)",
            client: lab.hosts[0].path(),
            target: h2,
        },
        Route {
            label: "overlay: task to task across hosts (VXLAN)",
            client: t_client.netns.clone(),
            target: remote,
        },
        Route {
            label: "overlay: task to task on one host (bridge)",
            client: t_client.netns.clone(),
            target: local,
        },
        Route {
            label: "VIP: task to VIP, backend on the other host",
            client: t_client.netns.clone(),
            target: vip,
        },
    ];
    // Clients close first; let them reuse their TIME_WAIT ports (RFC 6191
    // timestamps) so thousands of sequential connections per second do
    // not run out of ports or meet old tuples.
    for ns in [lab.hosts[0].path(), t_client.netns.clone()] {
        in_netns(&ns, || {
            std::fs::write("/proc/sys/net/ipv4/tcp_tw_reuse", "1")
        })
        .expect("tcp_tw_reuse");
    }
    let client = t_client.netns.clone();
    let (mut tput, mut rate) = (vec![Vec::new(); paths.len()], vec![Vec::new(); paths.len()]);
    let (mut dns_local, mut dns_fwd) = (Vec::new(), Vec::new());
    let cl = client.clone();
    tokio::task::spawn_blocking(move || {
        for _ in 0..runs {
            for (i, p) in paths.iter().enumerate() {
                tput[i].push(throughput(&p.client, p.target, secs));
                rate[i].push(conn_rate(&p.client, p.target, secs));
            }
            dns_local.push(dns_latency(&cl, "web", queries));
            dns_fwd.push(dns_latency(&cl, "example.com", queries / 4));
        }
        report(
            &paths, &tput, &rate, &dns_local, &dns_fwd, runs, secs, queries,
        );
    })
    .await
    .expect("benchmark thread");
    drop(servers);
    dp1.remove_all().await.expect("remove 1");
    dp2.remove_all().await.expect("remove 2");
}

#[allow(clippy::too_many_arguments)]
fn report(
    paths: &[Route],
    tput: &[Vec<f64>],
    rate: &[Vec<f64>],
    dns_local: &[(f64, f64)],
    dns_fwd: &[(f64, f64)],
    runs: usize,
    secs: f64,
    queries: usize,
) {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    println!(
        "overlay benchmark: RUNS={runs} SECONDS={secs} DNS_QUERIES={queries}; load average after: {}",
        load.join(" ")
    );
    println!("median (min-max) over the runs; ratio = median / median of the direct path\n");
    println!("throughput, one TCP stream:");
    let base = median(&tput[0]);
    for (p, v) in paths.iter().zip(tput) {
        println!(
            "  {:<58} {:>6.2} Gbit/s ({:.2}-{:.2})  {:>5.1} %",
            p.label,
            median(v),
            min(v),
            max(v),
            100.0 * median(v) / base
        );
    }
    println!(
        "connection rate (connect, read 1 byte, close first; one client, sequential, tcp_tw_reuse=1):"
    );
    let base = median(&rate[0]);
    for (p, v) in paths.iter().zip(rate) {
        println!(
            "  {:<58} {:>6.0} conn/s ({:.0}-{:.0})  {:>5.1} %",
            p.label,
            median(v),
            min(v),
            max(v),
            100.0 * median(v) / base
        );
    }
    println!("DNS answer latency, UDP to 127.0.0.11 inside the task:");
    for (label, v) in [
        ("swarm name (web -> VIP)", dns_local),
        ("forwarded name (upstream in the lab, 1 hop)", dns_fwd),
    ] {
        let p50: Vec<f64> = v.iter().map(|x| x.0).collect();
        let p99: Vec<f64> = v.iter().map(|x| x.1).collect();
        println!(
            "  {:<58} p50 {:>5.0} us ({:.0}-{:.0})  p99 {:>5.0} us ({:.0}-{:.0})",
            label,
            median(&p50),
            min(&p50),
            max(&p50),
            median(&p99),
            min(&p99),
            max(&p99)
        );
    }
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s.get(s.len() / 2).copied().unwrap_or(f64::NAN)
}
fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}
fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

/// A sink (throughput) and a one-byte server (connection rate) in a
/// namespace.
struct Servers {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
    ns: PathBuf,
}

impl Servers {
    fn start(ns: &Path) -> Servers {
        let (t, c) = in_netns(ns, || {
            (
                TcpListener::bind(("0.0.0.0", TPUT_PORT)).expect("bind sink"),
                TcpListener::bind(("0.0.0.0", CONN_PORT)).expect("bind conn server"),
            )
        });
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let sink = std::thread::spawn(move || {
            let mut buf = vec![0u8; 256 * 1024];
            while let Ok((mut conn, _)) = t.accept() {
                if s.load(Ordering::Relaxed) {
                    break;
                }
                while matches!(conn.read(&mut buf), Ok(n) if n > 0) {}
            }
        });
        let s = stop.clone();
        let one = std::thread::spawn(move || {
            let mut buf = [0u8; 16];
            while let Ok((mut conn, _)) = c.accept() {
                if s.load(Ordering::Relaxed) {
                    break;
                }
                // The client closes first (TIME_WAIT stays on its side).
                let _ = conn.write_all(b"x");
                while matches!(conn.read(&mut buf), Ok(n) if n > 0) {}
            }
        });
        Servers {
            stop,
            threads: vec![sink, one],
            ns: ns.to_path_buf(),
        }
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake both accept loops from inside their namespace.
        in_netns(&self.ns, || {
            for port in [TPUT_PORT, CONN_PORT] {
                let _ = TcpStream::connect(("127.0.0.1", port));
            }
        });
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Gbit/s of one stream from `client` to `target` for `secs` seconds.
fn throughput(client: &Path, target: Ipv4Addr, secs: f64) -> f64 {
    let mut s = in_netns(client, move || {
        TcpStream::connect((target, TPUT_PORT)).expect("connect sink")
    });
    let buf = vec![0x5au8; 128 * 1024];
    let (start, mut sent) = (Instant::now(), 0u64);
    let d = Duration::from_secs_f64(secs);
    while start.elapsed() < d {
        s.write_all(&buf).expect("send");
        sent += buf.len() as u64;
    }
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    sent as f64 * 8.0 / start.elapsed().as_secs_f64() / 1e9
}

/// Sequential connections per second from `client` to `target`.
fn conn_rate(client: &Path, target: Ipv4Addr, secs: f64) -> f64 {
    let addr = SocketAddr::from((target, CONN_PORT));
    in_netns(client, move || {
        let (start, mut n) = (Instant::now(), 0u64);
        let d = Duration::from_secs_f64(secs);
        let mut b = [0u8; 1];
        while start.elapsed() < d {
            let mut s = TcpStream::connect(addr).expect("connect");
            s.read_exact(&mut b).expect("read");
            drop(s);
            n += 1;
        }
        n as f64 / start.elapsed().as_secs_f64()
    })
}

/// (p50, p99) in microseconds of `n` A queries for `name`.
fn dns_latency(client: &Path, name: &str, n: usize) -> (f64, f64) {
    let query = dns_query(name, RecordType::A);
    in_netns(client, move || {
        let s = UdpSocket::bind(("127.0.0.1", 0)).expect("bind");
        s.connect((DNS_ADDR, 53)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(3)))
            .expect("timeout");
        let mut buf = [0u8; 4096];
        let mut times = Vec::with_capacity(n);
        for i in 0..n + 50 {
            let t = Instant::now();
            s.send(&query).expect("send");
            s.recv(&mut buf).expect("answer");
            if i >= 50 {
                times.push(t.elapsed().as_secs_f64() * 1e6);
            }
        }
        times.sort_by(f64::total_cmp);
        let at = |q: f64| times[((times.len() as f64 - 1.0) * q) as usize];
        (at(0.50), at(0.99))
    })
}
