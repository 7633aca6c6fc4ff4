//! Runs commands against a tiny in-process fake daemon on a unix socket
//! and checks the request sequence and output, like docker's own CLI
//! unit tests do with a fake client.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use clap::Parser;
use rswarm_cli::output::Output;
use rswarm_cli::{CliCommand, run_with};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: CliCommand,
}

#[derive(Clone, Default)]
struct Fake {
    /// "METHOD /path?query" (version prefix removed) → (status, JSON body).
    routes: Arc<HashMap<String, (u16, Vec<u8>)>>,
    /// Requests seen, in order, with their bodies.
    seen: Arc<Mutex<Vec<(String, String)>>>,
}

async fn handle(State(f): State<Fake>, method: Method, uri: Uri, body: Bytes) -> Response {
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let unversioned = match path.strip_prefix("/v") {
        Some(rest) => rest
            .find('/')
            .map(|i| rest[i..].to_string())
            .unwrap_or(path.clone()),
        None => path.clone(),
    };
    let key = format!("{method} {unversioned}");
    f.seen.lock().expect("lock").push((
        format!("{method} {path}"),
        String::from_utf8_lossy(&body).into_owned(),
    ));
    let mut headers = HeaderMap::new();
    headers.insert("api-version", HeaderValue::from_static("1.51"));
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    if unversioned == "/_ping" {
        return (StatusCode::OK, headers, "OK").into_response();
    }
    match f.routes.get(&key) {
        Some((status, body)) => (
            StatusCode::from_u16(*status).expect("status"),
            headers,
            body.clone(),
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            headers,
            format!(r#"{{"message":"no route {key}"}}"#),
        )
            .into_response(),
    }
}

/// Starts the fake; returns the host URL, the request log and the tempdir guard.
async fn start(
    routes: Vec<(&str, u16, Vec<u8>)>,
) -> (String, Arc<Mutex<Vec<(String, String)>>>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = dir.path().join("d.sock");
    let listener = tokio::net::UnixListener::bind(&sock).expect("bind");
    let fake = Fake {
        routes: Arc::new(
            routes
                .into_iter()
                .map(|(k, s, b)| (k.to_string(), (s, b)))
                .collect(),
        ),
        seen: Arc::default(),
    };
    let seen = fake.seen.clone();
    let app = axum::Router::new().fallback(handle).with_state(fake);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("unix://{}", sock.display()), seen, dir)
}

fn parse(args: &[&str]) -> CliCommand {
    let mut v = vec!["rswarm"];
    v.extend_from_slice(args);
    Cli::try_parse_from(v).expect("parse").cmd
}

fn requests(seen: &Arc<Mutex<Vec<(String, String)>>>) -> Vec<String> {
    seen.lock()
        .expect("lock")
        .iter()
        .map(|(r, _)| r.clone())
        .collect()
}

/// Compares JSON with numbers as floats (Go writes `0` where serde writes `0.0`).
fn normalize(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Number(n) => serde_json::json!(n.as_f64()),
        Value::Array(a) => Value::Array(a.into_iter().map(normalize).collect()),
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, normalize(v))).collect()),
        other => other,
    }
}

