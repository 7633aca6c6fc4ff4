//! Test harness: real `rswarm daemon` processes in temporary directories,
//! driven through the rswarm CLI, the docker CLI or raw HTTP.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub mod netlab;

/// The rswarm binary under test.
pub fn rswarm_bin() -> &'static str {
    env!("CARGO_BIN_EXE_rswarm")
}

/// The tests' private Docker engine (started by `scripts/setup.sh`, never
/// the machine's own): `$RSWARM_TEST_DOCKER_HOST`, default
/// `unix:///run/rswarm-test-docker/docker.sock`.
pub fn test_engine() -> String {
    std::env::var("RSWARM_TEST_DOCKER_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unix:///run/rswarm-test-docker/docker.sock".to_string())
}

/// A daemon process with its own data root and socket.
pub struct TestDaemon {
    pub dir: tempfile::TempDir,
    pub child: Option<Child>,
    pub hostname: String,
    /// `--runtime` of the daemon (`process` unless started with
    /// [`TestDaemon::start_with_runtime`]).
    pub runtime: String,
    /// The network namespace (`ip netns` name) it runs in, if not the
    /// test's own (see [`TestDaemon::start_in_netns`]).
    pub netns: Option<String>,
    /// More daemon flags (see [`TestDaemon::start_in_netns_with_args`]).
    pub extra_args: Vec<String>,
}

impl TestDaemon {
    /// Starts a daemon and waits for its socket to answer.
    pub fn start(hostname: &str) -> TestDaemon {
        Self::start_with_runtime(hostname, "process")
    }

    /// Starts a daemon with `--runtime <runtime>` and waits for its socket.
    pub fn start_with_runtime(hostname: &str, runtime: &str) -> TestDaemon {
        Self::launch(hostname, runtime, None)
    }

    /// Starts a process-runtime daemon inside the network namespace
    /// `netns` (through `ip netns exec`, which execs the daemon: the
    /// child's PID is the daemon's); its socket stays reachable.
    pub fn start_in_netns(hostname: &str, netns: &str) -> TestDaemon {
        Self::start_in_netns_with_runtime(hostname, netns, "process")
    }

    /// [`TestDaemon::start_in_netns`] with `--runtime <runtime>`.
    pub fn start_in_netns_with_runtime(hostname: &str, netns: &str, runtime: &str) -> TestDaemon {
        Self::launch(hostname, runtime, Some(netns))
    }

    /// [`TestDaemon::start_in_netns`] with more daemon flags.
    pub fn start_in_netns_with_args(hostname: &str, netns: &str, args: &[&str]) -> TestDaemon {
        let mut d = Self::launch_stopped(hostname, "process", Some(netns));
        d.extra_args = args.iter().map(|a| a.to_string()).collect();
        d.spawn();
        d
    }

    /// A daemon in a new temporary directory, spawned and answering.
    fn launch(hostname: &str, runtime: &str, netns: Option<&str>) -> TestDaemon {
        let mut d = Self::launch_stopped(hostname, runtime, netns);
        d.spawn();
        d
    }

    fn launch_stopped(hostname: &str, runtime: &str, netns: Option<&str>) -> TestDaemon {
        let dir = tempfile::Builder::new()
            .prefix("rswarm-test-")
            .tempdir()
            .expect("tempdir");
        TestDaemon {
            dir,
            child: None,
            hostname: hostname.to_string(),
            runtime: runtime.to_string(),
            netns: netns.map(str::to_string),
            extra_args: Vec::new(),
        }
    }

