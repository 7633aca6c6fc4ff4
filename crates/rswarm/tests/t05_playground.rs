//! `rswarm playground` (the README's first command) brings up a local
//! swarm with a service, and cleans up everything it started.

mod common;

use std::process::Command;

#[test]
fn playground_runs_a_three_node_swarm_and_cleans_up() {
    let out = Command::new(common::rswarm_bin())
        .args([
            "playground",
            "--no-wait",
            "--workers",
            "2",
            "--replicas",
            "3",
        ])
        .output()
        .expect("run playground");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for host in ["manager1", "worker1", "worker2"] {
        assert!(
            text.lines()
                .any(|l| l.contains(host) && l.contains("Ready")),
            "{host} Ready in:\n{text}"
        );
    }
    assert!(text.contains("3/3"), "{text}");
    assert!(text.contains("docker -H unix://"), "{text}");
    let sock = text
        .split_whitespace()
        .find_map(|w| w.strip_prefix("unix://"))
        .expect("socket path printed");
    let dir = std::path::Path::new(sock)
        .parent()
        .and_then(|p| p.parent())
        .expect("playground dir");
    assert!(!dir.exists(), "{} removed", dir.display());
    let service_id = text
        .lines()
        .skip_while(|l| !l.starts_with("$ rswarm service create"))
        .nth(1)
        .map(str::trim)
        .expect("service id line");
    assert_eq!(service_id.len(), 25, "{service_id}");
    assert!(
        common::service_pids(service_id).is_empty(),
        "no task process left behind"
    );
}
