//! Three managers on 127.0.0.1/2/3 built with the docker CLI, and the
//! faults the tests inflict on them: SIGKILL and restart, SIGTERM and
//! restart, SIGSTOP/SIGCONT (a manager cut off from the others, its
//! sockets still open), and what the tests read back (the leader, the
//! services each manager holds).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::common::{self, TestDaemon, wait_until};

/// A 3-manager swarm.
pub struct Cluster {
    pub ms: Vec<TestDaemon>,
}

impl Cluster {
    /// The first manager initialises on 127.0.0.1, the others join with
    /// the manager token on 127.0.0.2 and 127.0.0.3; returns once one is
    /// the leader and all three are reachable.
    pub fn three(tag: &str) -> Cluster {
        let port = common::free_port().to_string();
        let ms: Vec<TestDaemon> = (1..=3)
            .map(|i| TestDaemon::start(&format!("{tag}{i}")))
            .collect();
        let listen = |i: usize| format!("127.0.0.{i}:{port}");
        ms[0].docker_ok(&[
            "swarm",
            "init",
            "--advertise-addr",
            &listen(1),
            "--listen-addr",
            &listen(1),
        ]);
        let token = ms[0].docker_ok(&["swarm", "join-token", "-q", "manager"]);
        for (i, m) in ms.iter().enumerate().skip(1) {
            let me = listen(i + 1);
            m.join_manager(token.as_str(), &me, &listen(1));
        }
        let c = Cluster { ms };
        c.wait_healthy();
        c
    }

    /// `Raft.SnapshotInterval` and `Raft.LogEntriesForSlowFollowers` of
    /// the swarm spec (`POST /swarm/update`): small values make a manager
    /// that was down catch up from a snapshot.
    pub fn compaction(&self, interval: u64, keep: u64) {
        let m = &self.ms[0];
        let swarm = m.get_json("/swarm");
        let mut spec = swarm["Spec"].clone();
        spec["Raft"]["SnapshotInterval"] = interval.into();
        spec["Raft"]["LogEntriesForSlowFollowers"] = keep.into();
        let version = swarm["Version"]["Index"].as_u64().expect("version");
        let r = m.http(
            "POST",
            &format!("/swarm/update?version={version}"),
            Some(&spec.to_string()),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }

    /// The managers' sockets (they stay the same across restarts).
    pub fn sockets(&self) -> Vec<PathBuf> {
        self.ms.iter().map(TestDaemon::socket_path).collect()
    }

    fn pid(&self, i: usize) -> u32 {
        self.ms[i].child.as_ref().expect("manager running").id()
    }

    fn signal(&self, i: usize, sig: &str) {
        let done = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid(i).to_string())
            .status()
            .expect("kill");
        assert!(done.success(), "kill -{sig} manager {i}");
    }

    /// SIGSTOP: the manager stops answering anyone (peers, clients) while
    /// its connections stay open, as if cut off from the network.
    pub fn freeze(&self, i: usize) {
        self.signal(i, "STOP");
    }

    /// SIGCONT after [`Cluster::freeze`].
    pub fn thaw(&self, i: usize) {
        self.signal(i, "CONT");
    }

    /// SIGKILL.
    pub fn kill(&mut self, i: usize) {
        self.ms[i].kill9();
    }

    /// Starts a killed manager again over its data root.
    pub fn start(&mut self, i: usize) {
        self.ms[i].restart_from_stopped();
    }

    /// SIGTERM, wait for the exit, start again.
    pub fn restart(&mut self, i: usize) {
        self.ms[i].restart();
    }

    /// The manager the managers' records name as the leader, asking each
    /// in turn (`None` when none answers with one).
    pub fn leader(&self) -> Option<usize> {
        self.ms.iter().find_map(|m| {
            let r = common::http(&m.socket_path(), "GET", "/nodes", None).ok()?;
            let nodes: Vec<Value> = serde_json::from_str(&r.body).ok()?;
            let host = nodes
                .iter()
                .find(|n| n["ManagerStatus"]["Leader"] == Value::Bool(true))?["Description"]
                ["Hostname"]
                .as_str()?
                .to_string();
            self.ms.iter().position(|m| m.hostname == host)
        })
    }

