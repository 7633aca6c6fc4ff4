//! Handshake, version prefixes, error format, unsupported endpoints and
//! the node-state guard.

use axum::http::Method;

use crate::fake::Fake;
use crate::{get, post, send};

fn assert_standard_headers(r: &crate::Reply) {
    assert_eq!(r.header("api-version"), "1.51");
    assert_eq!(r.header("ostype"), "linux");
    assert_eq!(r.header("docker-experimental"), "false");
    assert!(
        r.header("server").starts_with("Docker/28.5.2-rswarm"),
        "{}",
        r.header("server")
    );
    assert!(r.header("server").ends_with(" (linux)"));
}

#[tokio::test]
async fn head_ping_has_negotiation_headers_and_no_body() {
    let r = send(&Fake::manager(), Method::HEAD, "/_ping", None).await;
    assert_eq!(r.status, 200);
    assert_standard_headers(&r);
    assert_eq!(r.header("swarm"), "active/manager");
    assert_eq!(
        r.header("cache-control"),
        "no-cache, no-store, must-revalidate"
    );
    assert_eq!(r.header("pragma"), "no-cache");
    assert_eq!(r.header("content-length"), "0");
    assert!(r.body.is_empty());
}

#[tokio::test]
async fn get_ping_says_ok_and_reports_swarm_state() {
    let r = get(&Fake::manager(), "/_ping").await;
    assert_eq!((r.status.as_u16(), r.text().as_str()), (200, "OK"));
    assert_standard_headers(&r);
    assert_eq!(
        get(&Fake::worker(), "/_ping").await.header("swarm"),
        "active/worker"
    );
    assert_eq!(
        get(&Fake::inactive(), "/_ping").await.header("swarm"),
        "inactive"
    );
    let versioned = get(&Fake::manager(), "/v1.41/_ping").await;
    assert_eq!(versioned.text(), "OK");
}

#[tokio::test]
async fn version_prefixes_are_accepted_in_range() {
    let fake = Fake::manager();
    for uri in [
        "/version",
        "/v1.24/version",
        "/v1.41/version",
        "/v1.51/version",
    ] {
        assert_eq!(get(&fake, uri).await.status, 200, "{uri}");
    }
    let r = get(&fake, "/v1.52/info").await;
    r.assert_error(
        400,
        "client version 1.52 is too new. Maximum supported API version is 1.51",
    );
    assert_standard_headers(&r);
    let r = get(&fake, "/v1.12/services").await;
    r.assert_error(
        400,
        "client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version",
    );
}

#[tokio::test]
async fn version_has_engine_component_and_top_level_fields() {
    let j = get(&Fake::manager(), "/v1.51/version").await.json();
    let engine = &j["Components"][0];
    assert_eq!(engine["Name"], "Engine");
    assert_eq!(engine["Version"], j["Version"]);
    for k in [
        "ApiVersion",
        "MinAPIVersion",
        "GitCommit",
        "GoVersion",
        "Os",
        "Arch",
        "Experimental",
        "KernelVersion",
    ] {
        assert!(engine["Details"][k].is_string(), "Details.{k}: {j}");
    }
    assert_eq!(j["ApiVersion"], "1.51");
    assert_eq!(j["MinAPIVersion"], "1.24");
    assert_eq!(j["Os"], "linux");
    assert!(j["Platform"]["Name"].is_string());
    assert!(
        j["Version"]
            .as_str()
            .is_some_and(|v| v.starts_with("28.5.2-rswarm"))
    );
}