#[tokio::test]
async fn service_create_detached_sends_docker_body() {
    let (host, seen, _dir) = start(vec![(
        "POST /services/create",
        201,
        r#"{"ID":"svc1abcdefghijklmnopqrstu","Warnings":null}"#.into(),
    )])
    .await;
    let (mut io, out, err) = Output::capture(false, 200);
    let cmd = parse(&[
        "service",
        "create",
        "-d",
        "--name",
        "web",
        "--replicas",
        "3",
        "-e",
        "A=1",
        "--restart-condition",
        "on-failure",
        "--update-parallelism",
        "2",
        "-p",
        "8080:80",
        "--limit-memory",
        "64m",
        "busybox",
        "sleep",
        "100",
    ]);
    let code = run_with(&host, cmd, &mut io).await;
    assert_eq!(code, 0, "stderr: {}", err.text());
    assert_eq!(out.text(), "svc1abcdefghijklmnopqrstu\n");
    assert_eq!(
        requests(&seen),
        vec!["HEAD /_ping", "POST /v1.51/services/create"]
    );
    let body = seen.lock().expect("lock")[1].1.clone();
    assert!(
        body.ends_with('\n'),
        "body is newline-terminated like Go's encoder"
    );
    let got: serde_json::Value = serde_json::from_str(&body).expect("json");
    let docker: serde_json::Value = serde_json::from_str(
        r#"{"Name":"web","Labels":{},
        "TaskTemplate":{"ContainerSpec":{"Image":"busybox:latest","Args":["sleep","100"],"Env":["A=1"],"Init":false,"DNSConfig":{}},
          "Resources":{"Limits":{"MemoryBytes":67108864},"Reservations":{}},
          "RestartPolicy":{"Condition":"on-failure","Delay":5000000000,"MaxAttempts":0},
          "Placement":{},"ForceUpdate":0},
        "Mode":{"Replicated":{"Replicas":3}},
        "UpdateConfig":{"Parallelism":2,"FailureAction":"pause","Monitor":5000000000,"MaxFailureRatio":0,"Order":"stop-first"},
        "EndpointSpec":{"Mode":"vip","Ports":[{"Protocol":"tcp","TargetPort":80,"PublishedPort":8080,"PublishMode":"ingress"}]}}"#,
    )
    .expect("docker json");
    assert_eq!(normalize(got), normalize(docker));
}

#[tokio::test]
async fn service_create_plain_body_and_command_flags_after_image() {
    let (host, seen, _dir) =
        start(vec![("POST /services/create", 201, r#"{"ID":"x"}"#.into())]).await;
    let (mut io, _out, _err) = Output::capture(false, 200);
    let code = run_with(
        &host,
        parse(&[
            "service",
            "create",
            "-d",
            "nginx",
            "nginx",
            "-g",
            "daemon off;",
        ]),
        &mut io,
    )
    .await;
    assert_eq!(code, 0);
    let body = seen.lock().expect("lock")[1].1.clone();
    let got: serde_json::Value = serde_json::from_str(&body).expect("json");
    let docker: serde_json::Value = serde_json::from_str(
        r#"{"Labels":{},"TaskTemplate":{"ContainerSpec":{"Image":"nginx:latest","Args":["nginx","-g","daemon off;"],"Init":false,"DNSConfig":{}},
        "Resources":{"Limits":{},"Reservations":{}},"Placement":{},"ForceUpdate":0},"Mode":{"Replicated":{}},"EndpointSpec":{"Mode":"vip"}}"#,
    )
    .expect("docker json");
    assert_eq!(normalize(got), normalize(docker));
}

const SERVICES: &str = r#"[
 {"ID":"01bazxxxxxxxxxxxxxxxxxxxx","Version":{"Index":3},"CreatedAt":"2020-01-01T00:00:00Z","UpdatedAt":"2020-01-01T00:00:00Z",
  "Spec":{"Name":"baz","Labels":{},"TaskTemplate":{"ContainerSpec":{"Image":"nginx:latest@sha256:abc"},"ForceUpdate":0},"Mode":{"Global":{}}},
  "Endpoint":{"Spec":{"Mode":"vip"},"Ports":[{"Protocol":"tcp","TargetPort":8080,"PublishedPort":80,"PublishMode":"ingress"}]},
  "ServiceStatus":{"RunningTasks":1,"DesiredTasks":3,"CompletedTasks":0}},
 {"ID":"02barxxxxxxxxxxxxxxxxxxxx","Version":{"Index":4},"CreatedAt":"2020-01-01T00:00:00Z","UpdatedAt":"2020-01-01T00:00:00Z",
  "Spec":{"Name":"bar","Labels":{},"TaskTemplate":{"ContainerSpec":{"Image":"busybox:latest"},"ForceUpdate":0},"Mode":{"Replicated":{"Replicas":4}}},
  "Endpoint":{"Spec":{}},
  "ServiceStatus":{"RunningTasks":2,"DesiredTasks":4,"CompletedTasks":0}}
]"#;

