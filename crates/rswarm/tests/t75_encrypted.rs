//! Encrypted overlay networks (issue 10, acceptance): two "hosts", each a
//! network namespace running an rswarm daemon (process runtime) that
//! rotates the key of encrypted networks every 3 s, on an underlay bridge
//! in a namespace of its own.
//!
//! On `secure` (`--opt encrypted`) and on `plain`, a client task on host1
//! talks to an echo task on host2 (`t75/echo.py`, `t75/talk.py`) while
//! `t75/sniff.py` captures host2's underlay port:
//! - both networks carry the traffic; `network inspect` shows the option;
//! - on `plain` the capture sees the payload and VXLAN (UDP 4789); on
//!   `secure` it sees neither, only the tunnel (UDP 4790);
//! - one TCP connection on `secure` lives through several key rotations
//!   with every line echoed;
//! - cleanup: once the services and networks are gone, neither host keeps
//!   a link, table, rule or namespace file of rswarm's.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::netlab::{Lab, T, form_swarm, leftovers, run};
use common::{TestDaemon, wait_until};
use serde_json::Value;

const ECHO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/t75/echo.py");
const TALK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/t75/talk.py");
const SNIFF: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/t75/sniff.py");

/// (PID, address on its first network) of `service`'s running task.
fn task(d: &TestDaemon, service: &str) -> (u32, String) {
    let mut found = None;
    wait_until(&format!("{service} runs"), T, || {
        let ids = d.cli_ok(&[
            "service",
            "ps",
            "-q",
            "--filter",
            "desired-state=running",
            service,
        ]);
        for id in ids.lines().filter(|l| !l.is_empty()) {
            let t: Value = serde_json::from_str(&d.cli_ok(&["inspect", id])).expect("json");
            let t = &t[0];
            if t["Status"]["State"] == "running" {
                let pid = t["Status"]["ContainerStatus"]["PID"].as_u64().unwrap_or(0);
                let addr = t["NetworksAttachments"][0]["Addresses"][0]
                    .as_str()
                    .unwrap_or_default()
                    .split('/')
                    .next()
                    .unwrap_or_default()
                    .to_string();
                found = Some((u32::try_from(pid).unwrap_or(0), addr));
                return true;
            }
        }
        false
    });
    found.expect("task")
}

/// Runs `talk.py` in task `pid`'s network namespace: (success, output).
fn talk(pid: u32, addr: &str, count: u32, interval: &str, marker: &str) -> (bool, String) {
    let o = run(Command::new("nsenter")
        .args(["-t", &pid.to_string(), "-n", "python3", TALK, addr, "7000"])
        .args([&count.to_string(), interval, marker]));
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

/// Captures host2's underlay port while `f` runs: (frames with
/// `marker`, VXLAN frames, tunnel frames).
fn captured(lab: &Lab, marker: &str, f: impl FnOnce()) -> (u64, u64, u64) {
    let stop = lab.www().join(format!("stop-{marker}"));
    std::fs::create_dir_all(lab.www()).expect("dir");
    let _ = std::fs::remove_file(&stop);
    let child = Command::new("ip")
        .args(["netns", "exec", &lab.underlay(), "python3", SNIFF, "h2"])
        .arg(&stop)
        .arg(marker)
        .stdout(Stdio::piped())
        .spawn()
        .expect("sniffer");
    std::thread::sleep(Duration::from_millis(500));
    f();
    std::fs::write(&stop, "").expect("stop");
    let out = child.wait_with_output().expect("sniffer output");
    let text = String::from_utf8_lossy(&out.stdout);
    let n: Vec<u64> = text
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    assert_eq!(n.len(), 3, "sniffer said {text:?}");
    (n[0], n[1], n[2])
}

#[test]
fn encrypted_overlay_hides_its_traffic_and_rotates_keys() {
    let lab = Lab::new("rsw75", 2);
    let nodes: Vec<TestDaemon> = (0..2)
        .map(|i| {
            TestDaemon::start_in_netns_with_args(
                &format!("host{}", i + 1),
                &lab.hosts[i],
                &["--network-key-rotation", "3s"],
            )
        })
        .collect();
    form_swarm(&lab, &nodes);
    let a = &nodes[0];
    a.cli_ok(&[
        "network",
        "create",
        "-d",
        "overlay",
        "--opt",
        "encrypted",
        "secure",
    ]);
    a.cli_ok(&["network", "create", "-d", "overlay", "plain"]);
    let opts = a.cli_ok(&[
        "network",
        "inspect",
        "--format",
        "{{json .Options}}",
        "secure",
    ]);
    assert!(opts.contains("\"encrypted\""), "{opts}");

    for net in ["secure", "plain"] {
        a.cli_ok(&[
            "service",
            "create",
            "-d",
            "--name",
            &format!("echo-{net}"),
            "--network",
            net,
            "--constraint",
            "node.hostname==host2",
            "busybox",
            "/usr/bin/python3",
            ECHO,
            "7000",
        ]);
        a.cli_ok(&[
            "service",
            "create",
            "-d",
            "--name",
            &format!("client-{net}"),
            "--network",
            net,
            "--constraint",
            "node.hostname==host1",
            "busybox",
            "/bin/busybox",
            "sleep",
            "1000",
        ]);
    }
    let (_, secure_echo) = task(a, "echo-secure");
    let (secure_client, _) = task(a, "client-secure");
    let (_, plain_echo) = task(a, "echo-plain");
    let (plain_client, _) = task(a, "client-plain");
    for (pid, addr) in [(secure_client, &secure_echo), (plain_client, &plain_echo)] {
        let mut said = String::new();
        wait_until(&format!("the echo task at {addr} answers"), T, || {
            let (ok, out) = talk(pid, addr, 1, "0", "hello");
            said = out;
            ok
        });
    }

    // The plain network: the capture sees the payload in VXLAN.
    let (seen, vxlan, _) = captured(&lab, "PLAIN-MARKER-75", || {
        let (ok, out) = talk(plain_client, &plain_echo, 20, "0", "PLAIN-MARKER-75");
        assert!(ok, "plain: {out}");
    });
    assert!(
        seen > 0 && vxlan > 0,
        "the sniffer sees plain traffic: {seen} {vxlan}"
    );

    // The encrypted one: only the tunnel, no payload, through rotations.
    let (seen, vxlan, tunnel) = captured(&lab, "SECRET-MARKER-75", || {
        let (ok, out) = talk(secure_client, &secure_echo, 80, "0.1", "SECRET-MARKER-75");
        assert!(ok, "encrypted: one connection through key rotations: {out}");
    });
    assert_eq!((seen, vxlan), (0, 0), "nothing in clear on the underlay");
    assert!(tunnel > 0, "the traffic went through the tunnel");
    let rotations = nodes[0].log().matches("key rotated").count();
    assert!(
        rotations >= 2,
        "the keys rotated during the talk: {rotations}"
    );

    // Cleanup.
    a.cli_ok(&[
        "service",
        "rm",
        "echo-secure",
        "client-secure",
        "echo-plain",
        "client-plain",
    ]);
    a.cli_ok(&["network", "rm", "secure", "plain"]);
    for (ns, d) in lab.hosts.iter().zip(&nodes) {
        let mut left = Vec::new();
        wait_until(&format!("{ns} keeps nothing of rswarm's"), T, || {
            left = leftovers(ns, d);
            let rules = run(Command::new("ip").args(["-n", ns, "rule"]));
            if String::from_utf8_lossy(&rules.stdout).contains("0x52535701") {
                left.push("policy rule".into());
            }
            left.is_empty()
        });
    }
}