    /// The daemon's PID, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn socket_path(&self) -> PathBuf {
        self.dir.path().join("rswarm.sock")
    }

    /// `unix:///...` URL of the socket.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket_path().display())
    }

    pub fn data_root(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("daemon.log"))
            .expect("log file");
        let mut cmd = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, rswarm_bin()]);
                c
            }
            None => Command::new(rswarm_bin()),
        };
        let child = cmd
            .args(["daemon", "-H", &self.host(), "--data-root"])
            .arg(self.data_root())
            .args(["--hostname", &self.hostname, "--runtime", &self.runtime])
            // Whatever the runtime, never the machine's own Docker engine.
            .args(["--docker-host", &test_engine()])
            .args(&self.extra_args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn daemon");
        self.child = Some(child);
        wait_until("daemon socket answers", Duration::from_secs(20), || {
            http(&self.socket_path(), "GET", "/_ping", None)
                .map(|r| r.status == 200)
                .unwrap_or(false)
        });
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if let Ok(Some(status)) = c.try_wait() {
                    assert!(
                        status.success(),
                        "daemon exited with {status}; log:\n{}",
                        self.log()
                    );
                    break;
                }
                if Instant::now() > deadline {
                    let _ = c.kill();
                    let _ = c.wait();
                    panic!("daemon did not stop after SIGTERM; log:\n{}", self.log());
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    /// Stops and starts again with the same data root.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// SIGKILL, no cleanup.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(self.socket_path());
    }

    /// Starts again after [`TestDaemon::stop`].
    pub fn restart_from_stopped(&mut self) {
        assert!(self.child.is_none(), "daemon still running");
        self.spawn();
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("daemon.log")).unwrap_or_default()
    }

    /// Runs `rswarm -H <this> args...`.
    pub fn rswarm(&self, args: &[&str]) -> Output {
        Command::new(rswarm_bin())
            .arg("-H")
            .arg(self.host())
            .args(args)
            .output()
            .expect("run rswarm")
    }

    /// Runs the rswarm CLI and asserts success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.rswarm(args);
        assert!(
            out.status.success(),
            "rswarm {args:?} failed: {}\nstdout: {}\ndaemon log:\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout),
            self.log()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs the docker 28 CLI; `(success, stdout, stderr)`.
    pub fn cli(&self, args: &[&str]) -> (bool, String, String) {
        let o = self.docker(DOCKER_28, args);
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    }

    /// Runs the docker 28 CLI and asserts success; returns stdout.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let (success, out, err) = self.cli(args);
        assert!(
            success,
            "docker {args:?} on {}: {err}\ndaemon log:\n{}",
            self.hostname,
            self.log()
        );
        out
    }

    /// Runs the docker 28 CLI and asserts failure; returns stderr.
    pub fn cli_err(&self, args: &[&str]) -> String {
        let (success, out, err) = self.cli(args);
        assert!(!success, "docker {args:?} should fail: {out}");
        err
    }

    /// Runs a docker CLI binary against this daemon.
    pub fn docker(&self, docker: &str, args: &[&str]) -> Output {
        Command::new(docker)
            .arg("-H")
            .arg(self.host())
            .args(args)
            .env("DOCKER_CONFIG", self.dir.path().join("docker-config"))
            .env_remove("DOCKER_HOST")
            .output()
            .expect("run docker")
    }

    /// The docker 28 CLI against this daemon; must succeed (else the
    /// panic shows its output and the daemon's log). Returns stdout.
    pub fn docker_ok(&self, args: &[&str]) -> String {
        let o = self.docker(DOCKER_28, args);
        assert!(
            o.status.success(),
            "docker {args:?} on {}: {}{}\nlog:\n{}",
            self.hostname,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr),
            self.log()
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// `docker swarm join` as a manager (the token decides) through
    /// `via`, advertising and listening on `me` (`ip:port`).
    pub fn join_manager(&self, token: &str, me: &str, via: &str) {
        let joined = self.docker_ok(&[
            "swarm",
            "join",
            "--token",
            token.trim(),
            "--advertise-addr",
            me,
            "--listen-addr",
            me,
            via,
        ]);
        assert!(
            joined.contains("This node joined a swarm as a manager."),
            "{joined}"
        );
    }

    /// `swarm init` on loopback with a free swarm port; returns the
    /// `ip:port` managers listen on.
    pub fn init(&self) -> String {
        let addr = format!("127.0.0.1:{}", free_port());
        self.ok(&[
            "swarm",
            "init",
            "--advertise-addr",
            "127.0.0.1",
            "--listen-addr",
            &addr,
        ]);
        addr
    }

    /// `swarm join-token -q worker`.
    pub fn worker_token(&self) -> String {
        self.ok(&["swarm", "join-token", "-q", "worker"])
            .trim()
            .to_string()
    }

    /// `swarm join` as a worker advertising `ip`.
    pub fn join(&self, token: &str, manager: &str, ip: &str) {
        let out = self.ok(&[
            "swarm",
            "join",
            "--token",
            token,
            "--advertise-addr",
            ip,
            manager,
        ]);
        assert!(
            out.contains("This node joined a swarm as a worker."),
            "{out}"
        );
    }

    /// This node's ID (from `/info`).
    pub fn node_id(&self) -> String {
        self.get_json("/info")["Swarm"]["NodeID"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Raw HTTP against the socket.
    pub fn http(&self, method: &str, path: &str, body: Option<&str>) -> HttpResponse {
        http(&self.socket_path(), method, path, body).expect("http request")
    }

    /// `GET` returning JSON.
    pub fn get_json(&self, path: &str) -> serde_json::Value {
        let r = self.http("GET", path, None);
        assert_eq!(r.status, 200, "GET {path}: {}", r.body);
        serde_json::from_str(&r.body).expect("json")
    }
}

impl Drop for TestDaemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut exited = false;
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    exited = true;
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            if !exited {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
        self.kill_task_processes();
    }
}

impl TestDaemon {
    /// Kills what is left of this node's task processes (a daemon killed
    /// with SIGKILL and not restarted leaves them running): every process
    /// whose environment names this node's ID, found in its data root.
    fn kill_task_processes(&self) {
        let state = self.data_root().join("swarm/state.json");
        let Some(node_id) = std::fs::read(&state)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["node_id"].as_str().map(str::to_string))
        else {
            return;
        };
        for pid in pids_with_env("RSWARM_NODE_ID", &node_id) {
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg(pid.to_string())
                .status();
        }
    }
}

