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

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::socket::{
    AddressFamily, LinkAddr, SockFlag, SockProtocol, SockType, recvfrom, setsockopt, socket,
    sockopt::ReceiveTimeout,
};
use nix::sys::time::{TimeVal, TimeValLike};

use lab::{A, B, Names, Pair, TUN, ifindex, in_ns, keys, link_exists, tunnels};

#[path = "secure/lab.rs"]
mod lab;

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
