//! What the daemon benches share: a manager daemon started from the bench
//! binary's `rswarm` (stopped by PID on drop), the CLI against it, and a
//! free TCP port.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A `rswarm daemon` (process runtime) and its API socket URL.
pub struct Daemon {
    pub child: Child,
    pub sock: String,
}

impl Daemon {
    /// Starts a daemon named `hostname` with its socket and data root
    /// under `dir`; returns once the socket exists.
    pub fn start(dir: &Path, hostname: &str) -> Daemon {
        let sock_path = dir.join(format!("{hostname}.sock"));
        let sock = format!("unix://{}", sock_path.display());
        let child = Command::new(env!("CARGO_BIN_EXE_rswarm"))
            .args(["daemon", "-H", &sock, "--data-root"])
            .arg(dir.join(format!("{hostname}-data")))
            .args(["--hostname", hostname, "--runtime", "process"])
            .stderr(Stdio::null())
            .spawn()
            .expect("daemon");
        for _ in 0..200 {
            if sock_path.exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        Daemon { child, sock }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The rswarm CLI against this daemon; must succeed. Returns stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_rswarm"))
            .arg("-H")
            .arg(&self.sock)
            .args(args)
            .output()
            .expect("rswarm");
        assert!(
            out.status.success(),
            "rswarm {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// A TCP port free on 127.0.0.1 right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port()
}
