//! Bad requests get Docker's status code and a message naming the
//! problem, and change nothing.

mod common;

use common::TestDaemon;

const SPEC: &str = r#"{"Name":"web","TaskTemplate":{"ContainerSpec":{"Image":"busybox","Args":["sleep","1000"]}},"Mode":{"Replicated":{"Replicas":1}}}"#;

fn service_count(d: &TestDaemon) -> usize {
    d.get_json("/services")
        .as_array()
        .map(Vec::len)
        .unwrap_or(0)
}

#[test]
fn bad_input_is_refused_with_docker_codes_and_changes_nothing() {
    let d = TestDaemon::start("node-bad");

    let r = d.http("GET", "/v1.51/services", None);
    assert_eq!(r.status, 503, "not in a swarm yet: {}", r.body);
    assert!(r.message().contains("not a swarm manager"), "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/json"));

    let init = format!(
        r#"{{"ListenAddr":"127.0.0.1:{}","AdvertiseAddr":"127.0.0.1"}}"#,
        common::free_port()
    );
    let r = d.http("POST", "/v1.51/swarm/init", Some(&init));
    assert_eq!(r.status, 200, "{}", r.body);
    let r = d.http("POST", "/v1.51/services/create", Some(SPEC));
    assert_eq!(r.status, 201, "{}", r.body);
    let svc = d.get_json("/services/web");
    let version = svc["Version"]["Index"].as_u64().expect("version");

    let stale_path = format!("/v1.51/services/web/update?version={}", version + 7);
    let cases: Vec<(&str, &str, String, u16, &str)> = vec![
        ("POST", "/v1.51/services/create", "{\"Name\": \"x\", ".into(), 400, "JSON"),
        (
            "POST",
            "/v1.51/services/create",
            r#"{"Name":"m","TaskTemplate":{"ContainerSpec":{"Image":"busybox","Args":["true"]}},"Mode":{"Global":{},"Replicated":{}}}"#.into(),
            400,
            "cannot specify both replicated mode and global mode",
        ),
        (
            "POST",
            "/v1.51/services/create",
            r#"{"Name":"n","TaskTemplate":{"ContainerSpec":{"Image":"busybox","Args":["true"]}},"Mode":{"Replicated":{"Replicas":-2}}}"#.into(),
            400,
            "Replicas",
        ),
        (
            "POST",
            "/v1.51/services/create",
            r#"{"Name":"c","TaskTemplate":{"ContainerSpec":{"Image":"busybox","Args":["true"]},"Placement":{"Constraints":["node.role=manager"]}},"Mode":{"Replicated":{}}}"#.into(),
            400,
            "constraint",
        ),
        ("POST", "/v1.51/services/create", SPEC.replace("\"web\"", "\"WEB\""), 409, "already exists"),
        ("POST", &stale_path, SPEC.into(), 500, "update out of sequence"),
        ("POST", "/v1.51/services/web/update?version=abc", SPEC.into(), 400, "version"),
        ("GET", "/v1.51/nodes/nosuchnode", String::new(), 404, "node nosuchnode not found"),
        ("POST", "/v1.51/nodes/nosuchnode/update?version=1", "{}".into(), 404, "node nosuchnode not found"),
        ("GET", "/v1.51/services/nosuchservice", String::new(), 404, "service nosuchservice not found"),
        ("GET", "/v1.51/tasks?filters=%7B%22bogus%22%3A%7B%22x%22%3Atrue%7D%7D", String::new(), 400, "Invalid filter 'bogus'"),
        ("GET", "/v1.99/services", String::new(), 400, "too new"),
        ("POST", "/v1.51/containers/create", "{}".into(), 501, "does not manage local containers"),
        ("GET", "/v1.51/containers/nosuch/json", String::new(), 404, "No such container: nosuch"),
    ];
    for (method, path, body, status, needle) in cases {
        let r = d.http(
            method,
            path,
            if body.is_empty() { None } else { Some(&body) },
        );
        assert_eq!(r.status, status, "{method} {path} {body}: {}", r.body);
        assert_eq!(
            r.header("content-type"),
            Some("application/json"),
            "{method} {path}"
        );
        assert!(
            r.message().contains(needle),
            "{method} {path}: message {:?} should mention {needle:?}",
            r.message()
        );
    }

    assert_eq!(service_count(&d), 1, "no bad request created a service");
    let after = d.get_json("/services/web");
    assert_eq!(
        after["Version"]["Index"].as_u64(),
        Some(version),
        "the service was not changed"
    );
    assert_eq!(after["Spec"]["Mode"]["Replicated"]["Replicas"], 1);

    let r = d.http("POST", "/v1.51/swarm/init", Some(&init));
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.message().contains("already part of a swarm"));
}

#[test]
fn features_not_built_yet_are_refused_clearly() {
    let d = TestDaemon::start("node-todo");
    d.init();
    // A host-mode published port is accepted; with the process runtime the
    // task binds it itself, and it answers there.
    let port = common::free_port();
    let publish = format!("mode=host,published={port},target=80");
    let listen = port.to_string();
    let hello = format!("hostport-{port}");
    d.ok(&[
        "service",
        "create",
        "-d",
        "--name",
        "hostport",
        "--publish",
        &publish,
        "busybox",
        "busybox",
        "nc",
        "-ll",
        "-p",
        &listen,
        "-e",
        "busybox",
        "echo",
        &hello,
    ]);
    let ports = d.ok(&[
        "service",
        "inspect",
        "--format",
        "{{range .Endpoint.Spec.Ports}}{{.PublishMode}} {{.PublishedPort}}->{{.TargetPort}}/{{.Protocol}}{{end}}",
        "hostport",
    ]);
    assert_eq!(ports.trim(), format!("host {port}->80/tcp"));
    let mut answer = String::new();
    common::wait_until(
        "the task answers on its published port",
        std::time::Duration::from_secs(30),
        || {
            use std::io::Read;
            answer.clear();
            std::net::TcpStream::connect(("127.0.0.1", port))
                .and_then(|mut c| c.read_to_string(&mut answer))
                .is_ok()
                && answer.trim() == hello
        },
    );
    let o = d.docker(
        common::DOCKER_28,
        &[
            "service",
            "create",
            "-d",
            "--name",
            "mounted",
            "--mount",
            "type=bind,src=/tmp,dst=/x",
            "busybox",
            "sleep",
            "100",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    common::wait_until(
        "the task is rejected with the reason",
        std::time::Duration::from_secs(30),
        || {
            let ps = d.ok(&["service", "ps", "--no-trunc", "mounted"]);
            ps.contains("Rejected") && ps.contains("does not support mounts yet")
        },
    );
}