/// A raw HTTP response.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn message(&self) -> String {
        serde_json::from_str::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

/// One HTTP/1.1 request over a unix socket (`Connection: close`).
pub fn http(
    sock: &Path,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> std::io::Result<HttpResponse> {
    let mut s = UnixStream::connect(sock)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: api.moby.localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        })
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// A TCP port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Polls `cond` every 100 ms until it holds or `timeout` passes (then panics).
pub fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if cond() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out after {timeout:?} waiting for: {what}");
}

/// PIDs of live (non-zombie) processes whose environment has `KEY=value`.
pub fn pids_with_env(key: &str, value: &str) -> Vec<u32> {
    let needle = format!("{key}={value}");
    let mut pids = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return pids;
    };
    for e in entries.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(env) = std::fs::read(e.path().join("environ")) else {
            continue;
        };
        if !env.split(|b| *b == 0).any(|kv| kv == needle.as_bytes()) {
            continue;
        }
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, r)| r.split_whitespace().next())
            .unwrap_or("");
        if state != "Z" && state != "X" {
            pids.push(pid);
        }
    }
    pids
}

/// Task processes (the main process of each task, not their children) of a service.
pub fn service_pids(service_id: &str) -> Vec<u32> {
    let all = pids_with_env("RSWARM_SERVICE_ID", service_id);
    all.iter()
        .copied()
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let ppid: u32 = stat
                .rsplit_once(')')
                .and_then(|(_, r)| r.split_whitespace().nth(1))
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            !all.contains(&ppid)
        })
        .collect()
}

/// The docker 28 client shipped on the machine.
pub const DOCKER_28: &str = "/usr/local/bin/docker";
/// Debian's docker 20.10 client (installed by `.ci/run`).
pub const DOCKER_20: &str = "/usr/bin/docker";
