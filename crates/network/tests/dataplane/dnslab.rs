//! DNS in the lab: a fake upstream server, and queries from inside a
//! namespace.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::netlab::in_netns;

/// Sends one DNS query (wire bytes) over UDP from inside `netns` to
/// `server`; the answer's bytes.
pub fn udp_exchange(netns: &Path, server: SocketAddr, query: Vec<u8>) -> std::io::Result<Vec<u8>> {
    in_netns(netns, move || {
        let s = UdpSocket::bind(("127.0.0.1", 0))?;
        s.set_read_timeout(Some(Duration::from_secs(3)))?;
        s.connect(server)?;
        s.send(&query)?;
        let mut buf = vec![0u8; 65535];
        let n = s.recv(&mut buf)?;
        buf.truncate(n);
        Ok(buf)
    })
}

/// Sends one DNS query over TCP from inside `netns`.
pub fn tcp_exchange(netns: &Path, server: SocketAddr, query: Vec<u8>) -> std::io::Result<Vec<u8>> {
    in_netns(netns, move || {
        let mut s = TcpStream::connect_timeout(&server, Duration::from_secs(2))?;
        s.set_read_timeout(Some(Duration::from_secs(3)))?;
        let len = u16::try_from(query.len()).expect("small query");
        s.write_all(&len.to_be_bytes())?;
        s.write_all(&query)?;
        let mut l = [0u8; 2];
        s.read_exact(&mut l)?;
        let mut buf = vec![0u8; usize::from(u16::from_be_bytes(l))];
        s.read_exact(&mut buf)?;
        Ok(buf)
    })
}

/// A fake upstream DNS server (UDP and TCP port 53) on a thread inside a
/// namespace: answers every A query with `answer`, records who asked.
pub struct FakeDns {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    pub clients: Arc<Mutex<Vec<SocketAddr>>>,
}

impl FakeDns {
    pub fn start(netns: &Path, at: Ipv4Addr, answer: Ipv4Addr) -> FakeDns {
        let addr = SocketAddr::from((at, 53));
        let (udp, tcp) = in_netns(netns, move || {
            (
                UdpSocket::bind(addr).expect("bind fake dns udp"),
                TcpListener::bind(addr).expect("bind fake dns tcp"),
            )
        });
        udp.set_read_timeout(Some(Duration::from_millis(20)))
            .expect("timeout");
        tcp.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let clients = Arc::new(Mutex::new(Vec::new()));
        let (s, c) = (stop.clone(), clients.clone());
        let u = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while !s.load(Ordering::Relaxed) {
                if let Ok((n, peer)) = udp.recv_from(&mut buf) {
                    c.lock().expect("lock").push(peer);
                    let _ = udp.send_to(&fake_answer(&buf[..n], answer), peer);
                }
            }
        });
        let (s, c) = (stop.clone(), clients.clone());
        let t = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let Ok((mut conn, peer)) = tcp.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                c.lock().expect("lock").push(peer);
                let _ = conn.set_nonblocking(false);
                let mut l = [0u8; 2];
                if conn.read_exact(&mut l).is_err() {
                    continue;
                }
                let mut q = vec![0u8; usize::from(u16::from_be_bytes(l))];
                if conn.read_exact(&mut q).is_err() {
                    continue;
                }
                let a = fake_answer(&q, answer);
                let len = u16::try_from(a.len()).expect("small answer");
                let _ = conn.write_all(&len.to_be_bytes());
                let _ = conn.write_all(&a);
            }
        });
        FakeDns {
            stop,
            threads: vec![u, t],
            clients,
        }
    }
}

impl Drop for FakeDns {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn fake_answer(query: &[u8], answer: Ipv4Addr) -> Vec<u8> {
    use hickory_proto::op::Message;
    use hickory_proto::rr::{RData, Record, rdata::A};
    let q = Message::from_vec(query).expect("fake dns got a query");
    let mut m = Message::response(q.metadata.id, q.metadata.op_code);
    m.metadata.recursion_available = true;
    m.add_queries(q.queries.iter().cloned());
    if let Some(first) = q.queries.first() {
        m.add_answer(Record::from_rdata(
            first.name().clone(),
            60,
            RData::A(A(answer)),
        ));
    }
    m.to_vec().expect("encode")
}

/// Builds an A (or other type) query for `name`.
pub fn dns_query(name: &str, qtype: hickory_proto::rr::RecordType) -> Vec<u8> {
    use hickory_proto::op::{Message, Query};
    use hickory_proto::rr::Name;
    let mut m = Message::query();
    m.metadata.recursion_desired = true;
    m.add_query(Query::query(Name::from_ascii(name).expect("name"), qtype));
    m.to_vec().expect("encode")
}

/// The response code and A addresses of an answer.
pub fn dns_answer(bytes: &[u8]) -> (hickory_proto::op::ResponseCode, Vec<Ipv4Addr>) {
    use hickory_proto::op::Message;
    use hickory_proto::rr::RData;
    let m = Message::from_vec(bytes).expect("decode answer");
    let ips = m
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(a.0),
            _ => None,
        })
        .collect();
    (m.metadata.response_code, ips)
}
