//! The peer table between two in-memory nodes: handshakes, delivery,
//! drops, and key rotation.

use std::net::Ipv4Addr;

use super::{Io, Table};
use crate::linux::secure::TunnelKeys;

const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

#[derive(Default)]
struct Mem {
    net: Vec<(Ipv4Addr, Vec<u8>)>,
    tun: Vec<Vec<u8>>,
}

impl Io for Mem {
    fn to_peer(&mut self, peer: Ipv4Addr, datagram: &[u8]) {
        self.net.push((peer, datagram.to_vec()));
    }
    fn to_tun(&mut self, packet: &[u8]) {
        self.tun.push(packet.to_vec());
    }
}

fn keys(seed: u8) -> TunnelKeys {
    TunnelKeys {
        private: [seed; 32],
        preshared: [seed.wrapping_add(100); 32],
    }
}

/// An IPv4/UDP-ish packet from `src` to `dst` carrying `payload`.
fn packet(src: Ipv4Addr, dst: Ipv4Addr, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(20 + payload.len()).expect("small packet");
    let mut p = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0];
    p[2..4].copy_from_slice(&len.to_be_bytes());
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(payload);
    p
}

struct Node {
    ip: Ipv4Addr,
    table: Table,
    io: Mem,
    /// Every datagram it sent.
    wire: Vec<Vec<u8>>,
}

impl Node {
    fn new(ip: Ipv4Addr, peer: Ipv4Addr, k: &TunnelKeys) -> Node {
        let table = Table::new(k);
        table.set_peers(&[peer]);
        Node {
            ip,
            table,
            io: Mem::default(),
            wire: Vec::new(),
        }
    }

    fn send(&mut self, p: &[u8]) {
        let mut buf = vec![0u8; 65_536];
        self.table.outgoing(p, &mut buf, &mut self.io);
    }
}

/// Delivers datagrams both ways until none is left.
fn pump(a: &mut Node, b: &mut Node) {
    let mut buf = vec![0u8; 65_536];
    for _ in 0..100 {
        let from_a: Vec<_> = std::mem::take(&mut a.io.net);
        let from_b: Vec<_> = std::mem::take(&mut b.io.net);
        if from_a.is_empty() && from_b.is_empty() {
            return;
        }
        for (to, d) in from_a {
            a.wire.push(d.clone());
            if to == b.ip {
                b.table.incoming(a.ip, &d, &mut buf, &mut b.io);
            }
        }
        for (to, d) in from_b {
            b.wire.push(d.clone());
            if to == a.ip {
                a.table.incoming(b.ip, &d, &mut buf, &mut a.io);
            }
        }
    }
    panic!("the nodes never stop talking");
}

fn tick(a: &mut Node, b: &mut Node) {
    let mut buf = vec![0u8; 65_536];
    a.table.tick(&mut buf, &mut a.io);
    b.table.tick(&mut buf, &mut b.io);
    pump(a, b);
}

fn pair(ka: &TunnelKeys, kb: &TunnelKeys) -> (Node, Node) {
    (Node::new(A, B, ka), Node::new(B, A, kb))
}

#[test]
fn first_packet_waits_for_the_handshake_then_arrives_once() {
    let (mut a, mut b) = pair(&keys(1), &keys(1));
    let p = packet(A, B, b"hello over the tunnel");
    a.send(&p);
    pump(&mut a, &mut b);
    assert_eq!(b.io.tun, vec![p.clone()]);
    let q = packet(B, A, b"and back");
    b.send(&q);
    pump(&mut a, &mut b);
    assert_eq!(a.io.tun, vec![q]);
    let wire = a.wire.iter().chain(&b.wire);
    assert!(
        wire.clone()
            .all(|d| !contains(d, b"hello") && !contains(d, b"and back")),
        "plaintext on the wire"
    );
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn unknown_destination_and_spoofed_source_are_dropped() {
    let (mut a, mut b) = pair(&keys(1), &keys(1));
    a.send(&packet(A, Ipv4Addr::new(10, 0, 0, 9), b"nobody"));
    assert!(a.io.net.is_empty(), "sent to a non-peer");
    a.send(&packet(Ipv4Addr::new(10, 0, 0, 7), B, b"spoofed"));
    pump(&mut a, &mut b);
    assert!(
        b.io.tun.is_empty(),
        "delivered a packet whose source is not the peer"
    );
    a.send(&packet(A, B, b"real"));
    pump(&mut a, &mut b);
    assert_eq!(b.io.tun.len(), 1);
}

#[test]
fn wrong_keys_deliver_nothing() {
    let (mut a, mut b) = pair(&keys(1), &keys(2));
    for i in 0..5u8 {
        a.send(&packet(A, B, &[i; 10]));
        b.send(&packet(B, A, &[i; 10]));
        tick(&mut a, &mut b);
    }
    assert!(a.io.tun.is_empty() && b.io.tun.is_empty());
    // same private key, other preshared key: the handshake fails too
    let wrong_psk = TunnelKeys {
        private: keys(1).private,
        preshared: [9; 32],
    };
    let (mut a, mut b) = pair(&keys(1), &wrong_psk);
    for i in 0..5u8 {
        a.send(&packet(A, B, &[i; 10]));
        b.send(&packet(B, A, &[i; 10]));
        tick(&mut a, &mut b);
    }
    assert!(a.io.tun.is_empty() && b.io.tun.is_empty());
}

#[test]
fn rotation_keeps_traffic_flowing_whoever_switches_first() {
    let (mut a, mut b) = pair(&keys(1), &keys(1));
    a.send(&packet(A, B, b"before"));
    pump(&mut a, &mut b);
    assert_eq!(b.io.tun.len(), 1);
    // a switches first: its traffic stays on the old session
    a.table.set_keys(&keys(2));
    tick(&mut a, &mut b);
    a.send(&packet(A, B, b"a rotated"));
    b.send(&packet(B, A, b"b did not"));
    pump(&mut a, &mut b);
    assert_eq!(b.io.tun.len(), 2, "a's packet after its rotation");
    assert_eq!(a.io.tun.len(), 1, "b's packet after a's rotation");
    assert!(!a.table.on_current(B));
    // b switches: the new sessions handshake and take over
    b.table.set_keys(&keys(2));
    tick(&mut a, &mut b);
    a.send(&packet(A, B, b"both rotated"));
    b.send(&packet(B, A, b"both rotated"));
    pump(&mut a, &mut b);
    assert_eq!(b.io.tun.len(), 3);
    assert_eq!(a.io.tun.len(), 2);
    assert!(a.table.on_current(B) && b.table.on_current(A));
    // the same keys again change nothing
    a.table.set_keys(&keys(2));
    assert!(a.table.on_current(B));
}

#[test]
fn removed_peer_gets_nothing_and_new_peer_works() {
    let (mut a, mut b) = pair(&keys(1), &keys(1));
    a.table.set_peers(&[]);
    a.send(&packet(A, B, b"gone"));
    assert!(a.io.net.is_empty());
    a.table.set_peers(&[B]);
    a.send(&packet(A, B, b"back"));
    pump(&mut a, &mut b);
    assert_eq!(b.io.tun.len(), 1);
}
