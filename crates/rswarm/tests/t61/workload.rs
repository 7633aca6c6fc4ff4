//! Clients writing services through every manager's Engine API while
//! faults happen, recording each write and its answer.
//!
//! Each create names a new service and labels it with its operation ID
//! (`fault.op`). Each update reads a service, appends its own operation
//! ID to the `fault.history` label, sets `fault.counter` to the history's
//! length and writes it back at the version it read; so the final
//! history says exactly which updates were applied, in which order, and
//! how often. Removes take the service out of the clients' pool.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common;

/// Labels the workload writes.
pub const OP_LABEL: &str = "fault.op";
pub const HISTORY_LABEL: &str = "fault.history";
pub const COUNTER_LABEL: &str = "fault.counter";

/// What an operation asked for.
#[derive(Clone, Debug)]
pub enum Kind {
    /// Create a service with this name.
    Create { name: String },
    /// Update the service (at the version its manager showed).
    Update { service: String },
    /// Remove the service.
    Remove { service: String },
}

/// One write and what became of it.
#[derive(Clone, Debug)]
pub struct Op {
    /// Unique across the run (`c<client>-<n>`).
    pub id: String,
    /// The manager it was sent to.
    pub manager: usize,
    pub kind: Kind,
    /// HTTP status; 0 when no answer came (connection refused or cut).
    pub status: u16,
    /// The error message, or the created service's ID.
    pub answer: String,
    /// Since the start of the run.
    pub start: Duration,
    pub end: Duration,
}

impl Op {
    /// Acknowledged: the API said it was done.
    pub fn acked(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A small deterministic generator (xorshift64*), seeded per client.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// Shared by the clients: services known to exist (acknowledged creates
/// not yet removed).
type Pool = Arc<Mutex<Vec<String>>>;

struct Client {
    n: usize,
    manager: usize,
    sock: PathBuf,
    pool: Pool,
    rng: Rng,
    t0: Instant,
    seq: usize,
    ops: Vec<Op>,
}

fn create_body(name: &str, op: &str) -> String {
    json!({
        "Name": name,
        "Labels": { OP_LABEL: op, HISTORY_LABEL: "", COUNTER_LABEL: "0" },
        "TaskTemplate": { "ContainerSpec": { "Image": "busybox", "Command": ["sleep", "1000"] } },
        "Mode": { "Replicated": { "Replicas": 0 } }
    })
    .to_string()
}

/// `GET /services/{id}`: its version and spec.
fn read(sock: &Path, id: &str) -> Option<(u64, Value)> {
    let r = common::http(sock, "GET", &format!("/services/{id}"), None).ok()?;
    if r.status != 200 {
        return None;
    }
    let v: Value = serde_json::from_str(&r.body).ok()?;
    Some((v["Version"]["Index"].as_u64()?, v["Spec"].clone()))
}

impl Client {
    fn next_id(&mut self) -> String {
        self.seq += 1;
        format!("c{}-{}", self.n, self.seq)
    }

    fn send(&mut self, id: String, kind: Kind, method: &str, path: &str, body: Option<&str>) {
        let start = self.t0.elapsed();
        let answer = common::http(&self.sock, method, path, body);
        let end = self.t0.elapsed();
        let (status, answer) = match answer {
            Ok(r) if r.status == 201 => {
                let v: Value = serde_json::from_str(&r.body).unwrap_or_default();
                (r.status, v["ID"].as_str().unwrap_or_default().to_string())
            }
            Ok(r) => (r.status, r.message()),
            Err(e) => (0, e.to_string()),
        };
        if status == 0 || status == 503 {
            // The manager is down, or no leader answers: do not spin.
            std::thread::sleep(Duration::from_millis(if status == 0 { 50 } else { 20 }));
        }
        self.ops.push(Op {
            id,
            manager: self.manager,
            kind,
            status,
            answer,
            start,
            end,
        });
    }

    fn create(&mut self) {
        let id = self.next_id();
        let name = format!("f-{id}");
        let body = create_body(&name, &id);
        self.send(
            id,
            Kind::Create { name },
            "POST",
            "/services/create",
            Some(&body),
        );
        let last = self.ops.last().expect("just sent");
        if last.status == 201 {
            let created = last.answer.clone();
            self.pool.lock().expect("pool").push(created);
        }
    }

    fn pick(&mut self, take: bool) -> Option<String> {
        let mut pool = self.pool.lock().expect("pool");
        if pool.is_empty() {
            return None;
        }
        let i = usize::try_from(self.rng.below(pool.len() as u64)).unwrap_or(0);
        Some(if take {
            pool.swap_remove(i)
        } else {
            pool[i].clone()
        })
    }

    fn update(&mut self) {
        let Some(service) = self.pick(false) else {
            return self.create();
        };
        let Some((version, mut spec)) = read(&self.sock, &service) else {
            // Not there yet on this manager, gone, or the manager is down.
            std::thread::sleep(Duration::from_millis(20));
            return;
        };
        let id = self.next_id();
        let labels = &mut spec["Labels"];
        let history = labels[HISTORY_LABEL].as_str().unwrap_or_default();
        let history = if history.is_empty() {
            id.clone()
        } else {
            format!("{history},{id}")
        };
        let count = history.split(',').count();
        labels[HISTORY_LABEL] = Value::String(history);
        labels[COUNTER_LABEL] = Value::String(count.to_string());
        let body = spec.to_string();
        let path = format!("/services/{service}/update?version={version}");
        self.send(id, Kind::Update { service }, "POST", &path, Some(&body));
    }

    fn remove(&mut self) {
        let Some(service) = self.pick(true) else {
            return;
        };
        let id = self.next_id();
        let path = format!("/services/{service}");
        self.send(id, Kind::Remove { service }, "DELETE", &path, None);
    }

    fn run(mut self, stop: &AtomicBool) -> Vec<Op> {
        while !stop.load(Ordering::Relaxed) {
            match self.rng.below(20) {
                0..=4 => self.create(),
                5 => self.remove(),
                _ => self.update(),
            }
        }
        self.ops
    }
}

/// Clients running until stopped; [`Clients::stop`] returns every
/// operation they sent.
pub struct Clients {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<Vec<Op>>>,
}

impl Clients {
    /// `per_manager` client threads for each socket; `seed` varies the
    /// choice of operations.
    pub fn start(sockets: &[PathBuf], per_manager: usize, seed: u64) -> Clients {
        let stop = Arc::new(AtomicBool::new(false));
        let pool: Pool = Arc::default();
        let t0 = Instant::now();
        let mut threads = Vec::new();
        for n in 0..sockets.len() * per_manager {
            let manager = n % sockets.len();
            let client = Client {
                n,
                manager,
                sock: sockets[manager].clone(),
                pool: pool.clone(),
                rng: Rng(seed ^ (0x9E37_79B9_7F4A_7C15u64.wrapping_mul(n as u64 + 1)) | 1),
                t0,
                seq: 0,
                ops: Vec::new(),
            };
            let stop = stop.clone();
            threads.push(std::thread::spawn(move || client.run(&stop)));
        }
        Clients { stop, threads }
    }

    /// Stops the clients once their current requests end.
    pub fn stop(self) -> Vec<Op> {
        self.stop.store(true, Ordering::Relaxed);
        self.threads
            .into_iter()
            .flat_map(|t| t.join().expect("client thread"))
            .collect()
    }
}