#[tokio::test]
async fn service_ls_requests_status_and_prints_docker_table() {
    let (host, seen, _dir) = start(vec![("GET /services?status=true", 200, SERVICES.into())]).await;
    let (mut io, out, err) = Output::capture(false, 200);
    let code = run_with(&host, parse(&["service", "ls"]), &mut io).await;
    assert_eq!(code, 0, "stderr: {}", err.text());
    assert_eq!(
        requests(&seen),
        vec!["HEAD /_ping", "GET /v1.51/services?status=true"]
    );
    assert_eq!(
        out.text(),
        "ID             NAME      MODE         REPLICAS   IMAGE            PORTS\n\
         02barxxxxxxx   bar       replicated   2/4        busybox:latest   \n\
         01bazxxxxxxx   baz       global       1/3        nginx:latest     *:80->8080/tcp\n"
    );
}

#[tokio::test]
async fn service_ls_quiet_and_json_formats() {
    let (host, seen, _dir) = start(vec![
        ("GET /services", 200, SERVICES.into()),
        ("GET /services?status=true", 200, SERVICES.into()),
    ])
    .await;
    let (mut io, out, _err) = Output::capture(false, 200);
    assert_eq!(
        run_with(&host, parse(&["service", "ls", "-q"]), &mut io).await,
        0
    );
    assert_eq!(out.text(), "02barxxxxxxx\n01bazxxxxxxx\n");
    assert_eq!(requests(&seen)[1], "GET /v1.51/services");
    let (mut io, out, _err) = Output::capture(false, 200);
    assert_eq!(
        run_with(
            &host,
            parse(&["service", "ls", "--format", "json"]),
            &mut io
        )
        .await,
        0
    );
    let first = out.text().lines().next().unwrap_or_default().to_string();
    assert_eq!(
        first,
        r#"{"ID":"02barxxxxxxx","Image":"busybox:latest","Mode":"replicated","Name":"bar","Ports":"","Replicas":"2/4"}"#
    );
    let (mut io, out, _err) = Output::capture(false, 200);
    assert_eq!(
        run_with(
            &host,
            parse(&["service", "ls", "--format", "{{.Name}}: {{.Replicas}}"]),
            &mut io
        )
        .await,
        0
    );
    assert_eq!(out.text(), "bar: 2/4\nbaz: 1/3\n");
}

#[tokio::test]
async fn daemon_errors_and_missing_daemon() {
    let (host, _seen, _dir) = start(vec![]).await;
    let (mut io, _out, err) = Output::capture(false, 200);
    assert_eq!(
        run_with(&host, parse(&["service", "rm", "nope"]), &mut io).await,
        1
    );
    assert_eq!(
        err.text(),
        "Error response from daemon: no route DELETE /services/nope\n"
    );
    let (mut io, out, err) = Output::capture(false, 200);
    assert_eq!(
        run_with(&host, parse(&["service", "inspect", "nope"]), &mut io).await,
        1
    );
    assert_eq!(out.text(), "[]\n");
    assert_eq!(err.text(), "Error: no such service: nope\n");
    let (mut io, _out, err) = Output::capture(false, 200);
    let code = run_with(
        "unix:///nonexistent/rswarm.sock",
        parse(&["node", "ls"]),
        &mut io,
    )
    .await;
    assert_eq!(code, 1);
    assert!(
        err.text().starts_with(
            "Cannot connect to the rswarm daemon at unix:///nonexistent/rswarm.sock: "
        ) && err.text().ends_with(". Is the rswarm daemon running?\n"),
        "{}",
        err.text()
    );
}

