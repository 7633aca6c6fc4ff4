//! The stock docker CLI (28.x at /usr/local/bin/docker, Debian's 20.10 at
//! /usr/bin/docker) against the real router on a unix socket, with the
//! fake backend behind it. Skipped when a binary is missing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::oneshot;

use crate::fake::{Call, Fake, WEB};

const CLIENTS: [&str; 2] = ["/usr/local/bin/docker", "/usr/bin/docker"];

struct Daemon {
    _dir: tempfile::TempDir,
    socket: PathBuf,
    config: PathBuf,
    stop: Option<oneshot::Sender<()>>,
}

impl Daemon {
    async fn start(fake: &Fake) -> Daemon {
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = dir.path().join("rswarm.sock");
        let config = dir.path().join("docker-config");
        std::fs::create_dir_all(&config).expect("config dir");
        let (tx, rx) = oneshot::channel::<()>();
        let router = rswarm_engine_api::router(Arc::new(fake.clone()));
        let path = socket.clone();
        tokio::spawn(async move {
            rswarm_engine_api::serve_unix(&path, router, async move {
                let _ = rx.await;
            })
            .await
        });
        for _ in 0..100 {
            if tokio::net::UnixStream::connect(&socket).await.is_ok() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        Daemon {
            _dir: dir,
            socket,
            config,
            stop: Some(tx),
        }
    }

    /// Runs `bin args...`; returns (success, stdout, stderr).
    async fn docker(&self, bin: &str, args: &[&str]) -> (bool, String, String) {
        let out = tokio::process::Command::new(bin)
            .arg("-H")
            .arg(format!("unix://{}", self.socket.display()))
            .args(args)
            .env("DOCKER_CONFIG", &self.config)
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_API_VERSION")
            .output()
            .await
            .expect("run docker");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs and requires success; returns stdout.
    async fn ok(&self, bin: &str, args: &[&str]) -> String {
        let (ok, out, err) = self.docker(bin, args).await;
        assert!(ok, "{bin} {args:?} failed:\nstdout: {out}\nstderr: {err}");
        out
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// Both docker clients; a missing one fails the test (`scripts/setup.sh`
/// installs Debian's 20.10).
fn clients() -> Vec<&'static str> {
    for b in CLIENTS {
        assert!(
            Path::new(b).exists(),
            "{b} is missing: run scripts/setup.sh"
        );
    }
    CLIENTS.to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_info_and_lists() {
    let fake = Fake::manager();
    let d = Daemon::start(&fake).await;
    for bin in clients() {
        let v = d
            .ok(
                bin,
                &[
                    "version",
                    "--format",
                    "{{.Server.Version}} {{.Server.APIVersion}} {{.Server.Os}}",
                ],
            )
            .await;
        assert!(
            v.starts_with("28.5.2-rswarm") && v.trim_end().ends_with(" 1.51 linux"),
            "{bin}: {v}"
        );
        let s = d
            .ok(
                bin,
                &[
                    "info",
                    "--format",
                    "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}} {{.Swarm.Cluster.ID}}",
                ],
            )
            .await;
        assert_eq!(s.trim(), "active true cluster1xxxxxxxxxxxxxxxxx", "{bin}");
        let pretty = d.ok(bin, &["info"]).await;
        assert!(
            pretty.contains("Swarm: active") && pretty.contains("Is Manager: true"),
            "{bin}: {pretty}"
        );

        let nodes = d.ok(bin, &["node", "ls"]).await;
        let self_line = nodes
            .lines()
            .find(|l| l.contains("host-a"))
            .expect("host-a listed");
        assert!(
            self_line.contains(" * ")
                && self_line.contains("Leader")
                && self_line.contains("Ready"),
            "{bin}: {nodes}"
        );
        assert!(
            nodes
                .lines()
                .any(|l| l.contains("host-b") && l.contains("Down")),
            "{bin}: {nodes}"
        );

        let services = d.ok(bin, &["service", "ls"]).await;
        let line = |name: &str| {
            services
                .lines()
                .find(|l| l.split_whitespace().nth(1) == Some(name))
                .unwrap_or("")
                .to_string()
        };
        assert!(
            line("web").contains("replicated") && line("web").contains("1/2"),
            "{bin}: {services}"
        );
        assert!(
            line("db").contains("global") && line("db").contains("1/1"),
            "{bin}: {services}"
        );
        assert!(line("top").contains("0/1"), "{bin}: {services}");

        let ps = d.ok(bin, &["service", "ps", "web"]).await;
        assert!(
            ps.lines()
                .any(|l| l.contains("web.1") && l.contains("nginx:latest") && l.contains("host-a")),
            "{bin}: {ps}"
        );
        let ids = d
            .ok(
                bin,
                &[
                    "service",
                    "ls",
                    "-q",
                    "--filter",
                    "label=com.docker.stack.namespace=shop",
                ],
            )
            .await;
        assert_eq!(ids.trim(), &WEB[..12], "{bin}");

        let inspect = d.ok(bin, &["service", "inspect", "--pretty", "web"]).await;
        assert!(
            inspect.contains("Name:")
                && inspect.contains("web")
                && inspect.contains("nginx:latest"),
            "{bin}: {inspect}"
        );
        let tokens = d.ok(bin, &["swarm", "join-token", "worker"]).await;
        assert!(
            tokens.contains("docker swarm join --token SWMTKN-1-abc-worker 127.0.0.1:2377"),
            "{bin}: {tokens}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_and_errors() {
    let fake = Fake::manager();
    let d = Daemon::start(&fake).await;
    for bin in clients() {
        let (ok, out, err) = d.docker(bin, &["service", "logs", "web"]).await;
        assert!(ok, "{bin}: {err}");
        assert!(
            out.contains("web.1.") && out.contains("@host-a") && out.contains("| hello from web"),
            "{bin}: {out}"
        );
        assert!(err.contains("| warning: disk"), "{bin}: {err}");
        let raw = d.ok(bin, &["service", "logs", "--raw", "-t", "web"]).await;
        assert_eq!(
            raw, "2025-01-02T03:04:05.000000007Z hello from web\n",
            "{bin}"
        );

        let (ok, out, err) = d.docker(bin, &["container", "ls"]).await;
        assert!(ok && out.starts_with("CONTAINER ID"), "{bin}: {out} {err}");
        let (ok, _, err) = d.docker(bin, &["container", "create", "busybox"]).await;
        assert!(
            !ok && err.contains("rswarm does not manage local containers"),
            "{bin}: {err}"
        );
        let (ok, out, err) = d
            .docker(bin, &["inspect", "--format", "{{.Spec.Name}}", "web"])
            .await;
        assert!(ok && out.trim() == "web", "{bin}: {out} {err}");
        let (ok, _, err) = d.docker(bin, &["inspect", "nothing-here"]).await;
        assert!(
            !ok && err.contains("No such object: nothing-here"),
            "{bin}: {err}"
        );
        let (ok, _, err) = d.docker(bin, &["service", "inspect", "nope"]).await;
        assert!(
            !ok && err.to_lowercase().contains("no such service: nope"),
            "{bin}: {err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_update_remove() {
    for bin in clients() {
        let fake = Fake::manager();
        let d = Daemon::start(&fake).await;
        let (ok, out, err) = d
            .docker(
                bin,
                &[
                    "service", "create", "--detach", "--name", "fresh", "busybox", "sleep", "60",
                ],
            )
            .await;
        assert!(ok, "{bin}: {err}");
        assert_eq!(out.trim(), "new000000000000000000000s", "{bin}");
        let out = d
            .ok(
                bin,
                &["service", "update", "--detach", "--replicas", "3", "web"],
            )
            .await;
        assert_eq!(out.trim(), "web", "{bin}");
        let out = d.ok(bin, &["service", "rm", "abd"]).await;
        assert_eq!(out.trim(), "abd", "{bin}");
        let calls = fake.calls();
        let create = calls.iter().find_map(|c| match c {
            Call::CreateService(s) => Some(s.clone()),
            _ => None,
        });
        let create = create.expect("created");
        assert_eq!(create.name, "fresh");
        assert_eq!(
            create
                .task_template
                .container_spec
                .as_ref()
                .map(|c| c.args.clone()),
            Some(vec!["sleep".into(), "60".into()])
        );
        assert!(calls.iter().any(|c| matches!(c, Call::UpdateService(id, 10, s, false) if id == WEB && s.mode.replicas() == Some(3))), "{calls:?}");
        assert!(
            calls
                .iter()
                .any(|c| matches!(c, Call::RemoveService(id) if id == crate::fake::DB)),
            "{calls:?}"
        );
    }
}
