//! `GET /info` (spec §1.3): host facts plus the swarm section, with every
//! field in the JSON type Go decodes it into (one mismatch fails the CLI).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::Shared;
use crate::SERVER_VERSION;
use crate::backend::{LocalNodeState, NodeInfo};
use crate::cluster_info::ClusterInfo;
use crate::host::HostFacts;

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
    /// `null` outside a swarm, as in Docker.
    remote_managers: Option<Vec<Peer>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nodes: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    managers: Option<usize>,
    cluster: Option<ClusterInfo>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
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
            remote_managers: (!info.remote_managers.is_empty()).then(|| {
                info.remote_managers
                    .iter()
                    .map(|(id, addr)| Peer {
                        node_id: id.clone(),
                        addr: addr.clone(),
                    })
                    .collect()
            }),
            nodes: manager.then_some(info.nodes),
            managers: manager.then_some(info.managers),
            cluster: if manager {
                info.cluster.as_ref().map(ClusterInfo::from_cluster)
            } else {
                None
            },
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
    bridge_nf_iptables: bool,
    #[serde(rename = "BridgeNfIp6tables")]
    bridge_nf_ip6tables: bool,
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
    Commit {
        id: "n/a",
        expected: "n/a",
    }
}

/// `GET /info`.
pub(super) async fn info(State(backend): State<Shared>) -> Response {
    let info = backend.info().await;
    let host = HostFacts::read();
    let runtime = if info.runtime.is_empty() {
        "process".to_string()
    } else {
        info.runtime.clone()
    };
    let runtimes = [(
        runtime.clone(),
        RuntimeInfo {
            path: format!("rswarm-{runtime}"),
        },
    )]
    .into_iter()
    .collect();
    Json(InfoResponse {
        id: if info.node_id.is_empty() {
            info.hostname.clone()
        } else {
            info.node_id.clone()
        },
        containers: 0,
        containers_running: 0,
        containers_paused: 0,
        containers_stopped: 0,
        images: 0,
        driver: "rswarm",
        driver_status: Vec::new(),
        plugins: Plugins::default(),
        memory_limit: host.cgroups.memory,
        swap_limit: host.cgroups.swap,
        cpu_cfs_period: host.cgroups.cpu_cfs,
        cpu_cfs_quota: host.cgroups.cpu_cfs,
        cpu_shares: host.cgroups.cpu_shares,
        cpu_set: host.cgroups.cpuset,
        pids_limit: host.cgroups.pids,
        ipv4_forwarding: host.ipv4_forwarding,
        bridge_nf_iptables: host.bridge_nf_iptables,
        bridge_nf_ip6tables: host.bridge_nf_ip6tables,
        debug: false,
        nfd: 0,
        oom_kill_disable: host.cgroups.oom_kill_disable,
        ngoroutines: 0,
        system_time: rswarm_types::go_time::format(&chrono::Utc::now()),
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
