//! netlab: N "host" network namespaces on an underlay bridge of their own
//! (198.18.0.0/15, RFC 2544 test addresses), as separate machines for the
//! data plane. Names are `rsw-<lab id>-...`; namespace roots of the data
//! planes live under `/run/rswarm-test/<lab id>/`. Dropping the lab kills
//! its processes and deletes every namespace, mount and directory it made
//! (and a new lab with the same id first removes what a killed run left).
//!
//! ```text
//!   rsw-<id>-h1 (ul0 198.18.0.1)   rsw-<id>-h2 (ul0 198.18.0.2)  ...
//!          \                          /
//!           rsw-<id>-ul: bridge ulbr, 198.18.0.254 ("outside")
//! ```

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sched::{CloneFlags, setns};
use rswarm_network::{DataPlaneConfig, DnsSettings, Netns};

/// The address of the underlay bridge: what "outside" means in the lab.
pub const OUTSIDE: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 254);

/// A lab.
pub struct Lab {
    pub id: String,
    pub hosts: Vec<Host>,
    root: PathBuf,
    children: Mutex<Vec<Child>>,
}

/// One host of a lab.
pub struct Host {
    /// Its namespace name (`ip netns`).
    pub name: String,
    /// Its data-path address.
    pub addr: Ipv4Addr,
    pub dir: PathBuf,
}

impl Host {
    /// The namespace file.
    pub fn path(&self) -> PathBuf {
        PathBuf::from("/run/netns").join(&self.name)
    }

    /// As the data plane names it.
    pub fn netns(&self) -> Netns {
        Netns::At(self.path())
    }
}

impl Lab {
    /// A lab with `hosts` hosts, named after `id` (unique per test).
    pub fn new(id: &str, hosts: usize) -> Lab {
        sweep(id);
        let root = PathBuf::from("/run/rswarm-test").join(id);
        let mut lab = Lab {
            id: id.to_string(),
            hosts: Vec::new(),
            root: root.clone(),
            children: Mutex::new(Vec::new()),
        };
        let ul = lab.ns("ul");
        ip(&["netns", "add", &ul]);
        ip(&["-n", &ul, "link", "set", "lo", "up"]);
        ip(&["-n", &ul, "link", "add", "ulbr", "type", "bridge"]);
        ip(&[
            "-n",
            &ul,
            "addr",
            "add",
            &format!("{OUTSIDE}/15"),
            "dev",
            "ulbr",
        ]);
        ip(&["-n", &ul, "link", "set", "ulbr", "up"]);
        for i in 1..=hosts {
            let name = lab.ns(&format!("h{i}"));
            let addr = Ipv4Addr::new(198, 18, 0, u8::try_from(i).expect("few hosts"));
            ip(&["netns", "add", &name]);
            ip(&[
                "link",
                "add",
                "ul0",
                "netns",
                &name,
                "type",
                "veth",
                "peer",
                "name",
                &format!("h{i}"),
                "netns",
                &ul,
            ]);
            ip(&[
                "-n",
                &ul,
                "link",
                "set",
                &format!("h{i}"),
                "master",
                "ulbr",
                "up",
            ]);
            ip(&[
                "-n",
                &name,
                "addr",
                "add",
                &format!("{addr}/15"),
                "dev",
                "ul0",
            ]);
            ip(&["-n", &name, "link", "set", "ul0", "up"]);
            ip(&["-n", &name, "link", "set", "lo", "up"]);
            let dir = root.join(format!("h{i}"));
            std::fs::create_dir_all(&dir).expect("lab dir");
            lab.hosts.push(Host { name, addr, dir });
        }
        lab
    }

    /// `rsw-<id>-<suffix>`.
    pub fn ns(&self, suffix: &str) -> String {
        format!("rsw-{}-{suffix}", self.id)
    }

    /// The underlay namespace ("outside" of every host).
    pub fn outside(&self) -> PathBuf {
        PathBuf::from("/run/netns").join(self.ns("ul"))
    }

    /// A data-plane config for host `i` (0-based): its namespace as host,
    /// roots inside the lab, the outside address as upstream DNS.
    pub fn config(&self, i: usize) -> DataPlaneConfig {
        let h = &self.hosts[i];
        let mut cfg = DataPlaneConfig::new(h.addr);
        cfg.host = h.netns();
        cfg.netns_root = h.dir.join("netns");
        cfg.state_dir = h.dir.join("tasks");
        cfg.dns = DnsSettings {
            nameservers: vec![OUTSIDE.into()],
            search: vec!["lab.test".into()],
            options: vec![],
        };
        cfg.dns_timeout = Duration::from_secs(2);
        cfg
    }

    /// Spawns `args` inside the namespace file `netns`; killed when the lab
    /// goes.
    pub fn spawn_in(&self, netns: &Path, args: &[&str]) -> u32 {
        let child = Command::new("nsenter")
            .arg(format!("--net={}", netns.display()))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn nsenter");
        let pid = child.id();
        self.children.lock().expect("lock").push(child);
        pid
    }