    /// The services manager `i` holds (sorted by ID), as `GET /services`
    /// shows them; `None` when it does not answer.
    pub fn services(&self, i: usize) -> Option<Vec<Value>> {
        let r = common::http(&self.ms[i].socket_path(), "GET", "/services", None).ok()?;
        if r.status != 200 {
            return None;
        }
        let mut v: Vec<Value> = serde_json::from_str(&r.body).ok()?;
        v.sort_by(|a, b| a["ID"].as_str().cmp(&b["ID"].as_str()));
        Some(v)
    }

    /// Waits until a write goes through every manager (a leader with a
    /// quorum, followers forwarding to it): each creates and removes a
    /// probe service.
    pub fn wait_healthy(&self) {
        for (i, m) in self.ms.iter().enumerate() {
            let name = format!("probe-{}-{i}", m.hostname);
            let body = format!(
                r#"{{"Name":"{name}","TaskTemplate":{{"ContainerSpec":{{"Image":"busybox"}}}},"Mode":{{"Replicated":{{"Replicas":0}}}}}}"#
            );
            let mut id = String::new();
            wait_until(&format!("manager {i} takes a write"), T, || {
                let Ok(r) = common::http(&m.socket_path(), "POST", "/services/create", Some(&body))
                else {
                    return false;
                };
                if r.status == 201 {
                    id = serde_json::from_str::<Value>(&r.body).expect("json")["ID"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                }
                // An earlier attempt that timed out may have created it.
                r.status == 201 || r.status == 409
            });
            wait_until(&format!("manager {i} removes its probe"), T, || {
                let target = if id.is_empty() { &name } else { &id };
                common::http(
                    &m.socket_path(),
                    "DELETE",
                    &format!("/services/{target}"),
                    None,
                )
                .is_ok_and(|r| r.status == 200 || r.status == 404)
            });
        }
    }

    /// Creates service `name` (`sleep 1000`, `mode` as Engine API JSON,
    /// an optional placement constraint) through manager `i`; returns its
    /// ID.
    pub fn create(&self, i: usize, name: &str, mode: &str, constraint: Option<&str>) -> String {
        let mode: Value = serde_json::from_str(mode).expect("mode json");
        let mut body = serde_json::json!({
            "Name": name,
            "TaskTemplate": {
                "ContainerSpec": { "Image": "busybox", "Command": ["sleep", "1000"] },
            },
            "Mode": mode,
        });
        if let Some(c) = constraint {
            body["TaskTemplate"]["Placement"] = serde_json::json!({ "Constraints": [c] });
        }
        let r = self.ms[i].http("POST", "/services/create", Some(&body.to_string()));
        assert_eq!(r.status, 201, "create {name} on manager {i}: {}", r.body);
        let v: Value = serde_json::from_str(&r.body).expect("json");
        v["ID"].as_str().expect("ID").to_string()
    }

    /// How many snapshots managers installed (sent by a leader because
    /// they were too far behind for the log), from their logs.
    pub fn snapshots_installed(&self) -> usize {
        self.ms
            .iter()
            .map(|m| m.log().matches(" installed (").count())
            .sum()
    }

    /// Waits until every manager answers `GET /services` with the same
    /// list twice in a row, half a second apart; returns it.
    pub fn converged_services(&self) -> Vec<Value> {
        let mut last: Option<Vec<Value>> = None;
        let mut seen = Vec::new();
        wait_until("every manager holds the same services", T, || {
            seen = (0..self.ms.len()).map(|i| self.services(i)).collect();
            let Some(Some(first)) = seen.first() else {
                return false;
            };
            let same = seen.iter().all(|s| s.as_ref() == Some(first));
            let stable = same && last.as_ref() == Some(first);
            last = same.then(|| first.clone());
            if !stable {
                std::thread::sleep(Duration::from_millis(400));
            }
            stable
        });
        last.expect("converged")
    }
}

/// How long a recovery may take before the test gives up.
pub const T: Duration = Duration::from_secs(40);

impl Drop for Cluster {
    /// A test that fails with a manager frozen thaws it, so the daemons
    /// stop on SIGTERM.
    fn drop(&mut self) {
        for m in &self.ms {
            if let Some(c) = &m.child {
                let _ = Command::new("kill")
                    .arg("-CONT")
                    .arg(c.id().to_string())
                    .status();
            }
        }
    }
}