#[tokio::test]
async fn service_create_waits_for_convergence() {
    let svc = r#"{"ID":"svc1","Version":{"Index":5},"CreatedAt":"2020-01-01T00:00:00Z","UpdatedAt":"2020-01-01T00:00:00Z",
      "Spec":{"Name":"web","Labels":{},"TaskTemplate":{"ContainerSpec":{"Image":"busybox:latest"},"ForceUpdate":0},
        "Mode":{"Replicated":{"Replicas":1}},"UpdateConfig":{"Parallelism":1,"Monitor":300000000,"MaxFailureRatio":0,"Order":"stop-first"}},
      "Endpoint":{"Spec":{}}}"#;
    let task = r#"[{"ID":"t1","Version":{"Index":6},"CreatedAt":"2020-01-01T00:00:00Z","UpdatedAt":"2020-01-01T00:00:00Z",
      "Spec":{"ContainerSpec":{"Image":"busybox:latest"},"ForceUpdate":0},"ServiceID":"svc1","Slot":1,"NodeID":"n1",
      "Status":{"Timestamp":"2020-01-01T00:00:00Z","State":"running"},"DesiredState":"running"}]"#;
    let nodes = r#"[{"ID":"n1","Version":{"Index":1},"CreatedAt":"2020-01-01T00:00:00Z","UpdatedAt":"2020-01-01T00:00:00Z",
      "Spec":{"Labels":{},"Role":"manager","Availability":"active"},"Status":{"State":"ready"}}]"#;
    let filter = "filters=%7B%22_up-to-date%22%3A%7B%22true%22%3Atrue%7D%2C%22service%22%3A%7B%22svc1%22%3Atrue%7D%7D";
    let tasks_route = format!("GET /tasks?{filter}");
    let (host, seen, _dir) = start(vec![
        ("POST /services/create", 201, r#"{"ID":"svc1"}"#.into()),
        ("GET /services/svc1?insertDefaults=false", 200, svc.into()),
        (tasks_route.as_str(), 200, task.into()),
        ("GET /nodes", 200, nodes.into()),
    ])
    .await;
    let (mut io, out, err) = Output::capture(false, 200);
    let code = run_with(
        &host,
        parse(&["service", "create", "--name", "web", "busybox"]),
        &mut io,
    )
    .await;
    assert_eq!(code, 0, "stderr: {}", err.text());
    let bar = format!("[{}>]", "=".repeat(50));
    assert_eq!(
        out.text(),
        format!(
            "svc1\noverall progress: 0 out of 1 tasks\n1/1:\n1/1: running   {bar}\noverall progress: 1 out of 1 tasks\n\
             verify: Waiting 1 seconds to verify that tasks are stable...\nverify: Service svc1 converged\n"
        )
    );
    let reqs = requests(&seen);
    assert_eq!(
        &reqs[..6],
        &[
            "HEAD /_ping".to_string(),
            "POST /v1.51/services/create".to_string(),
            "GET /v1.51/services/svc1?insertDefaults=false".to_string(),
            format!("GET /v1.51/tasks?{filter}"),
            "GET /v1.51/nodes".to_string(),
            "GET /v1.51/services/svc1?insertDefaults=false".to_string(),
        ]
    );
}

#[tokio::test]
async fn node_ls_marks_self_and_sorts_naturally() {
    let nodes = r#"[
      {"ID":"nodeID2","Version":{"Index":1},"CreatedAt":"2020-01-01T00:00:00Z","UpdatedAt":"2020-01-01T00:00:00Z",
       "Spec":{"Labels":{},"Role":"manager","Availability":"active"},"Description":{"Hostname":"node-10-foo","Engine":{"EngineVersion":"18.03.0-ce"}},
       "Status":{"State":"ready"},"ManagerStatus":{"Reachability":"reachable","Addr":"x"}},
      {"ID":"nodeID1","Version":{"Index":1},"CreatedAt":"2020-01-01T00:00:00Z","UpdatedAt":"2020-01-01T00:00:00Z",
       "Spec":{"Labels":{},"Role":"manager","Availability":"active"},"Description":{"Hostname":"node-2-foo","Engine":{"EngineVersion":"."}},
       "Status":{"State":"ready"},"ManagerStatus":{"Leader":true,"Reachability":"reachable","Addr":"x"}},
      {"ID":"nodeID3","Version":{"Index":1},"CreatedAt":"2020-01-01T00:00:00Z","UpdatedAt":"2020-01-01T00:00:00Z",
       "Spec":{"Labels":{},"Role":"worker","Availability":"active"},"Description":{"Hostname":"node-1-foo","Engine":{"EngineVersion":"1.13.0"}},
       "Status":{"State":"ready"}}]"#;
    let (host, seen, _dir) = start(vec![
        ("GET /nodes", 200, nodes.into()),
        (
            "GET /info",
            200,
            r#"{"Swarm":{"NodeID":"nodeID1","LocalNodeState":"active","ControlAvailable":true}}"#
                .into(),
        ),
    ])
    .await;
    let (mut io, out, err) = Output::capture(false, 200);
    assert_eq!(
        run_with(&host, parse(&["node", "ls"]), &mut io).await,
        0,
        "{}",
        err.text()
    );
    assert_eq!(
        requests(&seen),
        vec!["HEAD /_ping", "GET /v1.51/nodes", "GET /v1.51/info"]
    );
    assert_eq!(
        out.text(),
        "ID          HOSTNAME      STATUS    AVAILABILITY   MANAGER STATUS   ENGINE VERSION\n\
         nodeID3     node-1-foo    Ready     Active                          1.13.0\n\
         nodeID1 *   node-2-foo    Ready     Active         Leader           .\n\
         nodeID2     node-10-foo   Ready     Active         Reachable        18.03.0-ce\n"
    );
}