    /// Kills every process the lab spawned.
    pub fn kill_all(&self) {
        for mut c in self.children.lock().expect("lock").drain(..) {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.kill_all();
        sweep(&self.id);
    }
}

/// Deletes every namespace named `rsw-<id>-*`, every mount under the lab's
/// root, and the root.
pub fn sweep(id: &str) {
    let prefix = format!("rsw-{id}-");
    for ns in netns_names().into_iter().filter(|n| n.starts_with(&prefix)) {
        let _ = Command::new("ip").args(["netns", "del", &ns]).status();
    }
    let root = PathBuf::from("/run/rswarm-test").join(id);
    let mut mounts = mounts_under(&root);
    mounts.sort_by_key(|m| std::cmp::Reverse(m.len()));
    for m in mounts {
        let _ = nix::mount::umount2(m.as_str(), nix::mount::MntFlags::MNT_DETACH);
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// What of lab `id` still exists: namespaces, mounts, the root directory.
pub fn leftovers(id: &str) -> Vec<String> {
    let prefix = format!("rsw-{id}-");
    let root = PathBuf::from("/run/rswarm-test").join(id);
    let mut v: Vec<String> = netns_names()
        .into_iter()
        .filter(|n| n.starts_with(&prefix))
        .collect();
    v.extend(mounts_under(&root));
    if root.exists() {
        v.push(root.display().to_string());
    }
    v
}

fn netns_names() -> Vec<String> {
    std::fs::read_dir("/run/netns")
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn mounts_under(root: &Path) -> Vec<String> {
    let root = root.display().to_string();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(4).map(str::to_string))
        .filter(|m| m == &root || m.starts_with(&format!("{root}/")))
        .collect()
}

/// Runs `ip ARGS`, panicking with its stderr on failure.
pub fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs a command inside the namespace file `netns` and returns stdout.
pub fn run_in(netns: &Path, args: &[&str]) -> String {
    let out = Command::new("nsenter")
        .arg(format!("--net={}", netns.display()))
        .args(args)
        .output()
        .expect("run nsenter");
    assert!(
        out.status.success(),
        "{}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Link names inside `netns`.
pub fn links(netns: &Path) -> Vec<String> {
    run_in(netns, &["ip", "-o", "link", "show"])
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|n| n.split('@').next().unwrap_or(n).to_string())
        .collect()
}

/// nftables table lines (`table ip x`) inside `netns`.
pub fn tables(netns: &Path) -> Vec<String> {
    run_in(netns, &["nft", "list", "tables"])
        .lines()
        .map(str::to_string)
        .collect()
}

/// Runs `f` on a thread inside `netns`.
pub fn in_netns<T: Send + 'static>(netns: &Path, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = netns.to_path_buf();
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).expect("open netns");
        setns(&file, CloneFlags::CLONE_NEWNET).expect("setns");
        f()
    })
    .join()
    .expect("netns thread")
}

/// A TCP server on a thread inside a namespace: answers every connection
/// with its name and the caller's address (`name from ip`), then closes.
/// Records callers. Stops (socket closed) when dropped.
pub struct TcpServer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    pub callers: Arc<Mutex<Vec<Ipv4Addr>>>,
}

impl TcpServer {
    pub fn start(netns: &Path, addr: SocketAddr, name: &str) -> TcpServer {
        let listener = in_netns(netns, move || TcpListener::bind(addr).expect("bind"));
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let callers = Arc::new(Mutex::new(Vec::new()));
        let (s, c, name) = (stop.clone(), callers.clone(), name.to_string());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut conn, peer)) => {
                        let ip = match peer.ip() {
                            std::net::IpAddr::V4(v4) => v4,
                            std::net::IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
                        };
                        c.lock().expect("lock").push(ip);
                        let _ = conn.set_nonblocking(false);
                        let _ = conn.write_all(format!("{name} from {ip}\n").as_bytes());
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        TcpServer {
            stop,
            thread: Some(thread),
            callers,
        }
    }
}

impl Drop for TcpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Connects from inside `netns` and reads the answer.
pub fn tcp_get(netns: &Path, addr: SocketAddr) -> std::io::Result<String> {
    in_netns(netns, move || {
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
        s.set_read_timeout(Some(Duration::from_secs(2)))?;
        let mut out = String::new();
        s.read_to_string(&mut out)?;
        Ok(out.trim().to_string())
    })
}

/// `tcp_get` until it succeeds or `within` has passed (then its last
/// error).
pub fn tcp_get_eventually(
    netns: &Path,
    addr: SocketAddr,
    within: Duration,
) -> std::io::Result<String> {
    let deadline = Instant::now() + within;
    loop {
        match tcp_get(netns, addr) {
            Ok(s) => return Ok(s),
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

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
