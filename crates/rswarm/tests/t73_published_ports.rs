//! Ports published in ingress mode (`-p 8080:80`), as the managers
//! allocate them and Docker shows them: `service ls` PORTS and `service
//! inspect` `Endpoint.Ports`, a dynamic port from 30000-32767 when none
//! is given, kept across updates, a port another service publishes refused
//! in swarmkit's words with nothing changed, bad ports refused naming what
//! is wrong, `--publish-rm` / `--publish-add`, UDP.
//!
//! These check the API and the CLIs' view only: whether the ports answer
//! is the routing mesh's business (its own tests).

mod common;

use common::{TestDaemon, free_port};
use serde_json::Value;

fn ports(d: &TestDaemon, field: &str, service: &str) -> Value {
    let out = d.cli_ok(&[
        "service",
        "inspect",
        "--format",
        &format!("{{{{json {field}}}}}"),
        service,
    ]);
    serde_json::from_str(&out).expect("json")
}

fn ls(d: &TestDaemon) -> Vec<String> {
    let mut lines: Vec<String> = d
        .cli_ok(&["service", "ls", "--format", "{{.Name}}|{{.Ports}}"])
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

fn port(published: u64, target: u64, protocol: &str) -> Value {
    serde_json::json!({
        "Protocol": protocol,
        "TargetPort": target,
        "PublishedPort": published,
        "PublishMode": "ingress",
    })
}

fn create(d: &TestDaemon, name: &str, publish: &[&str]) -> (bool, String) {
    let mut args = vec!["service", "create", "-d", "--name", name];
    for p in publish {
        args.extend(["--publish", p]);
    }
    args.extend(["busybox", "sleep", "1000"]);
    let (ok, _, err) = d.cli(&args);
    (ok, err)
}

fn version(d: &TestDaemon, name: &str) -> u64 {
    d.get_json(&format!("/services/{name}"))["Version"]["Index"]
        .as_u64()
        .expect("version")
}

#[test]
fn ingress_ports_are_allocated_shown_and_refused_when_taken() {
    let d = TestDaemon::start("ports");
    d.init();
    let p = u64::from(free_port());
    let (created, err) = create(&d, "web", &[&format!("{p}:80")]);
    assert!(created, "{err}");
    assert_eq!(
        ports(&d, ".Endpoint.Ports", "web"),
        Value::from(vec![port(p, 80, "tcp")])
    );
    assert_eq!(
        ports(&d, ".Spec.EndpointSpec.Ports", "web"),
        Value::from(vec![port(p, 80, "tcp")])
    );
    assert_eq!(
        ports(&d, ".Endpoint.Spec.Ports", "web"),
        Value::from(vec![port(p, 80, "tcp")])
    );
    assert_eq!(ls(&d), vec![format!("web|*:{p}->80/tcp")]);
    let ours = d.ok(&["service", "ls", "--format", "{{.Name}}|{{.Ports}}"]);
    assert_eq!(ours.trim(), format!("web|*:{p}->80/tcp"));

    // No published port: one from swarmkit's dynamic range; the spec
    // keeps asking for none (moby omits a zero `PublishedPort`).
    let (created, err) = create(&d, "dyn", &["target=80"]);
    assert!(created, "{err}");
    let dynamic = ports(&d, ".Endpoint.Ports", "dyn")[0]["PublishedPort"]
        .as_u64()
        .expect("published");
    assert!((30000..=32767).contains(&dynamic), "{dynamic}");
    assert_eq!(
        ports(&d, ".Spec.EndpointSpec.Ports", "dyn")[0]["PublishedPort"],
        Value::Null
    );

    // Taken by another service: refused in swarmkit's words, nothing created.
    let web_id = d.cli_ok(&["service", "inspect", "--format", "{{.ID}}", "web"]);
    let (created, err) = create(&d, "web2", &[&format!("{p}:81")]);
    assert!(!created);
    assert!(
        err.contains(&format!(
            "rpc error: code = InvalidArgument desc = port '{p}' is already in use by service 'web' ({}) as an ingress port",
            web_id.trim()
        )),
        "{err}"
    );
    let body = serde_json::json!({
        "Name": "web3",
        "TaskTemplate": {"ContainerSpec": {"Image": "busybox", "Args": ["sleep", "1000"]}},
        "EndpointSpec": {"Ports": [{"TargetPort": 80, "PublishedPort": p}]},
    })
    .to_string();
    let r = d.http("POST", "/v1.51/services/create", Some(&body));
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.message().contains("as an ingress port"), "{}", r.body);
    // An update asking for it changes nothing either.
    let before = version(&d, "dyn");
    let (ok, _, err) = d.cli(&[
        "service",
        "update",
        "-d",
        "--publish-add",
        &format!("{p}:80"),
        "dyn",
    ]);
    assert!(!ok);
    assert!(err.contains("as an ingress port"), "{err}");
    assert_eq!(
        version(&d, "dyn"),
        before,
        "the refused update changed nothing"
    );
    assert_eq!(
        ls(&d),
        vec![
            format!("dyn|*:{dynamic}->80/tcp"),
            format!("web|*:{p}->80/tcp")
        ]
    );

    // `--publish-rm` frees the port; `--publish-add` takes it, and the
    // dynamic port stays where it was.
    d.cli_ok(&["service", "update", "-d", "--publish-rm", "80", "web"]);
    assert_eq!(ports(&d, ".Endpoint.Ports", "web"), Value::Null);
    d.cli_ok(&[
        "service",
        "update",
        "-d",
        "--publish-add",
        &format!("{p}:81"),
        "dyn",
    ]);
    let mut got: Vec<Value> = ports(&d, ".Endpoint.Ports", "dyn")
        .as_array()
        .expect("ports")
        .clone();
    got.sort_by_key(|v| v["TargetPort"].as_u64());
    assert_eq!(got, vec![port(dynamic, 80, "tcp"), port(p, 81, "tcp")]);
    // PORTS lists them by published port.
    let mut column = [(dynamic, 80), (p, 81)];
    column.sort();
    let column: Vec<String> = column
        .iter()
        .map(|(published, target)| format!("*:{published}->{target}/tcp"))
        .collect();
    assert_eq!(
        ls(&d),
        vec![format!("dyn|{}", column.join(", ")), "web|".to_string()]
    );
}

