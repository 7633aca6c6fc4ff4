//! The secure tunnel's lab: two network namespaces joined by a veth
//! (10.99.0.1/24 in `a`, 10.99.0.2/24 in `b`, names unique per process
//! and tag), a tunnel in each with the other as peer, and a policy route
//! that sends everything to the peer through the TUN. Shared by
//! tests/secure.rs and the benchmark example. Dropping the [`Pair`]
//! deletes both namespaces (and with them the veth).

#![allow(dead_code)]

use std::fs::File;
use std::io::Read;
use std::net::Ipv4Addr;
use std::os::fd::AsFd;
use std::process::Command;

use nix::sched::{CloneFlags, setns};
use rswarm_network::Netns;
use rswarm_network::linux::secure::{SecureTunnel, TUNNEL_PORT, TunnelKeys};

pub const A: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 1);
pub const B: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 2);
pub const TUN: &str = "rswwg0";

pub fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn keys() -> TunnelKeys {
    let mut b = [0u8; 64];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .expect("random keys");
    let (mut private, mut preshared) = ([0u8; 32], [0u8; 32]);
    private.copy_from_slice(&b[..32]);
    preshared.copy_from_slice(&b[32..]);
    TunnelKeys { private, preshared }
}

/// The names of the two namespaces.
#[derive(Clone)]
pub struct Names {
    pub a: String,
    pub b: String,
}

/// Two namespaces and their veth; deleted on drop (also after a failure).
pub struct Pair(pub Names);

impl std::ops::Deref for Pair {
    type Target = Names;
    fn deref(&self) -> &Names {
        &self.0
    }
}

impl Pair {
    pub fn new(tag: &str) -> Pair {
        let id = std::process::id();
        let p = Pair(Names {
            a: format!("rsw-sec{id}-{tag}-a"),
            b: format!("rsw-sec{id}-{tag}-b"),
        });
        p.sweep();
        for ns in [&p.a, &p.b] {
            ip(&["netns", "add", ns]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        ip(&[
            "link", "add", "ul0", "netns", &p.a, "type", "veth", "peer", "name", "ul0", "netns",
            &p.b,
        ]);
        for (ns, addr) in [(&p.a, A), (&p.b, B)] {
            ip(&["-n", ns, "addr", "add", &format!("{addr}/24"), "dev", "ul0"]);
            ip(&["-n", ns, "link", "set", "ul0", "up"]);
        }
        p
    }

    pub fn path(ns: &str) -> Netns {
        Netns::At(format!("/run/netns/{ns}").into())
    }

    /// Sends everything to `peer` through the TUN, except the tunnel's
    /// own datagrams; no reverse-path filter on the TUN.
    pub fn route_through_tun(ns: &str, peer: Ipv4Addr) {
        let port = TUNNEL_PORT.to_string();
        ip(&[
            "-n", ns, "rule", "add", "pref", "50", "ipproto", "udp", "dport", &port, "lookup",
            "main",
        ]);
        ip(&[
            "-n",
            ns,
            "rule",
            "add",
            "pref",
            "100",
            "to",
            &peer.to_string(),
            "lookup",
            "100",
        ]);
        ip(&[
            "-n", ns, "route", "add", "default", "dev", TUN, "table", "100",
        ]);
        in_ns(ns, || {
            for f in ["all", "default", TUN] {
                std::fs::write(format!("/proc/sys/net/ipv4/conf/{f}/rp_filter"), "0")
                    .expect("rp_filter");
            }
        });
    }

    fn sweep(&self) {
        for ns in [&self.a, &self.b] {
            let _ = Command::new("ip")
                .args(["netns", "del", ns])
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        self.sweep();
    }
}

/// Runs `f` on a thread inside namespace `ns` (sockets it opens stay there).
pub fn in_ns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let file = File::open(&path).expect("open netns");
        setns(file.as_fd(), CloneFlags::CLONE_NEWNET).expect("setns");
        f()
    })
    .join()
    .expect("namespace thread")
}

pub fn ifindex(ns: &str, dev: &str) -> u32 {
    let out = Command::new("ip")
        .args(["-n", ns, "-o", "link", "show", "dev", dev])
        .output()
        .expect("ip link show");
    let s = String::from_utf8_lossy(&out.stdout);
    s.split(':')
        .next()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no link {dev} in {ns}: {s}"))
}

pub fn link_exists(ns: &str, dev: &str) -> bool {
    Command::new("ip")
        .args(["-n", ns, "link", "show", "dev", dev])
        .stderr(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .status()
        .expect("ip")
        .success()
}

/// Two tunnels, each the other's peer.
pub async fn tunnels(p: &Pair, ka: TunnelKeys, kb: TunnelKeys) -> (SecureTunnel, SecureTunnel) {
    let ta = SecureTunnel::start(&Pair::path(&p.a), TUN, A, TUNNEL_PORT, ka)
        .await
        .expect("tunnel a");
    let tb = SecureTunnel::start(&Pair::path(&p.b), TUN, B, TUNNEL_PORT, kb)
        .await
        .expect("tunnel b");
    ta.set_peers(&[B]).await.expect("peers a");
    tb.set_peers(&[A]).await.expect("peers b");
    let (a, b) = (p.a.clone(), p.b.clone());
    tokio::task::spawn_blocking(move || {
        Pair::route_through_tun(&a, B);
        Pair::route_through_tun(&b, A);
    })
    .await
    .expect("routes");
    (ta, tb)
}
