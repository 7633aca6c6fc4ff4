//! Host-mode published ports (`--publish mode=host,...`), as Docker shows
//! and schedules them: `service inspect` lists them in `Endpoint.Ports`,
//! a running task reports them (`service ps` PORTS, `PortStatus`), and a
//! node publishes a host port once: a second service asking for it on a
//! one-node swarm stays pending, in Swarm's words.

mod common;

use std::time::Duration;

use common::{TestDaemon, free_port, wait_until};

const T: Duration = Duration::from_secs(30);

fn ok(d: &TestDaemon, args: &[&str]) -> String {
    d.cli_ok(args)
}

#[test]
fn host_ports_are_shown_and_published_once_per_node() {
    let d = TestDaemon::start("hostports");
    d.init();
    let port = free_port().to_string();
    let publish = format!("mode=host,published={port},target=80");
    ok(
        &d,
        &[
            "service",
            "create",
            "-d",
            "--name",
            "hp",
            "--publish",
            &publish,
            "busybox",
            "sleep",
            "1000",
        ],
    );
    let ports = ok(
        &d,
        &[
            "service",
            "inspect",
            "--format",
            "{{json .Endpoint.Ports}}",
            "hp",
        ],
    );
    let ports: serde_json::Value = serde_json::from_str(&ports).expect("json");
    assert_eq!(ports[0]["PublishMode"], "host");
    assert_eq!(ports[0]["PublishedPort"].to_string(), port);
    // `service ls` lists ingress ports only, as Docker's does.
    let ls = ok(&d, &["service", "ls", "--format", "{{.Name}}|{{.Ports}}"]);
    assert_eq!(ls.trim(), "hp|");

    let expected = format!("*:{port}->80/tcp");
    wait_until("the running task shows its host port", T, || {
        ok(
            &d,
            &[
                "service",
                "ps",
                "--format",
                "{{.CurrentState}}|{{.Ports}}",
                "hp",
            ],
        )
        .lines()
        .any(|l| l.starts_with("Running") && l.ends_with(&expected))
    });

    // The port is taken on the only node: the next service waits.
    ok(
        &d,
        &[
            "service",
            "create",
            "-d",
            "--name",
            "hp2",
            "--publish",
            &publish,
            "busybox",
            "sleep",
            "1000",
        ],
    );
    wait_until("hp2 is pending, saying why", T, || {
        let ps = ok(
            &d,
            &[
                "service",
                "ps",
                "--no-trunc",
                "--format",
                "{{.CurrentState}}|{{.Error}}",
                "hp2",
            ],
        );
        ps.lines().any(|l| {
            l.starts_with("Pending")
                && l.contains("no suitable node (host-mode port already in use on 1 node)")
        })
    });
    // Freed, it goes to the node.
    ok(&d, &["service", "rm", "hp"]);
    wait_until("hp2 runs once hp is gone", T, || {
        ok(
            &d,
            &["service", "ps", "--format", "{{.CurrentState}}", "hp2"],
        )
        .lines()
        .any(|l| l.starts_with("Running"))
    });
}
