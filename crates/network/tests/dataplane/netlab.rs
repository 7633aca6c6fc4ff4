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
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
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
