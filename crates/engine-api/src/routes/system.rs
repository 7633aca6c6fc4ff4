//! The handshake: `/_ping`, `/version` and `/info` (spec §1).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, PRAGMA};
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::Shared;
use crate::backend::{LocalNodeState, NodeInfo};
use crate::cluster_info::ClusterInfo;
use crate::guard::swarm_status;
use crate::host::HostFacts;
use crate::{API_VERSION, MIN_API_VERSION, SERVER_VERSION};

fn ping_response(info: &NodeInfo, body: &'static str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache, no-store, must-revalidate"));
    h.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    h.insert(HeaderName::from_static("swarm"), HeaderValue::from_static(swarm_status(info)));
    resp
}

/// `GET /_ping`: `OK`.
pub(super) async fn ping(State(backend): State<Shared>) -> Response {
    ping_response(&backend.info().await, "OK")
}

/// `HEAD /_ping`: the same headers, `Content-Length: 0`.
pub(super) async fn ping_head(State(backend): State<Shared>) -> Response {
    let mut resp = ping_response(&backend.info().await, "");
    resp.headers_mut().insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
    resp
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Component {
    name: &'static str,
    version: String,
    details: BTreeMap<&'static str, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Platform {
    name: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct VersionResponse {
    platform: Platform,
    components: Vec<Component>,
    version: &'static str,
    api_version: &'static str,
    #[serde(rename = "MinAPIVersion")]
    min_api_version: &'static str,
    git_commit: &'static str,
    go_version: &'static str,
    os: &'static str,
    arch: String,
    kernel_version: String,
}

/// Git commit baked in at build time, if the build provided one.
const GIT_COMMIT: &str = match option_env!("RSWARM_GIT_COMMIT") {
    Some(c) => c,
    None => "unknown",
};

/// `GET /version`.
pub(super) async fn version() -> Response {
    let host = HostFacts::read();
    let details: BTreeMap<&'static str, String> = [
        ("ApiVersion", API_VERSION.to_string()),
        ("MinAPIVersion", MIN_API_VERSION.to_string()),
        ("GitCommit", GIT_COMMIT.to_string()),
        ("GoVersion", "n/a (rust)".to_string()),
        ("Os", "linux".to_string()),
        ("Arch", host.go_arch.clone()),
        ("Experimental", "false".to_string()),
        ("KernelVersion", host.kernel_version.clone()),
    ]
    .into_iter()
    .collect();
    let rswarm = Component {
        name: "rswarm",
        version: env!("CARGO_PKG_VERSION").to_string(),
        details: [("GitCommit", GIT_COMMIT.to_string())].into_iter().collect(),
    };
    Json(VersionResponse {
        platform: Platform { name: "rswarm" },
        components: vec![Component { name: "Engine", version: SERVER_VERSION.to_string(), details }, rswarm],
        version: SERVER_VERSION,
        api_version: API_VERSION,
        min_api_version: MIN_API_VERSION,
        git_commit: GIT_COMMIT,
        go_version: "n/a (rust)",
        os: "linux",
        arch: host.go_arch,
        kernel_version: host.kernel_version,
    })
    .into_response()
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Peer {
    #[serde(rename = "NodeID")]
    node_id: String,
    addr: String,
}

/// `swarm.Info`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SwarmInfo {
    #[serde(rename = "NodeID")]
    node_id: String,
    node_addr: String,
    local_node_state: &'static str,
    control_available: bool,
    error: String,
    remote_managers: Vec<Peer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nodes: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    managers: Option<usize>,
    cluster: Option<ClusterInfo>,
    warnings: Vec<String>,
}

impl SwarmInfo {
    fn from_info(info: &NodeInfo) -> SwarmInfo {
        let manager = info.state == LocalNodeState::Active && info.control_available;
        SwarmInfo {
            node_id: info.node_id.clone(),
            node_addr: info.node_addr.clone(),
            local_node_state: info.state.as_str(),
            control_available: info.control_available,
            error: info.error.clone(),
            remote_managers: info
                .remote_managers
                .iter()
                .map(|(id, addr)| Peer { node_id: id.clone(), addr: addr.clone() })
                .collect(),
            nodes: manager.then_some(info.nodes),
            managers: manager.then_some(info.managers),
            cluster: if manager { info.cluster.as_ref().map(ClusterInfo::from_cluster) } else { None },
            warnings: Vec::new(),
        }
    }
}

#[derive(Serialize)]
struct Commit {
    #[serde(rename = "ID")]
    id: &'static str,
    #[serde(rename = "Expected")]
    expected: &'static str,
}

#[derive(Serialize)]
struct RuntimeInfo {
    path: String,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "PascalCase")]
