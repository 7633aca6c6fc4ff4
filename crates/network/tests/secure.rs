//! The encrypted-overlay tunnel (`linux::secure`) between two network
//! namespaces joined by a veth, with real UDP and TCP traffic routed into
//! its TUN, a packet capture on the veth, key rotation under an open TCP
//! connection, and wrong keys. Needs root and `ip`.
//!
//! ```text
//!  rsw-sec<pid>-<t>-a                         rsw-sec<pid>-<t>-b
//!   veth 10.99.0.1/24 ──────────────────────── veth 10.99.0.2/24
//!   rswwg0 (TUN)  rule: to 10.99.0.2 → table 100 → dev rswwg0 (and back)
//!   UDP 4790 (the tunnel itself) stays on the main table
//! ```

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsFd;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sched::{CloneFlags, setns};
use nix::sys::socket::{
    AddressFamily, LinkAddr, SockFlag, SockProtocol, SockType, recvfrom, setsockopt, socket,
    sockopt::ReceiveTimeout,
};
use nix::sys::time::{TimeVal, TimeValLike};
use rswarm_network::Netns;
use rswarm_network::linux::secure::{SecureTunnel, TUNNEL_PORT, TunnelKeys};

const A: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 1);
const B: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 2);
const TUN: &str = "rswwg0";

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn keys() -> TunnelKeys {
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
struct Names {
    a: String,
    b: String,
}

/// Two namespaces and their veth; deleted on drop (also after a failure).
struct Pair(Names);

impl std::ops::Deref for Pair {
    type Target = Names;
    fn deref(&self) -> &Names {
        &self.0
    }
}

impl Pair {
    fn new(tag: &str) -> Pair {
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

    fn path(ns: &str) -> Netns {
        Netns::At(format!("/run/netns/{ns}").into())
    }

    /// Sends everything to `peer` through the TUN, except the tunnel's
    /// own datagrams; no reverse-path filter on the TUN.
    fn route_through_tun(ns: &str, peer: Ipv4Addr) {
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
fn in_ns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let file = File::open(&path).expect("open netns");
        setns(file.as_fd(), CloneFlags::CLONE_NEWNET).expect("setns");
        f()
    })
    .join()
    .expect("namespace thread")
}

fn ifindex(ns: &str, dev: &str) -> u32 {
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

fn link_exists(ns: &str, dev: &str) -> bool {
    Command::new("ip")
        .args(["-n", ns, "link", "show", "dev", dev])
        .stderr(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .status()
        .expect("ip")
        .success()
}

/// Every frame seen on any link of a namespace, with its link's index.
struct Capture {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Vec<(usize, Vec<u8>)>>,
}

impl Capture {
    fn start(ns: &str) -> Capture {
        let fd = in_ns(ns, || {
            socket(
                AddressFamily::Packet,
                SockType::Raw,
                SockFlag::empty(),
                SockProtocol::EthAll,
            )
            .expect("packet socket")
        });
        setsockopt(&fd, ReceiveTimeout, &TimeVal::milliseconds(100)).expect("SO_RCVTIMEO");
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        let thread = std::thread::spawn(move || {
            use std::os::fd::AsRawFd;
            let mut frames = Vec::new();
            let mut buf = vec![0u8; 65_536];
            while !st.load(Ordering::SeqCst) {
                if let Ok((n, Some(addr))) = recvfrom::<LinkAddr>(fd.as_raw_fd(), &mut buf) {
                    frames.push((addr.ifindex(), buf[..n].to_vec()));
                }
            }
            frames
        });
        Capture { stop, thread }
    }

    fn finish(self) -> Vec<(usize, Vec<u8>)> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().expect("capture thread")
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Two tunnels, each the other's peer.
async fn tunnels(p: &Pair, ka: TunnelKeys, kb: TunnelKeys) -> (SecureTunnel, SecureTunnel) {
    let ta = SecureTunnel::start(&Pair::path(&p.a), TUN, A, TUNNEL_PORT, ka)
        .await
        .expect("tunnel a");
    let tb = SecureTunnel::start(&Pair::path(&p.b), TUN, B, TUNNEL_PORT, kb)
        .await
        .expect("tunnel b");
    ta.set_peers(&[B]).await.expect("peers a");
    tb.set_peers(&[A]).await.expect("peers b");
    let (a, b) = (p.a.clone(), p.b.clone());
    blocking(move || {
        Pair::route_through_tun(&a, B);
        Pair::route_through_tun(&b, A);
    })
    .await;
    (ta, tb)
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("blocking task")
}

fn udp_pair(p: &Names, port: u16) -> (UdpSocket, UdpSocket) {
    let rx = in_ns(&p.b, move || UdpSocket::bind((B, port)).expect("bind b"));
    rx.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let tx = in_ns(&p.a, || UdpSocket::bind((A, 0)).expect("bind a"));
    (tx, rx)
}

/// Sends `msg` every 200 ms until it arrives (true) or `within` passes.
fn udp_until(tx: &UdpSocket, rx: &UdpSocket, port: u16, msg: &[u8], within: Duration) -> bool {
    udp_until_skipping(tx, rx, port, msg, b"", within)
}

/// [`udp_until`], ignoring datagrams `skip` (sent earlier, queued by the
/// tunnel until a handshake succeeded).
fn udp_until_skipping(
    tx: &UdpSocket,
    rx: &UdpSocket,
    port: u16,
    msg: &[u8],
    skip: &[u8],
    within: Duration,
) -> bool {
    let end = Instant::now() + within;
    let mut buf = [0u8; 2048];
    while Instant::now() < end {
        tx.send_to(msg, (B, port)).expect("udp send");
        if let Ok((n, from)) = rx.recv_from(&mut buf) {
            if &buf[..n] == skip {
                continue;
            }
            assert_eq!(&buf[..n], msg, "datagram changed on the way");
            assert_eq!(from.ip(), std::net::IpAddr::V4(A), "source address kept");
            return true;
        }
    }
    false
}

fn tcp_pair(p: &Names, port: u16) -> (TcpStream, TcpStream) {
    let listener = in_ns(&p.b, move || {
        TcpListener::bind((B, port)).expect("listen b")
    });
    let client = in_ns(&p.a, move || {
        TcpStream::connect_timeout(&SocketAddr::from((B, port)), Duration::from_secs(10))
            .expect("connect through the tunnel")
    });
    let (server, from) = listener.accept().expect("accept");
    assert_eq!(from.ip(), std::net::IpAddr::V4(A));
    for s in [&client, &server] {
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
    }
    (client, server)
}

/// `msg` from client to server and back.
fn echo(client: &mut TcpStream, server: &mut TcpStream, msg: &[u8]) {
    client.write_all(msg).expect("client write");
    let mut got = vec![0u8; msg.len()];
    server.read_exact(&mut got).expect("server read");
    assert_eq!(got, msg);
    server.write_all(&got).expect("server write");
    let mut back = vec![0u8; msg.len()];
    client.read_exact(&mut back).expect("client read");
    assert_eq!(back, msg);
}

/// 4 MiB client → server, full-size segments (the outer datagrams are
/// fragmented on the 1500-byte veth).
fn bulk(client: &mut TcpStream, server: &mut TcpStream, marker: &[u8]) {
    let mut data: Vec<u8> = (0..4u32 << 20).map(|i| (i % 251) as u8).collect();
    data[1000..1000 + marker.len()].copy_from_slice(marker);
    let mut c = client.try_clone().expect("clone");
    let want = data.clone();
    let w = std::thread::spawn(move || c.write_all(&data).expect("bulk write"));
    let mut got = vec![0u8; want.len()];
    server.read_exact(&mut got).expect("bulk read");
    w.join().expect("writer");
    assert!(got == want, "bulk data changed on the way");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_and_tcp_cross_encrypted_and_survive_key_rotation() {
    let p = Pair::new("t");
    let keys1 = keys();
    let (ta, tb) = tunnels(&p, keys1.clone(), keys1).await;
    let marker = format!("RSWSEC-PLAINTEXT-{}", std::process::id()).into_bytes();
    let names = p.0.clone();
    let (veth, tun, cap) = blocking(move || {
        let ix = (ifindex(&names.b, "ul0"), ifindex(&names.b, TUN));
        (ix.0, ix.1, Capture::start(&names.b))
    })
    .await;

    // (1) UDP and TCP cross, a 1472-byte datagram and full-size segments too
    let (names, pm) = (p.0.clone(), marker.clone());
    let (mut client, mut server) = blocking(move || {
        let (tx, rx) = udp_pair(&names, 7001);
        let mut msg = pm.clone();
        msg.extend_from_slice(b" over udp");
        assert!(
            udp_until(&tx, &rx, 7001, &msg, Duration::from_secs(10)),
            "UDP never crossed"
        );
        let mut big = vec![b'x'; 1472];
        big[..pm.len()].copy_from_slice(&pm);
        assert!(udp_until(&tx, &rx, 7001, &big, Duration::from_secs(10)));
        let (mut client, mut server) = tcp_pair(&names, 7002);
        echo(&mut client, &mut server, &[&pm[..], b" over tcp"].concat());
        bulk(&mut client, &mut server, &pm);
        (client, server)
    })
    .await;

    // (2) the veth never carried the marker; the TUN did (the capture sees
    // plaintext where there is some), and the veth carried the tunnel
    let frames = blocking(move || cap.finish()).await;
    let on_veth: Vec<_> = frames.iter().filter(|(i, _)| *i == veth as usize).collect();
    assert!(
        on_veth.len() > 100,
        "the capture saw {} frames on the veth",
        on_veth.len()
    );
    assert!(
        !on_veth.iter().any(|(_, f)| contains(f, &marker)),
        "plaintext marker on the underlay"
    );
    assert!(
        frames
            .iter()
            .any(|(i, f)| *i == tun as usize && contains(f, &marker)),
        "the capture never saw the marker on the TUN"
    );

    // (3) rotation: a first, then b; the TCP connection keeps working
    let keys2 = keys();
    ta.set_keys(keys2.clone()).await.expect("rotate a");
    let (mut client, mut server) = blocking(move || {
        for i in 0..5u8 {
            echo(&mut client, &mut server, &[b'a', i]);
            std::thread::sleep(Duration::from_millis(100));
        }
        (client, server)
    })
    .await;
    tb.set_keys(keys2).await.expect("rotate b");
    let (mut client, mut server) = blocking(move || {
        for i in 0..20u8 {
            echo(&mut client, &mut server, &[b'b', i]);
            std::thread::sleep(Duration::from_millis(100));
        }
        (client, server)
    })
    .await;
    blocking(move || bulk(&mut client, &mut server, b"after rotation")).await;

    // stopping removes the TUN links
    ta.stop().await;
    tb.stop().await;
    let (na, nb) = (p.a.clone(), p.b.clone());
    assert!(blocking(move || !link_exists(&na, TUN) && !link_exists(&nb, TUN)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_keys_deliver_nothing_until_they_match() {
    let p = Pair::new("w");
    let right = keys();
    let (ta, tb) = tunnels(&p, right.clone(), keys()).await;
    let names = p.0.clone();
    let (tx, rx) = blocking(move || {
        let (tx, rx) = udp_pair(&names, 7003);
        assert!(
            !udp_until(&tx, &rx, 7003, b"wrong keys", Duration::from_secs(3)),
            "delivered with the wrong keys"
        );
        let refused = in_ns(&names.a, || {
            TcpStream::connect_timeout(&SocketAddr::from((B, 7004)), Duration::from_secs(2))
        });
        assert!(refused.is_err(), "TCP connected with the wrong keys");
        (tx, rx)
    })
    .await;
    // the same setup carries traffic once b has the right keys
    tb.set_keys(right).await.expect("fix b");
    blocking(move || {
        assert!(
            udp_until_skipping(
                &tx,
                &rx,
                7003,
                b"right keys",
                b"wrong keys",
                Duration::from_secs(20)
            ),
            "nothing crossed after the keys matched"
        );
    })
    .await;
    ta.stop().await;
    tb.stop().await;
}
