//! Namespace "hosts" for the overlay tests (t71, t72): each host a network
//! namespace with `ul0` on 198.18.0.<i>/24, plugged into an underlay
//! bridge that lives in a namespace of its own (the machine's Docker
//! engine sets FORWARD DROP and bridge netfilter in the root namespace).
//! The bridge holds [`OUTSIDE`], where [`Lab::serve_outside`] runs an
//! HTTP server for egress checks. Everything is deleted on drop.

use std::collections::BTreeSet;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use super::TestDaemon;

/// The underlay bridge's address: "outside" the swarm.
pub const OUTSIDE: &str = "198.18.0.254";

/// How long [`eventually`] waits.
pub const T: Duration = Duration::from_secs(60);

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run command")
}

/// `ip ARGS`, which must succeed.
pub fn ip(args: &[&str]) {
    let o = run(Command::new("ip").args(args));
    assert!(
        o.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The hosts' namespaces and the underlay; deleted on drop.
pub struct Lab {
    pub prefix: String,
    pub hosts: Vec<String>,
    outside: Option<Child>,
    dns: Option<Child>,
}

impl Lab {
    /// `hosts` namespaces named `<tag>-<pid>-h<i>` on the underlay
    /// `<tag>-<pid>-ul`.
    pub fn new(tag: &str, hosts: usize) -> Lab {
        let prefix = format!("{tag}-{}", std::process::id());
        let mut lab = Lab {
            prefix: prefix.clone(),
            hosts: Vec::new(),
            outside: None,
            dns: None,
        };
        let ul = lab.underlay();
        ip(&["netns", "add", &ul]);
        ip(&["-n", &ul, "link", "set", "lo", "up"]);
        ip(&["-n", &ul, "link", "add", "ulbr", "type", "bridge"]);
        let outside = format!("{OUTSIDE}/24");
        ip(&["-n", &ul, "addr", "add", &outside, "dev", "ulbr"]);
        ip(&["-n", &ul, "link", "set", "ulbr", "up"]);
        for i in 1..=hosts {
            let name = format!("{prefix}-h{i}");
            ip(&["netns", "add", &name]);
            lab.hosts.push(name.clone());
            let port = format!("h{i}");
            ip(&[
                "link", "add", "ul0", "netns", &name, "type", "veth", "peer", "name", &port,
                "netns", &ul,
            ]);
            ip(&["-n", &ul, "link", "set", &port, "master", "ulbr", "up"]);
            let addr = format!("198.18.0.{i}/24");
            ip(&["-n", &name, "addr", "add", &addr, "dev", "ul0"]);
            ip(&["-n", &name, "link", "set", "ul0", "up"]);
            ip(&["-n", &name, "link", "set", "lo", "up"]);
        }
        lab
    }

    /// Serves `index.html` ("outside\n") from [`Lab::www`] on
    /// `OUTSIDE:8080` with busybox httpd in the underlay namespace.
    pub fn serve_outside(&mut self) {
        let www = self.www();
        std::fs::create_dir_all(&www).expect("www dir");
        std::fs::write(www.join("index.html"), "outside\n").expect("index");
        let www = www.to_string_lossy();
        let listen = format!("{OUTSIDE}:8080");
        let httpd = ["/bin/busybox", "httpd", "-f", "-p", &listen, "-h", &www];
        self.outside = Some(self.spawn_outside(&httpd));
    }

    /// A DNS server on `OUTSIDE:53` (UDP) in the underlay namespace that
    /// answers every A query with `answer` (a few lines of Python: busybox
    /// has no DNS server applet).
    pub fn serve_dns_outside(&mut self, answer: &str) {
        let script = format!(
            r#"
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("{OUTSIDE}", 53))
while True:
    q, peer = s.recvfrom(512)
    i = 12
    while q[i] != 0:
        i += q[i] + 1
    qtype = struct.unpack(">H", q[i + 1:i + 3])[0]
    a = qtype == 1
    head = q[:2] + b"\x81\x80\x00\x01" + (b"\x00\x01" if a else b"\x00\x00") + b"\x00\x00\x00\x00"
    rr = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + socket.inet_aton("{answer}") if a else b""
    s.sendto(head + q[12:i + 5] + rr, peer)
"#
        );
        self.dns = Some(self.spawn_outside(&["/usr/bin/python3", "-c", &script]));
    }

    /// Runs `cmd` in the underlay namespace ("outside"), output discarded.
    fn spawn_outside(&self, cmd: &[&str]) -> Child {
        Command::new("ip")
            .args(["netns", "exec", &self.underlay()])
            .args(cmd)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("outside {cmd:?}: {e}"))
    }

    /// A directory of the lab's (removed on drop), for pages to serve.
    pub fn www(&self) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("{}-www", self.prefix))
    }

    pub fn underlay(&self) -> String {
        format!("{}-ul", self.prefix)
    }

    /// The underlay address of host `i` (0-based).
    pub fn addr(&self, i: usize) -> String {
        format!("198.18.0.{}", i + 1)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for mut c in [self.outside.take(), self.dns.take()].into_iter().flatten() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(self.www());
        for ns in self.hosts.iter().chain(std::iter::once(&self.underlay())) {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

/// Makes one swarm of `nodes` (node `i` runs on `lab.hosts[i]`): the
/// first inits it on its underlay address, the others join it as workers;
/// returns once every node is Ready.
pub fn form_swarm(lab: &Lab, nodes: &[TestDaemon]) {
    let a = &nodes[0];
    a.cli_ok(&[
        "swarm",
        "init",
        "--advertise-addr",
        &lab.addr(0),
        "--listen-addr",
        &format!("{}:2377", lab.addr(0)),
    ]);
    let token = a.cli_ok(&["swarm", "join-token", "-q", "worker"]);
    for (i, n) in nodes.iter().enumerate().skip(1) {
        n.cli_ok(&[
            "swarm",
            "join",
            "--token",
            token.trim(),
            "--advertise-addr",
            &lab.addr(i),
            &format!("{}:2377", lab.addr(0)),
        ]);
    }
    super::wait_until(&format!("{} ready nodes", nodes.len()), T, || {
        a.cli_ok(&["node", "ls", "--format", "{{.Status}}"])
            .lines()
            .filter(|l| *l == "Ready")
            .count()
            == nodes.len()
    });
}

/// Polls `check` until it holds; on timeout panics with what it last said.
pub fn eventually(what: &str, mut check: impl FnMut() -> (bool, String)) {
    let deadline = std::time::Instant::now() + T;
    loop {
        let (ok, said) = check();
        if ok {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {T:?} waiting for: {what}; last: {said}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Asserts that a task's `(success, resolv.conf)` read worked and that
/// the file has each of `lines` as a whole line.
pub fn assert_resolv_conf((ok, conf): (bool, String), lines: &[&str]) {
    assert!(ok, "{conf}");
    let have: Vec<&str> = conf.lines().collect();
    for want in lines {
        assert!(have.contains(want), "{want:?} in {conf}");
    }
}

/// The A records in busybox `nslookup` output.
pub fn a_records(nslookup: &str) -> BTreeSet<String> {
    nslookup
        .lines()
        .skip_while(|l| !l.starts_with("Name:"))
        .filter_map(|l| l.strip_prefix("Address:"))
        .map(|a| a.trim().to_string())
        .collect()
}

/// What rswarm has in host namespace `ns` and daemon `d`'s mount
/// namespace: `rsw*` links, `rswarm*` nft tables, VXLAN sockets, pinned
/// namespace files. Empty when nothing is left.
pub fn leftovers(ns: &str, d: &TestDaemon) -> Vec<String> {
    let mut left = Vec::new();
    let links = run(Command::new("ip").args(["-n", ns, "-o", "link", "show"]));
    for l in String::from_utf8_lossy(&links.stdout).lines() {
        let name = l.split(':').nth(1).unwrap_or("").trim();
        if name.starts_with("rsw") {
            left.push(format!("link {name}"));
        }
    }
    let tables = run(Command::new("ip").args(["netns", "exec", ns, "nft", "list", "tables"]));
    for l in String::from_utf8_lossy(&tables.stdout).lines() {
        if l.split_whitespace()
            .last()
            .is_some_and(|t| t.starts_with("rswarm"))
        {
            left.push(l.to_string());
        }
    }
    let socks = run(Command::new("ip").args(["netns", "exec", ns, "ss", "-Huan"]));
    for l in String::from_utf8_lossy(&socks.stdout).lines() {
        if l.contains(":4789") {
            left.push(format!("vxlan socket {l}"));
        }
    }
    if let Some(pid) = d.pid() {
        let files = run(Command::new("nsenter")
            .args(["-t", &pid.to_string(), "-m", "ls", "-A"])
            .arg(d.data_root().join("netns")));
        for f in String::from_utf8_lossy(&files.stdout).lines() {
            left.push(format!("namespace file {f}"));
        }
    }
    left
}