struct Plugins {
    volume: Vec<String>,
    network: Vec<String>,
    authorization: Vec<String>,
    log: Vec<String>,
}

/// `system.Info`: the subset the CLI reads, with Go's JSON types.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct InfoResponse {
    #[serde(rename = "ID")]
    id: String,
    containers: i64,
    containers_running: i64,
    containers_paused: i64,
    containers_stopped: i64,
    images: i64,
    driver: &'static str,
    driver_status: Vec<[String; 2]>,
    plugins: Plugins,
    memory_limit: bool,
    swap_limit: bool,
    cpu_cfs_period: bool,
    cpu_cfs_quota: bool,
    #[serde(rename = "CPUShares")]
    cpu_shares: bool,
    #[serde(rename = "CPUSet")]
    cpu_set: bool,
    pids_limit: bool,
    #[serde(rename = "IPv4Forwarding")]
    ipv4_forwarding: bool,
    debug: bool,
    #[serde(rename = "NFd")]
    nfd: i64,
    oom_kill_disable: bool,
    #[serde(rename = "NGoroutines")]
    ngoroutines: i64,
    system_time: String,
    logging_driver: &'static str,
    cgroup_driver: &'static str,
    cgroup_version: String,
    #[serde(rename = "NEventsListener")]
    nevents_listener: i64,
    kernel_version: String,
    operating_system: String,
    #[serde(rename = "OSVersion")]
    os_version: String,
    #[serde(rename = "OSType")]
    os_type: &'static str,
    architecture: String,
    index_server_address: &'static str,
    registry_config: Option<()>,
    #[serde(rename = "NCPU")]
    ncpu: usize,
    mem_total: i64,
    docker_root_dir: String,
    http_proxy: &'static str,
    https_proxy: &'static str,
    no_proxy: &'static str,
    name: String,
    labels: Vec<String>,
    experimental_build: bool,
    server_version: &'static str,
    runtimes: BTreeMap<String, RuntimeInfo>,
    default_runtime: String,
    swarm: SwarmInfo,
    live_restore_enabled: bool,
    isolation: &'static str,
    init_binary: &'static str,
    containerd_commit: Commit,
    runc_commit: Commit,
    init_commit: Commit,
    security_options: Vec<String>,
    #[serde(rename = "CDISpecDirs")]
    cdi_spec_dirs: Vec<String>,
    warnings: Vec<String>,
}

fn commit() -> Commit {
    Commit { id: "n/a", expected: "n/a" }
}

/// `GET /info`.
pub(super) async fn info(State(backend): State<Shared>) -> Response {
    let info = backend.info().await;
    let host = HostFacts::read();
    let runtime = if info.runtime.is_empty() { "process".to_string() } else { info.runtime.clone() };
    let runtimes = [(runtime.clone(), RuntimeInfo { path: format!("rswarm-{runtime}") })].into_iter().collect();
    Json(InfoResponse {
        id: if info.node_id.is_empty() { info.hostname.clone() } else { info.node_id.clone() },
        containers: 0,
        containers_running: 0,
        containers_paused: 0,
        containers_stopped: 0,
        images: 0,
        driver: "rswarm",
        driver_status: Vec::new(),
        plugins: Plugins::default(),
        memory_limit: false,
        swap_limit: false,
        cpu_cfs_period: false,
        cpu_cfs_quota: false,
        cpu_shares: false,
        cpu_set: false,
        pids_limit: false,
        ipv4_forwarding: true,
        debug: false,
        nfd: 0,
        oom_kill_disable: false,
        ngoroutines: 0,
        system_time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
        logging_driver: "rswarm",
        cgroup_driver: "none",
        cgroup_version: host.cgroup_version,
        nevents_listener: 0,
        kernel_version: host.kernel_version,
        operating_system: host.operating_system,
        os_version: host.os_version,
        os_type: "linux",
        architecture: host.architecture,
        index_server_address: "https://index.docker.io/v1/",
        registry_config: None,
        ncpu: host.ncpu,
        mem_total: host.mem_total,
        docker_root_dir: info.data_root.clone(),
        http_proxy: "",
        https_proxy: "",
        no_proxy: "",
        name: info.hostname.clone(),
        labels: Vec::new(),
        experimental_build: false,
        server_version: SERVER_VERSION,
        runtimes,
        default_runtime: runtime,
        swarm: SwarmInfo::from_info(&info),
        live_restore_enabled: false,
        isolation: "",
        init_binary: "",
        containerd_commit: commit(),
        runc_commit: commit(),
        init_commit: commit(),
        security_options: Vec::new(),
        cdi_spec_dirs: Vec::new(),
        warnings: Vec::new(),
    })
    .into_response()
}