#[tokio::test]
async fn info_has_go_types_and_swarm_section() {
    let j = get(&Fake::manager(), "/v1.51/info").await.json();
    assert_eq!(j["Name"], "host-a");
    assert_eq!(j["OSType"], "linux");
    assert_eq!(j["Driver"], "rswarm");
    assert_eq!(j["DockerRootDir"], "/var/lib/rswarm");
    assert!(j["NCPU"].as_u64().is_some_and(|n| n >= 1));
    assert!(j["MemTotal"].is_i64());
    assert!(
        j["KernelVersion"].is_string()
            && j["OperatingSystem"].is_string()
            && j["Architecture"].is_string()
    );
    assert_eq!(j["SecurityOptions"], serde_json::json!([]));
    assert_eq!(j["Warnings"], serde_json::json!([]));
    for k in ["Volume", "Network", "Authorization", "Log"] {
        assert!(j["Plugins"][k].is_array(), "Plugins.{k}");
    }
    for k in ["ContainerdCommit", "RuncCommit", "InitCommit"] {
        assert_eq!(j[k]["ID"], j[k]["Expected"], "{k}");
    }
    assert_eq!(j["DefaultRuntime"], "process");
    assert!(j["Runtimes"]["process"]["path"].is_string());
    assert!(j["DriverStatus"].is_array());

    let s = &j["Swarm"];
    assert_eq!(s["LocalNodeState"], "active");
    assert_eq!(s["NodeID"], crate::fake::NODE1);
    assert_eq!(s["ControlAvailable"], true);
    assert_eq!(s["Error"], "");
    assert_eq!(s["Nodes"], 2);
    assert_eq!(s["Managers"], 1);
    assert_eq!(s["RemoteManagers"][0]["Addr"], "127.0.0.1:2377");
    assert!(s.get("Warnings").is_none(), "omitted when empty: {s}");
    let c = &s["Cluster"];
    assert_eq!(c["ID"], "cluster1xxxxxxxxxxxxxxxxx");
    assert_eq!(c["Version"]["Index"], 2);
    assert_eq!(c["CreatedAt"], "2025-01-02T03:04:05.123456789Z");
    assert_eq!(c["Spec"]["Orchestration"]["TaskHistoryRetentionLimit"], 5);
    assert_eq!(c["Spec"]["Raft"]["SnapshotInterval"], 10000);
    assert_eq!(
        c["Spec"]["Dispatcher"]["HeartbeatPeriod"],
        5_000_000_000_i64
    );
    assert_eq!(c["Spec"]["EncryptionConfig"]["AutoLockManagers"], false);
    assert!(
        c["TLSInfo"]["TrustRoot"]
            .as_str()
            .is_some_and(|t| t.contains("BEGIN CERTIFICATE"))
    );
    assert!(
        c["TLSInfo"]["CertIssuerSubject"].is_string()
            && c["TLSInfo"]["CertIssuerPublicKey"].is_string()
    );
    assert_eq!(c["RootRotationInProgress"], false);
    assert_eq!(
        c["DefaultAddrPool"],
        serde_json::Value::Null,
        "null until set"
    );
    assert_eq!(
        (c["SubnetSize"].as_u64(), c["DataPathPort"].as_u64()),
        (Some(24), Some(4789))
    );
    assert!(
        c.get("JoinTokens").is_none(),
        "tokens are not part of ClusterInfo"
    );
}

#[tokio::test]
async fn info_never_contains_the_ca_key() {
    let fake = Fake::manager();
    {
        let mut s = fake.state();
        s.cluster.spec.ca_config.signing_ca_key = "USER-SIGNING-KEY".into();
        let c = s.cluster.clone();
        s.info.cluster = Some(c);
    }
    for uri in ["/info", "/swarm"] {
        let text = get(&fake, uri).await.text();
        assert!(
            !text.contains("TOPSECRETKEY") && !text.contains("PRIVATE KEY"),
            "{uri}: {text}"
        );
        assert!(
            !text.contains("USER-SIGNING-KEY") && !text.contains("SigningCAKey"),
            "{uri}: {text}"
        );
    }
}