#[test]
fn udp_ports_and_bad_ports() {
    let d = TestDaemon::start("ports-bad");
    d.init();
    let p = u64::from(free_port());
    let (created, err) = create(&d, "dns", &[&format!("{p}:53/udp")]);
    assert!(created, "{err}");
    assert_eq!(
        ports(&d, ".Endpoint.Ports", "dns"),
        Value::from(vec![port(p, 53, "udp")])
    );
    // The same number over TCP is another port.
    let (created, err) = create(&d, "dns-tcp", &[&format!("{p}:53")]);
    assert!(created, "{err}");
    assert_eq!(
        ls(&d),
        vec![
            format!("dns-tcp|*:{p}->53/tcp"),
            format!("dns|*:{p}->53/udp")
        ]
    );

    let count = || d.get_json("/services").as_array().expect("list").len();
    // Bad ports, through the docker CLI (which may refuse some itself) and
    // through the API: clear errors, nothing created.
    for (publish, says) in [
        (format!("published={p},target=0"), "target"),
        ("70000:80".to_string(), "70000"),
        (format!("{p}:80/xyz"), "xyz"),
    ] {
        let (created, err) = create(&d, "bad", &[&publish]);
        assert!(!created, "{publish}");
        assert!(err.contains(says), "{publish}: {err}");
    }
    for (port, says) in [
        (
            serde_json::json!({"TargetPort": 0, "PublishedPort": 8080}),
            "invalid target port 0: must be between 1 and 65535",
        ),
        (
            serde_json::json!({"TargetPort": 80, "PublishedPort": 70000}),
            "invalid published port 70000 for target port 80",
        ),
        (
            serde_json::json!({"TargetPort": 70000}),
            "invalid target port 70000: must be between 1 and 65535",
        ),
        (
            serde_json::json!({"TargetPort": 80, "Protocol": "xyz"}),
            "xyz",
        ),
        (
            serde_json::json!({"TargetPort": 80, "PublishMode": "bridge"}),
            "bridge",
        ),
    ] {
        let body = serde_json::json!({
            "Name": "bad",
            "TaskTemplate": {"ContainerSpec": {"Image": "busybox", "Args": ["sleep", "1000"]}},
            "EndpointSpec": {"Ports": [port]},
        })
        .to_string();
        let r = d.http("POST", "/v1.51/services/create", Some(&body));
        assert_eq!(r.status, 400, "{port}: {}", r.body);
        assert!(r.message().contains(says), "{port}: {}", r.body);
    }
    let body = serde_json::json!({
        "Name": "bad",
        "TaskTemplate": {"ContainerSpec": {"Image": "busybox", "Args": ["sleep", "1000"]}},
        "EndpointSpec": {"Ports": [
            {"TargetPort": 80, "PublishedPort": 8080},
            {"TargetPort": 81, "PublishedPort": 8080},
        ]},
    })
    .to_string();
    let r = d.http("POST", "/v1.51/services/create", Some(&body));
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.message()
            .contains("EndpointSpec: duplicate published ports provided"),
        "{}",
        r.body
    );
    assert_eq!(count(), 2, "no bad request created a service");
}
