//! `rswarm playground` (the README's first command) brings up a local
//! swarm with a service, and the seeds' first demo (a web service whose
//! published port answers on every node's address), runs it until Ctrl-C,
//! and cleans up everything it started.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::wait_until;

/// The playground process; interrupted, then killed, if the test ends
/// early.
struct Playground(Child);

impl Drop for Playground {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = Command::new("kill")
                .args(["-INT", &self.0.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(40);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.0.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// The columns of the row of `$ rswarm <command>`'s table that has a
/// column equal to `needle`.
fn table_row(text: &str, command: &str, needle: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| !l.starts_with(&format!("$ rswarm {command}")))
        .skip(1)
        .take_while(|l| !l.starts_with("$ "))
        .find(|l| l.split_whitespace().any(|w| w == needle))
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

#[test]
fn playground_runs_a_three_node_swarm_until_interrupted_and_cleans_up() {
    let mut child = Command::new(common::rswarm_bin())
        .args(["playground", "--workers", "2", "--replicas", "3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run playground");
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    let mut pg = Playground(child);
    let text = Arc::new(Mutex::new(String::new()));
    let reader = {
        let text = text.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let mut t = text.lock().expect("lock");
                t.push_str(&line);
                t.push('\n');
            }
        })
    };
    let errors = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let out = || text.lock().expect("lock").clone();
    wait_until("the playground is up", Duration::from_secs(120), || {
        assert!(
            !matches!(pg.0.try_wait(), Ok(Some(_))),
            "the playground exited early:\n{}",
            out()
        );
        out().contains("The playground runs until Ctrl-C.")
    });
    let text = out();

    for host in ["manager1", "worker1", "worker2"] {
        let row = table_row(&text, "node ls", host);
        assert!(
            row.iter().any(|c| c == "Ready") && row.iter().any(|c| c == "Active"),
            "{host} Ready and Active in:\n{text}"
        );
    }
    // The seeds' first demo (each node in a namespace of its own): the web
    // service's published port answers on every node's address.
    for i in 1..=3 {
        let asked = format!("$ curl http://198.18.0.{i}:8080/\nhello from the rswarm playground");
        assert!(text.contains(&asked), "{asked:?} in:\n{text}");
    }
    // The REPLICAS column of `service ls` (ID NAME MODE REPLICAS IMAGE).
    let row = table_row(&text, "service ls", "hello");
    assert_eq!(
        row.get(3).map(String::as_str),
        Some("3/3"),
        "service ls row {row:?} in:\n{text}"
    );
    assert!(text.contains("docker -H unix://"), "{text}");
    let sock = text
        .split_whitespace()
        .find_map(|w| w.strip_prefix("unix://"))
        .expect("socket path printed")
        .to_string();
    let dir = std::path::Path::new(&sock)
        .parent()
        .and_then(|p| p.parent())
        .expect("playground dir")
        .to_path_buf();
    assert!(dir.is_dir(), "{} exists while running", dir.display());
    let service_id = text
        .lines()
        .skip_while(|l| !l.starts_with("$ rswarm service create"))
        .find(|l| l.trim().len() == 25 && l.trim().chars().all(|c| c.is_ascii_alphanumeric()))
        .map(|l| l.trim().to_string())
        .expect("service id line");
    // The three task processes run, and can be found.
    wait_until("3 task processes", Duration::from_secs(30), || {
        common::service_pids(&service_id).len() == 3
    });

    // Ctrl-C: everything stops and goes.
    let pid = pg.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let mut status = None;
    wait_until(
        "the playground exits after Ctrl-C",
        Duration::from_secs(60),
        || {
            status = pg.0.try_wait().expect("try_wait");
            status.is_some()
        },
    );
    reader.join().expect("reader");
    let err = errors.join().expect("stderr reader");
    assert!(
        status.is_some_and(|s| s.success()),
        "{status:?}\n{}\n{err}",
        out()
    );
    assert!(out().contains("Stopping the playground..."), "{}", out());
    assert!(!dir.exists(), "{} removed", dir.display());
    let netns = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns");
    let prefix = format!("rswpg-{pid}-");
    assert!(
        !String::from_utf8_lossy(&netns.stdout).contains(&prefix),
        "the playground's namespaces are gone"
    );
    assert!(
        common::service_pids(&service_id).is_empty(),
        "no task process left behind"
    );
}
