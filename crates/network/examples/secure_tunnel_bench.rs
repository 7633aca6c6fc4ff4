//! Throughput of the encrypted-overlay tunnel (`linux::secure`) against
//! the plain veth under it, in one run. Run it with
//! `bash bench/secure_tunnel.sh` (root, `iperf3`).
//!
//! The lab of tests/secure.rs: namespaces `a` and `b` joined by a veth,
//! a tunnel in each. Traffic to 10.99.0.2 goes through the tunnel
//! (encrypted, UDP 4790 on the veth); a second pair of addresses on the
//! same veth, 10.99.1.1 → 10.99.1.2, is the plain path. Each round runs
//! one iperf3 TCP stream over each path in turn.
//!
//! Env: RUNS (default 3) rounds, SECONDS (default 5) per measurement,
//! STREAMS (default 1) parallel iperf3 streams, ROUTE_MTU (default none:
//! the TUN's 1500) the MTU of the route into the tunnel (1440 keeps the
//! outer datagram within the veth's 1500: no fragments). Prints every measurement
//! and the median of each path with the ratio. Never used by tests.

#[path = "../tests/secure/lab.rs"]
mod lab;

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use lab::{B, Pair, ip, keys, tunnels};

const PLAIN_A: Ipv4Addr = Ipv4Addr::new(10, 99, 1, 1);
const PLAIN_B: Ipv4Addr = Ipv4Addr::new(10, 99, 1, 2);
const PORT: u16 = 5201;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// An iperf3 server for one test in namespace `ns`, killed on drop.
struct Server(Child);

impl Server {
    fn start(ns: &str, addr: Ipv4Addr) -> Server {
        let child = Command::new("ip")
            .args(["netns", "exec", ns, "iperf3", "-s", "-1", "-B"])
            .arg(addr.to_string())
            .args(["-p", &PORT.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start iperf3 server");
        Server(child)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Gbit/s received by one iperf3 client run from `ns` to `to`.
fn iperf(p: &Pair, to: Ipv4Addr, seconds: u32, streams: u32) -> f64 {
    let _server = Server::start(&p.b, to);
    // the server is up when it accepts (a probe connection from `a`)
    let ready = Instant::now() + Duration::from_secs(10);
    while Instant::now() < ready {
        let up = Command::new("ip")
            .args(["netns", "exec", &p.b, "ss", "-Hltn"])
            .arg(format!("sport = :{PORT}"))
            .output()
            .map(|o| !o.stdout.is_empty())
            .unwrap_or(false);
        if up {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = Command::new("ip")
        .args(["netns", "exec", &p.a, "iperf3", "-J", "-c"])
        .arg(to.to_string())
        .args(["-p", &PORT.to_string(), "-t", &seconds.to_string()])
        .args(["-P", &streams.to_string()])
        .output()
        .expect("run iperf3 client");
    let text = String::from_utf8_lossy(&out.stdout);
    received_bps(&text).unwrap_or_else(|| panic!("iperf3 to {to}: no result: {text}")) / 1e9
}

/// `end.sum_received.bits_per_second` of iperf3's JSON.
fn received_bps(json: &str) -> Option<f64> {
    let at = json.find("\"sum_received\"")?;
    let rest = &json[at..];
    let key = "\"bits_per_second\":";
    let v = &rest[rest.find(key)? + key.len()..];
    let end = v.find([',', '\n', '}'])?;
    v[..end].trim().parse().ok()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> ExitCode {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("secure tunnel benchmark: needs root (namespaces, links)");
        return ExitCode::FAILURE;
    }
    let (runs, seconds, streams) = (
        env("RUNS", 3usize),
        env("SECONDS", 5u32),
        env("STREAMS", 1u32),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let p = Pair::new("bench");
    ip(&[
        "-n",
        &p.a,
        "addr",
        "add",
        &format!("{PLAIN_A}/24"),
        "dev",
        "ul0",
    ]);
    ip(&[
        "-n",
        &p.b,
        "addr",
        "add",
        &format!("{PLAIN_B}/24"),
        "dev",
        "ul0",
    ]);
    let k = keys();
    let (ta, tb) = rt.block_on(tunnels(&p, k.clone(), k));
    let route_mtu: u32 = env("ROUTE_MTU", 0);
    if route_mtu > 0 {
        for ns in [&p.a, &p.b] {
            let mtu = route_mtu.to_string();
            ip(&[
                "-n",
                ns,
                "route",
                "replace",
                "default",
                "dev",
                lab::TUN,
                "table",
                "100",
                "mtu",
                &mtu,
            ]);
        }
    }
    // a first packet through the tunnel does the handshake
    let _ = lab::in_ns(&p.a, || {
        TcpStream::connect_timeout(&SocketAddr::from((B, 9)), Duration::from_secs(2))
    });
    println!("secure tunnel vs plain veth: {runs} rounds, {seconds} s each, {streams} stream(s)");
    let (mut plain, mut secure) = (Vec::new(), Vec::new());
    for round in 1..=runs {
        let pl = iperf(&p, PLAIN_B, seconds, streams);
        let se = iperf(&p, B, seconds, streams);
        println!("round {round}: plain {pl:.2} Gbit/s, tunnel {se:.2} Gbit/s");
        plain.push(pl);
        secure.push(se);
    }
    let (pl, se) = (median(&mut plain), median(&mut secure));
    println!(
        "median: plain {pl:.2} Gbit/s, tunnel {se:.2} Gbit/s, ratio {:.1} %",
        100.0 * se / pl
    );
    rt.block_on(async {
        ta.stop().await;
        tb.stop().await;
    });
    drop(p);
    ExitCode::SUCCESS
}