#[tokio::test]
async fn info_on_worker_and_inactive_has_no_cluster() {
    let j = get(&Fake::worker(), "/info").await.json();
    assert_eq!(j["Swarm"]["LocalNodeState"], "active");
    assert_eq!(j["Swarm"]["ControlAvailable"], false);
    assert!(j["Swarm"]["Cluster"].is_null());
    assert!(j["Swarm"].get("Nodes").is_none());
    let j = get(&Fake::inactive(), "/info").await.json();
    assert_eq!(j["Swarm"]["LocalNodeState"], "inactive");
    assert_eq!(j["Swarm"]["NodeID"], "");
    assert!(j["Swarm"]["Cluster"].is_null());
    assert_eq!(
        j["Swarm"].get("RemoteManagers"),
        Some(&serde_json::Value::Null),
        "null outside a swarm, as Docker"
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_are_page_not_found() {
    let fake = Fake::manager();
    let r = get(&fake, "/v1.51/nope").await;
    r.assert_error(404, "page not found");
    assert_standard_headers(&r);
    send(&fake, Method::DELETE, "/info", None)
        .await
        .assert_error(404, "page not found");
    send(&fake, Method::PUT, "/v1.41/services/web", None)
        .await
        .assert_error(404, "page not found");
}

#[tokio::test]
async fn local_engine_reads_answer_as_an_empty_engine_writes_are_501() {
    let fake = Fake::manager();
    let msg =
        "rswarm does not manage local containers, images or volumes: it runs swarm services only";
    let empty = serde_json::json!([]);
    for path in ["/v1.51/containers/json?all=1", "/images/json", "/plugins"] {
        let r = get(&fake, path).await;
        assert_eq!(
            (r.status.as_u16(), r.json()),
            (200, empty.clone()),
            "{path}"
        );
    }
    assert_eq!(
        get(&fake, "/volumes").await.json(),
        serde_json::json!({"Volumes": [], "Warnings": null})
    );
    get(&fake, "/containers/web/json")
        .await
        .assert_error(404, "No such container: web");
    get(&fake, "/v1.41/images/rswarm-test/busybox:latest/json")
        .await
        .assert_error(404, "No such image: rswarm-test/busybox:latest");
    get(&fake, "/volumes/data")
        .await
        .assert_error(404, "get data: no such volume");
    get(&fake, "/plugins/vieux/sshfs:latest/json")
        .await
        .assert_error(404, "plugin \"vieux/sshfs:latest\" not found");
    let past = get(&fake, "/events?since=0&until=1").await;
    assert_eq!((past.status.as_u16(), past.text()), (200, String::new()));
    get(&fake, "/events?until=soon")
        .await
        .assert_error(400, "invalid value for until: soon");
    post(&fake, "/v1.41/containers/create", "{}")
        .await
        .assert_error(501, msg);
    get(&fake, "/containers/web/logs")
        .await
        .assert_error(501, msg);
    post(&fake, "/images/create?fromImage=busybox", "")
        .await
        .assert_error(501, msg);
    post(&fake, "/volumes/create", "{}")
        .await
        .assert_error(501, msg);
    post(&fake, "/build", "").await.assert_error(501, msg);
    post(&fake, "/exec/abc/start", "{}")
        .await
        .assert_error(501, msg);
    get(&fake, "/system/df").await.assert_error(501, msg);
    assert!(fake.calls().is_empty());
}

#[tokio::test]
async fn networks_secrets_configs_plugins_are_not_implemented_but_lists_are_empty() {
    let fake = Fake::manager();
    // Local networks (the default bridge driver) are not rswarm's.
    post(&fake, "/v1.51/networks/create", r#"{"Name":"n"}"#)
        .await
        .assert_error(
            501,
            "rswarm has no local networks (driver \"bridge\"): create a swarm network with --driver overlay",
        );
    post(&fake, "/secrets/create", r#"{"Name":"s"}"#)
        .await
        .assert_error(501, "secrets are not implemented yet in rswarm");
    post(&fake, "/configs/create", r#"{"Name":"c"}"#)
        .await
        .assert_error(501, "configs are not implemented yet in rswarm");
    post(&fake, "/plugins/pull?remote=x", "[]")
        .await
        .assert_error(501, "plugins are not implemented yet in rswarm");
    assert_eq!(get(&fake, "/networks").await.json(), serde_json::json!([]));
    assert_eq!(
        get(&fake, "/secrets?filters=%7B%7D").await.json(),
        serde_json::json!([])
    );
    assert_eq!(get(&fake, "/configs").await.json(), serde_json::json!([]));
    get(&fake, "/networks/front?scope=swarm")
        .await
        .assert_error(404, "network front not found");
    get(&fake, "/secrets/shop_key")
        .await
        .assert_error(404, "secret shop_key not found");
    let r = get(&fake, "/v1.51/distribution/ghcr.io/org/img:1.0/json").await;
    assert!(
        !r.status.is_success(),
        "the CLI must fall back to its warning"
    );
    assert_eq!(r.header("content-type"), "application/json");
    get(&Fake::inactive(), "/secrets")
        .await
        .assert_error(503, &rswarm_types::ControlError::NotAManager.to_string());
}

#[tokio::test]
async fn guard_follows_node_state() {
    use rswarm_types::ControlError;
    let inactive = Fake::inactive();
    for uri in [
        "/services",
        "/nodes",
        "/tasks",
        "/services/web",
        "/swarm",
        "/services/web/logs?stdout=1",
    ] {
        get(&inactive, uri)
            .await
            .assert_error(503, &ControlError::NotAManager.to_string());
    }
    post(&inactive, "/swarm/leave", "")
        .await
        .assert_error(503, "This node is not part of a swarm");
    let worker = Fake::worker();
    get(&worker, "/v1.51/services")
        .await
        .assert_error(503, &ControlError::WorkerNotManager.to_string());
    get(&worker, "/nodes/host-a")
        .await
        .assert_error(503, &ControlError::WorkerNotManager.to_string());
    let locked = Fake::manager();
    locked.state().info.state = rswarm_engine_api::LocalNodeState::Locked;
    get(&locked, "/tasks")
        .await
        .assert_error(503, rswarm_engine_api::guard::LOCKED);
    assert!(inactive.calls().is_empty() && worker.calls().is_empty());
}

#[tokio::test]
async fn malformed_json_is_400_naming_the_problem() {
    let fake = Fake::manager();
    let r = post(
        &fake,
        "/services/create",
        r#"{"Name":"x","Mode":{"Replicated":{"Replicas":-1}}}"#,
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.header("content-type"), "application/json");
    let msg = r.json()["message"].as_str().unwrap_or_default().to_string();
    assert!(
        msg.starts_with("invalid JSON body: Mode.Replicated.Replicas: "),
        "{msg}"
    );
    assert!(msg.contains("expected u64"), "{msg}");
    let r = post(&fake, "/swarm/init", "{not json").await;
    assert_eq!(r.status, 400);
    assert!(
        r.json()["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("invalid JSON body: "))
    );
    assert!(fake.calls().is_empty());
}