#[tokio::test]
async fn swarm_init_prints_join_command() {
    let (host, seen, _dir) = start(vec![
        ("POST /swarm/init", 200, r#""nodeid1""#.into()),
        (
            "GET /nodes/nodeid1",
            200,
            r#"{"ID":"nodeid1","Version":{"Index":1},"CreatedAt":"2020-01-01T00:00:00Z","UpdatedAt":"2020-01-01T00:00:00Z",
               "Spec":{"Labels":{},"Role":"manager","Availability":"active"},"Status":{"State":"ready"},
               "ManagerStatus":{"Leader":true,"Reachability":"reachable","Addr":"127.0.0.1:2377"}}"#
                .into(),
        ),
        ("GET /swarm", 200, r#"{"ID":"c","Version":{"Index":2},"Spec":{},"JoinTokens":{"Worker":"SWMTKN-1-w","Manager":"SWMTKN-1-m"}}"#.into()),
    ])
    .await;
    let (mut io, out, err) = Output::capture(false, 200);
    assert_eq!(
        run_with(
            &host,
            parse(&["swarm", "init", "--advertise-addr", "127.0.0.1"]),
            &mut io
        )
        .await,
        0,
        "{}",
        err.text()
    );
    assert_eq!(
        out.text(),
        "Swarm initialized: current node (nodeid1) is now a manager.\n\nTo add a worker to this swarm, run the following command:\n\n    rswarm swarm join --token SWMTKN-1-w 127.0.0.1:2377\n\nTo add a manager to this swarm, run 'rswarm swarm join-token manager' and follow the instructions.\n"
    );
    assert_eq!(
        requests(&seen),
        vec![
            "HEAD /_ping",
            "POST /v1.51/swarm/init",
            "GET /v1.51/nodes/nodeid1",
            "GET /v1.51/swarm"
        ]
    );
}

const WEB: &str = r#"{"ID":"svcid1234567890","Version":{"Index":9},"CreatedAt":"2020-01-01T00:00:00Z","UpdatedAt":"2020-01-01T00:00:00Z",
  "Spec":{"Name":"web","Labels":{},"TaskTemplate":{"ContainerSpec":{"Image":"busybox:latest","Args":["sleep","1"]},"ForceUpdate":0},
    "Mode":{"Replicated":{"Replicas":2}}},"Endpoint":{"Spec":{}}}"#;

#[tokio::test]
async fn service_update_posts_whole_spec_with_version() {
    let (host, seen, _dir) = start(vec![
        ("GET /services/web?insertDefaults=false", 200, WEB.into()),
        (
            "POST /services/svcid1234567890/update?registryAuthFrom=spec&version=9",
            200,
            r#"{"Warnings":["careful"]}"#.into(),
        ),
    ])
    .await;
    let (mut io, out, err) = Output::capture(false, 200);
    let code = run_with(
        &host,
        parse(&[
            "service",
            "update",
            "-d",
            "--image",
            "busybox:1.36",
            "--force",
            "web",
        ]),
        &mut io,
    )
    .await;
    assert_eq!(code, 0, "{}", err.text());
    assert_eq!(out.text(), "web\n");
    assert_eq!(err.text(), "careful\n");
    let log = seen.lock().expect("lock").clone();
    assert_eq!(
        log[2].0,
        "POST /v1.51/services/svcid1234567890/update?registryAuthFrom=spec&version=9"
    );
    let body: serde_json::Value = serde_json::from_str(&log[2].1).expect("json");
    assert_eq!(
        body["TaskTemplate"]["ContainerSpec"]["Image"],
        "busybox:1.36"
    );
    assert_eq!(
        body["TaskTemplate"]["ContainerSpec"]["Args"],
        serde_json::json!(["sleep", "1"])
    );
    assert_eq!(body["TaskTemplate"]["ForceUpdate"], 1);
    assert_eq!(body["Mode"]["Replicated"]["Replicas"], 2);
}

