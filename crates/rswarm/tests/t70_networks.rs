//! Swarm networks through the docker CLI (issue 9, the managers' part):
//! `network create -d overlay` / `ls` / `inspect` / `rm` with Docker's
//! columns, JSON and errors; the predefined `ingress` network; services
//! attached with `--network` get a VIP per network and their tasks an
//! address each (`service inspect`, `inspect TASK`); the allocations
//! survive a manager restart.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{TestDaemon, wait_until};
use serde_json::Value;

const T: Duration = Duration::from_secs(30);

fn ok(d: &TestDaemon, args: &[&str]) -> String {
    d.cli_ok(args)
}

/// The error a refused command prints (and that it was refused).
fn refused(d: &TestDaemon, args: &[&str]) -> String {
    d.cli_err(args)
}

fn json(d: &TestDaemon, args: &[&str]) -> Value {
    serde_json::from_str(&ok(d, args)).expect("json")
}

#[test]
fn overlay_networks_with_the_docker_cli() {
    let mut d = TestDaemon::start("nets");
    d.init();

    // swarm init made `ingress`: 10.0.0.0/24, VXLAN ID 4096.
    let ls = ok(&d, &["network", "ls"]);
    let header = ls.lines().next().unwrap_or_default();
    let columns: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(
        columns,
        ["NETWORK", "ID", "NAME", "DRIVER", "SCOPE"],
        "{ls}"
    );
    assert!(
        ls.lines()
            .any(|l| l.split_whitespace().skip(1).collect::<Vec<_>>()
                == ["ingress", "overlay", "swarm"]),
        "{ls}"
    );
    let ingress = json(&d, &["network", "inspect", "ingress"]);
    assert_eq!(ingress[0]["Ingress"], true);
    assert_eq!(ingress[0]["IPAM"]["Config"][0]["Subnet"], "10.0.0.0/24");

    // A user network takes the next /24 and VXLAN ID.
    let id = ok(
        &d,
        &[
            "network",
            "create",
            "-d",
            "overlay",
            "--attachable",
            "--label",
            "tier=front",
            "front",
        ],
    );
    let id = id.trim().to_string();
    assert_eq!(id.len(), 25, "{id}");
    let front = json(&d, &["network", "inspect", "front"]);
    let f = &front[0];
    assert_eq!(f["Id"], id.as_str());
    assert_eq!(
        (f["Driver"].as_str(), f["Scope"].as_str()),
        (Some("overlay"), Some("swarm"))
    );
    assert_eq!(f["Attachable"], true);
    assert_eq!(f["Labels"]["tier"], "front");
    assert_eq!(f["IPAM"]["Config"][0]["Subnet"], "10.0.1.0/24");
    assert_eq!(f["IPAM"]["Config"][0]["Gateway"], "10.0.1.1");
    assert_eq!(
        f["Options"]["com.docker.network.driver.overlay.vxlanid_list"],
        "4097"
    );
    // Given pools, and `--internal`.
    ok(
        &d,
        &[
            "network",
            "create",
            "-d",
            "overlay",
            "--internal",
            "--subnet",
            "10.20.0.0/16",
            "--gateway",
            "10.20.0.254",
            "back",
        ],
    );
    let back = json(
        &d,
        &["network", "inspect", "--format", "{{json .}}", "back"],
    );
    assert_eq!(back["Internal"], true);
    assert_eq!(back["IPAM"]["Config"][0]["Gateway"], "10.20.0.254");

    // Filters, as `docker network ls` sends them.
    let names = ok(
        &d,
        &[
            "network",
            "ls",
            "--filter",
            "label=tier=front",
            "--format",
            "{{.Name}}",
        ],
    );
    assert_eq!(names.trim(), "front");

    // Bad input: nothing is created.
    let before = ok(&d, &["network", "ls", "-q"]);
    for (args, words) in [
        (
            vec![
                "network",
                "create",
                "-d",
                "overlay",
                "--subnet",
                "10.0.1.0/25",
                "x1",
            ],
            "Pool overlaps with other one on this address space",
        ),
        (
            vec![
                "network", "create", "-d", "overlay", "--subnet", "nope", "x2",
            ],
            "ipam configuration: invalid subnet nope",
        ),
        (
            vec![
                "network",
                "create",
                "-d",
                "overlay",
                "--subnet",
                "10.30.0.0/24",
                "--gateway",
                "10.31.0.1",
                "x3",
            ],
            "no matching subnet for gateway 10.31.0.1",
        ),
        (
            vec!["network", "create", "-d", "overlay", "front"],
            "network with name front already exists",
        ),
        (
            vec!["network", "create", "-d", "overlay", "host"],
            "pre-defined network",
        ),
        (
            vec!["network", "create", "lonely"],
            "rswarm has no local networks",
        ),
    ] {
        let err = refused(&d, &args);
        assert!(err.contains(words), "{args:?}: {err}");
    }
    assert_eq!(ok(&d, &["network", "ls", "-q"]), before);

    // A service on two networks: a VIP on each, an address per task.
    let svc = ok(
        &d,
        &[
            "service",
            "create",
            "-d",
            "-q",
            "--name",
            "web",
            "--replicas",
            "2",
            "--network",
            "front",
            "--network",
            "back",
            "busybox",
            "sleep",
            "1000",
        ],
    );
    let svc = svc.trim().to_string();
    let s = json(&d, &["service", "inspect", "web"]);
    let vips = s[0]["Endpoint"]["VirtualIPs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let vip_addrs: BTreeSet<&str> = vips.iter().filter_map(|v| v["Addr"].as_str()).collect();
    assert_eq!(
        vip_addrs,
        BTreeSet::from(["10.0.1.2/24", "10.20.0.1/16"]),
        "{vips:?}"
    );
    let targets: Vec<&str> = s[0]["Spec"]["TaskTemplate"]["Networks"]
        .as_array()
        .map(|a| a.iter().filter_map(|n| n["Target"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        targets.contains(&id.as_str()),
        "names become IDs: {targets:?}"
    );
    wait_until("both tasks running", T, || {
        ok(
            &d,
            &[
                "service",
                "ps",
                "-q",
                "--filter",
                "desired-state=running",
                "web",
            ],
        )
        .lines()
        .count()
            == 2
    });
    let mut task_addrs = BTreeSet::new();
    for task in ok(&d, &["service", "ps", "-q", "web"]).lines() {
        let t = json(&d, &["inspect", task]);
        let attachments = t[0]["NetworksAttachments"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(attachments.len(), 2, "{attachments:?}");
        for a in attachments {
            let addr = a["Addresses"][0].as_str().unwrap_or_default().to_string();
            assert!(!vip_addrs.contains(addr.as_str()), "{addr} is a VIP");
            assert!(task_addrs.insert(addr.clone()), "{addr} given twice");
            assert_eq!(a["Network"]["Spec"]["Scope"], "swarm");
        }
    }
    assert_eq!(task_addrs.len(), 4, "{task_addrs:?}");

    // A network in use stays.
    let err = refused(&d, &["network", "rm", "front"]);
    assert!(
        err.contains(&format!("network {id} is in use by service {svc}")),
        "{err}"
    );
    let err = refused(
        &d,
        &[
            "service",
            "create",
            "-d",
            "--name",
            "x",
            "--network",
            "nosuch",
            "busybox",
        ],
    );
    assert!(err.contains("network nosuch not found"), "{err}");

    // Allocations survive a restart of the manager.
    d.restart();
    let again = json(&d, &["service", "inspect", "web"]);
    assert_eq!(
        again[0]["Endpoint"]["VirtualIPs"],
        s[0]["Endpoint"]["VirtualIPs"]
    );
    assert_eq!(
        json(&d, &["network", "inspect", "front"])[0]["Id"],
        id.as_str()
    );

    // --network-rm / --network-add: the VIP and the tasks' attachments
    // on that network go, then come back.
    let networks_of = |d: &TestDaemon| -> (BTreeSet<String>, Vec<usize>) {
        let s = json(d, &["service", "inspect", "web"]);
        let vips = s[0]["Endpoint"]["VirtualIPs"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|v| v["NetworkID"].as_str().map(str::to_string))
            .collect();
        let running = ok(
            d,
            &[
                "service",
                "ps",
                "-q",
                "--filter",
                "desired-state=running",
                "web",
            ],
        );
        let attachments = running
            .lines()
            .map(|task| {
                json(d, &["inspect", task])[0]["NetworksAttachments"]
                    .as_array()
                    .map_or(0, |a| a.len())
            })
            .collect();
        (vips, attachments)
    };
    let back_id = json(&d, &["network", "inspect", "back"])[0]["Id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    ok(
        &d,
        &["service", "update", "-d", "--network-rm", "back", "web"],
    );
    wait_until("web leaves back", T, || {
        networks_of(&d) == (BTreeSet::from([id.clone()]), vec![1, 1])
    });
    ok(
        &d,
        &["service", "update", "-d", "--network-add", "back", "web"],
    );
    wait_until("web joins back again", T, || {
        networks_of(&d) == (BTreeSet::from([id.clone(), back_id.clone()]), vec![2, 2])
    });

    // Once the service is gone, the networks go too.
    ok(&d, &["service", "rm", "web"]);
    let removed = ok(&d, &["network", "rm", "front", "back"]);
    assert_eq!(removed.lines().collect::<Vec<_>>(), ["front", "back"]);
    let err = refused(&d, &["network", "inspect", "front"]);
    assert!(err.contains("front"), "{err}");
}