#[tokio::test]
async fn service_scale_and_rollback() {
    let global = WEB
        .replace(r#"{"Replicated":{"Replicas":2}}"#, r#"{"Global":{}}"#)
        .replace("svcid1234567890", "globalid");
    let (host, seen, _dir) = start(vec![
        ("GET /services/web?insertDefaults=false", 200, WEB.into()),
        ("GET /services/g?insertDefaults=false", 200, global.into()),
        (
            "POST /services/svcid1234567890/update?version=9",
            200,
            "{}".into(),
        ),
        (
            "POST /services/svcid1234567890/update?rollback=previous&version=9",
            200,
            "{}".into(),
        ),
    ])
    .await;
    let (mut io, out, err) = Output::capture(false, 200);
    let code = run_with(
        &host,
        parse(&["service", "scale", "-d", "web=5", "g=2"]),
        &mut io,
    )
    .await;
    assert_eq!(code, 1);
    assert_eq!(out.text(), "web scaled to 5\n");
    assert_eq!(
        err.text(),
        "g: scale can only be used with replicated or replicated-job mode\n"
    );
    let body: serde_json::Value =
        serde_json::from_str(&seen.lock().expect("lock")[2].1).expect("json");
    assert_eq!(body["Mode"]["Replicated"]["Replicas"], 5);
    let (mut io, out, err) = Output::capture(false, 200);
    assert_eq!(
        run_with(&host, parse(&["service", "rollback", "-d", "web"]), &mut io).await,
        0,
        "{}",
        err.text()
    );
    assert_eq!(out.text(), "web\n");
    assert!(requests(&seen).contains(
        &"POST /v1.51/services/svcid1234567890/update?rollback=previous&version=9".to_string()
    ));
}

#[tokio::test]
async fn service_logs_prefixes_lines() {
    use rswarm_cli::stdcopy::frame;
    let details = "com.docker.swarm.node.id=n1,com.docker.swarm.service.id=svcid1234567890,com.docker.swarm.task.id=taskid1234567890abcdefghi";
    let mut stream = frame(1, format!("{details} hello\n").as_bytes());
    stream.extend(frame(2, format!("{details} oops\n").as_bytes()));
    let task = r#"{"ID":"taskid1234567890abcdefghi","Version":{"Index":6},"CreatedAt":"2020-01-01T00:00:00Z","UpdatedAt":"2020-01-01T00:00:00Z",
      "Spec":{"ContainerSpec":{"Image":"busybox:latest"},"ForceUpdate":0},"ServiceID":"svcid1234567890","Slot":1,"NodeID":"n1",
      "Status":{"Timestamp":"2020-01-01T00:00:00Z","State":"running"},"DesiredState":"running"}"#;
    let node = r#"{"ID":"n1","Version":{"Index":1},"CreatedAt":"2020-01-01T00:00:00Z","UpdatedAt":"2020-01-01T00:00:00Z",
      "Spec":{"Labels":{},"Role":"manager","Availability":"active"},"Description":{"Hostname":"host1"},"Status":{"State":"ready"}}"#;
    let (host, seen, _dir) = start(vec![
        ("GET /services/web?insertDefaults=false", 200, WEB.into()),
        (
            "GET /services/web/logs?details=1&stderr=1&stdout=1&tail=all",
            200,
            stream,
        ),
        ("GET /nodes/n1", 200, node.into()),
        (
            "GET /services/svcid1234567890?insertDefaults=false",
            200,
            WEB.into(),
        ),
        ("GET /tasks/taskid1234567890abcdefghi", 200, task.into()),
    ])
    .await;
    let (mut io, out, err) = Output::capture(false, 200);
    assert_eq!(
        run_with(&host, parse(&["service", "logs", "web"]), &mut io).await,
        0,
        "{}",
        err.text()
    );
    assert_eq!(out.text(), "web.1.taskid123456@host1    | hello\n");
    assert_eq!(err.text(), "web.1.taskid123456@host1    | oops\n");
    assert_eq!(requests(&seen).len(), 6, "{:?}", requests(&seen));
}
