//! `swarm init|join|join-token|leave|update|unlock-key|inspect`.

use std::io::Write;

use clap::{Args, Subcommand};
use rswarm_types::{JoinTokens, SwarmSpec, Version};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{info, inspect};
use crate::client::{Client, seg};
use crate::error::{CliError, Result};
use crate::opts::{parse_go_duration, parse_node_addr};
use crate::output::Output;

const DEFAULT_LISTEN_ADDR: &str = "0.0.0.0:2377";

/// `rswarm swarm ...`
#[derive(Debug, Subcommand)]
pub enum SwarmCmd {
    /// Initialize a swarm
    Init(InitArgs),
    /// Join a swarm as a node and/or manager
    Join(JoinArgs),
    /// Manage join tokens
    JoinToken(JoinTokenArgs),
    /// Leave the swarm
    Leave(LeaveArgs),
    /// Update the swarm
    Update(UpdateArgs),
    /// Manage the unlock key
    UnlockKey(UnlockKeyArgs),
    /// Display the swarm object (GET /swarm)
    Inspect(InspectArgs),
}

/// Flags shared by `init` and `update`.
#[derive(Debug, Default, Args)]
pub struct SwarmFlags {
    /// Task history retention limit
    #[arg(long)]
    pub task_history_limit: Option<i64>,
    /// Dispatcher heartbeat period (ns|us|ms|s|m|h)
    #[arg(long, value_parser = parse_go_duration)]
    pub dispatcher_heartbeat: Option<i64>,
    /// Validity period for node certificates (ns|us|ms|s|m|h)
    #[arg(long, value_parser = parse_go_duration)]
    pub cert_expiry: Option<i64>,
    /// Number of additional Raft snapshots to retain
    #[arg(long)]
    pub max_snapshots: Option<u64>,
    /// Number of log entries between Raft snapshots
    #[arg(long)]
    pub snapshot_interval: Option<u64>,
}

/// `swarm init`
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Advertised address (format: "<ip|interface>[:port]")
    #[arg(long, default_value = "")]
    pub advertise_addr: String,
    /// Listen address (format: "<ip|interface>[:port]")
    #[arg(long, default_value = DEFAULT_LISTEN_ADDR)]
    pub listen_addr: String,
    /// Address or interface to use for data path traffic
    #[arg(long, default_value = "")]
    pub data_path_addr: String,
    /// Port number to use for data path traffic (1024 - 49151)
    #[arg(long, default_value_t = 0)]
    pub data_path_port: u32,
    /// Force create a new cluster from current state
    #[arg(long)]
    pub force_new_cluster: bool,
    /// Enable manager autolocking
    #[arg(long)]
    pub autolock: bool,
    /// Availability of the node ("active", "pause", "drain")
    #[arg(long)]
    pub availability: Option<String>,
    /// Default address pool in CIDR format
    #[arg(long, value_delimiter = ',')]
    pub default_addr_pool: Vec<String>,
    /// Default address pool subnet mask length
    #[arg(long, default_value_t = 24)]
    pub default_addr_pool_mask_length: u32,
    #[command(flatten)]
    pub swarm: SwarmFlags,
}

/// `swarm join`
#[derive(Debug, Args)]
pub struct JoinArgs {
    /// Token for entry into the swarm
    #[arg(long, default_value = "")]
    pub token: String,
    /// Listen address (format: "<ip|interface>[:port]")
    #[arg(long, default_value = DEFAULT_LISTEN_ADDR)]
    pub listen_addr: String,
    /// Advertised address (format: "<ip|interface>[:port]")
    #[arg(long, default_value = "")]
    pub advertise_addr: String,
    /// Address or interface to use for data path traffic
    #[arg(long, default_value = "")]
    pub data_path_addr: String,
    /// Availability of the node ("active", "pause", "drain")
    #[arg(long)]
    pub availability: Option<String>,
    /// HOST:PORT of a manager
    pub remote: String,
}

/// `swarm join-token`
#[derive(Debug, Args)]
pub struct JoinTokenArgs {
    /// Rotate join token
    #[arg(long)]
    pub rotate: bool,
    /// Only display token
    #[arg(short, long)]
    pub quiet: bool,
    /// worker or manager
    pub role: String,
}

/// `swarm leave`
#[derive(Debug, Args)]
pub struct LeaveArgs {
    /// Force this node to leave the swarm, ignoring warnings
    #[arg(short, long)]
    pub force: bool,
}

/// `swarm update`
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Change manager autolocking setting (true|false)
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub autolock: Option<bool>,
    #[command(flatten)]
    pub swarm: SwarmFlags,
}

/// `swarm unlock-key`
#[derive(Debug, Args)]
pub struct UnlockKeyArgs {
    /// Rotate unlock key
    #[arg(long)]
    pub rotate: bool,
    /// Only display token
    #[arg(short, long)]
    pub quiet: bool,
}

/// `swarm inspect`
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Format output using a custom template
    #[arg(short, long, default_value = "")]
    pub format: String,
}

/// `GET /swarm` as the CLI reads it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SwarmObj {
    #[serde(default)]
    version: Version,
    #[serde(default)]
    spec: SwarmSpec,
    #[serde(default)]
    join_tokens: JoinTokens,
}

/// Runs a swarm subcommand.
pub async fn run(client: &Client, cmd: SwarmCmd, io: &mut Output) -> Result<()> {
    match cmd {
        SwarmCmd::Init(a) => init(client, a, io).await,
        SwarmCmd::Join(a) => join(client, a, io).await,
        SwarmCmd::JoinToken(a) => join_token(client, a, io).await,
        SwarmCmd::Leave(a) => {
            client.post_empty(if a.force { "/swarm/leave?force=1" } else { "/swarm/leave" }).await?;
            writeln!(io.out, "Node left the swarm.")?;
            Ok(())
        }
        SwarmCmd::Update(a) => update(client, a, io).await,
        SwarmCmd::UnlockKey(a) => unlock_key(client, a, io).await,
        SwarmCmd::Inspect(a) => {
            let raw = client.get_raw("/swarm").await?;
            let v = inspect::parse_val(&raw)?;
            let mut ins = inspect::Inspector::new(&a.format)?;
            ins.add(v)?;
            ins.flush(&mut io.out)
        }
    }
}

fn availability(v: &Option<String>) -> Result<String> {
    match v {
        None => Ok(String::new()),
        Some(a) => {
            let l = a.to_lowercase();
            if ["active", "pause", "drain"].contains(&l.as_str()) {
                Ok(l)
            } else {
                Err(CliError::msg(format!("invalid availability \"{a}\", only active, pause and drain are supported")))
            }
        }
    }
}

/// The `Spec` of `POST /swarm/init` as docker builds it: Go's zero spec
/// with only the given flags set.
pub fn init_spec(f: &SwarmFlags, autolock: bool) -> Value {
    let mut orch = Map::new();
    if let Some(n) = f.task_history_limit {
        orch.insert("TaskHistoryRetentionLimit".into(), json!(n));
    }
    let mut raft = Map::new();
    if let Some(n) = f.snapshot_interval.filter(|n| *n != 0) {
        raft.insert("SnapshotInterval".into(), json!(n));
    }
    if let Some(n) = f.max_snapshots {
        raft.insert("KeepOldSnapshots".into(), json!(n));
    }
    raft.insert("ElectionTick".into(), json!(0));
    raft.insert("HeartbeatTick".into(), json!(0));
    let mut disp = Map::new();
    if let Some(d) = f.dispatcher_heartbeat.filter(|d| *d != 0) {
        disp.insert("HeartbeatPeriod".into(), json!(d));
    }
    let mut ca = Map::new();
    if let Some(d) = f.cert_expiry.filter(|d| *d != 0) {
        ca.insert("NodeCertExpiry".into(), json!(d));
    }
    json!({
        "Labels": null,
        "Orchestration": orch,
        "Raft": raft,
        "Dispatcher": disp,
        "CAConfig": ca,
        "TaskDefaults": {},
        "EncryptionConfig": {"AutoLockManagers": autolock},
    })
}

/// The body of `POST /swarm/init`.
pub fn init_request(a: &InitArgs) -> Result<Value> {
    let listen = parse_node_addr(&a.listen_addr, DEFAULT_LISTEN_ADDR).map_err(CliError::Msg)?;
    for pool in &a.default_addr_pool {
        let ok = pool.split_once('/').is_some_and(|(ip, bits)| {
            ip.parse::<std::net::IpAddr>().is_ok() && bits.parse::<u8>().is_ok_and(|b| b <= 128)
        });
        if !ok {
            return Err(CliError::msg(format!("invalid argument \"{pool}\" for \"--default-addr-pool\" flag: invalid CIDR address: {pool}")));
        }
    }
    Ok(json!({
        "ListenAddr": listen,
        "AdvertiseAddr": a.advertise_addr,
        "DataPathAddr": a.data_path_addr,
        "DataPathPort": a.data_path_port,
        "ForceNewCluster": a.force_new_cluster,
        "Spec": init_spec(&a.swarm, a.autolock),
        "AutoLockManagers": a.autolock,
        "Availability": availability(&a.availability)?,
        "DefaultAddrPool": a.default_addr_pool,
        "SubnetSize": a.default_addr_pool_mask_length,
    }))
}

async fn init(client: &Client, a: InitArgs, io: &mut Output) -> Result<()> {
    let req = init_request(&a)?;
    let node_id: String = match client.post("/swarm/init", &req).await {
        Ok(body) => serde_json::from_slice(&body).map_err(|e| CliError::Decode(e.to_string()))?,
        Err(e) => {
            let s = e.to_string();
            if s.contains("could not choose an IP address to advertise") || s.contains("could not find the system's IP address") {
                return Err(CliError::msg(format!("{s} - specify one with --advertise-addr")));
            }
            return Err(e);
        }
    };
    write!(io.out, "Swarm initialized: current node ({node_id}) is now a manager.\n\n")?;
    print_join_command(client, &node_id, true, false, io).await?;
    writeln!(io.out, "To add a manager to this swarm, run 'rswarm swarm join-token manager' and follow the instructions.")?;
    if a.autolock {
        let key = unlock_key_value(client).await.map_err(|e| CliError::msg(format!("could not fetch unlock key: {e}")))?;
        print_unlock_command(&key, io)?;
    }
    Ok(())
}

async fn join(client: &Client, a: JoinArgs, io: &mut Output) -> Result<()> {
    let req = json!({
        "ListenAddr": parse_node_addr(&a.listen_addr, DEFAULT_LISTEN_ADDR).map_err(CliError::Msg)?,
        "AdvertiseAddr": a.advertise_addr,
        "DataPathAddr": a.data_path_addr,
        "RemoteAddrs": [a.remote],
        "JoinToken": a.token,
        "Availability": availability(&a.availability)?,
    });
    client.post("/swarm/join", &req).await?;
    let info = info::get(client).await?;
    if info.swarm.control_available {
        writeln!(io.out, "This node joined a swarm as a manager.")?;
    } else {
        writeln!(io.out, "This node joined a swarm as a worker.")?;
    }
    Ok(())
}

fn update_query(version: u64, worker: bool, manager: bool, unlock: bool) -> String {
    format!(
        "/swarm/update?rotateManagerToken={manager}&rotateManagerUnlockKey={unlock}&rotateWorkerToken={worker}&version={version}"
    )
}

async fn join_token(client: &Client, a: JoinTokenArgs, io: &mut Output) -> Result<()> {
    let worker = a.role == "worker";
    let manager = a.role == "manager";
    if !worker && !manager {
        return Err(CliError::msg(format!("unknown role {}", a.role)));
    }
    if a.rotate {
        let sw: SwarmObj = client.get("/swarm").await?;
        client.post(&update_query(sw.version.index, worker, manager, false), &sw.spec).await?;
        if !a.quiet {
            write!(io.out, "Successfully rotated {} join token.\n\n", a.role)?;
        }
    }
    let sw: SwarmObj = client.get("/swarm").await?;
    if a.quiet {
        let token = if worker { sw.join_tokens.worker } else { sw.join_tokens.manager };
        writeln!(io.out, "{token}")?;
        return Ok(());
    }
    let info = info::get(client).await?;
    print_join_command(client, &info.swarm.node_id, worker, manager, io).await
}

async fn print_join_command(client: &Client, node_id: &str, worker: bool, manager: bool, io: &mut Output) -> Result<()> {
    if node_id.is_empty() {
        return Err(CliError::msg("Error: node ID is empty"));
    }
    let node: rswarm_types::Node = client.get(&format!("/nodes/{}", seg(node_id))).await?;
    let sw: SwarmObj = client.get("/swarm").await?;
    if let Some(ms) = &node.manager_status {
        if worker {
            write!(
                io.out,
                "To add a worker to this swarm, run the following command:\n\n    rswarm swarm join --token {} {}\n\n",
                sw.join_tokens.worker, ms.addr
            )?;
        }
        if manager {
            write!(
                io.out,
                "To add a manager to this swarm, run the following command:\n\n    rswarm swarm join --token {} {}\n\n",
                sw.join_tokens.manager, ms.addr
            )?;
        }
    }
    Ok(())
}

fn print_unlock_command(key: &str, io: &mut Output) -> Result<()> {
    if !key.is_empty() {
        write!(
            io.out,
            "To unlock a swarm manager after it restarts, run the `rswarm swarm unlock`\ncommand and provide the following key:\n\n    {key}\n\nRemember to store this key in a password manager, since without it you\nwill not be able to restart the manager.\n"
        )?;
    }
    Ok(())
}

async fn unlock_key_value(client: &Client) -> Result<String> {
    #[derive(Deserialize)]
    struct Key {
        #[serde(rename = "UnlockKey", default)]
        unlock_key: String,
    }
    let k: Key = client.get("/swarm/unlockkey").await?;
    Ok(k.unlock_key)
}

/// Applies `swarm update` flags to a spec (docker's `mergeSwarmSpec`).
pub fn merge_spec(spec: &mut SwarmSpec, f: &SwarmFlags, autolock: Option<bool>) {
    if let Some(n) = f.task_history_limit {
        spec.orchestration.task_history_retention_limit = Some(n);
    }
    if let Some(d) = f.dispatcher_heartbeat {
        spec.dispatcher.heartbeat_period = Some(d);
    }
    if let Some(n) = f.max_snapshots {
        spec.raft.keep_old_snapshots = Some(n);
    }
    if let Some(n) = f.snapshot_interval {
        spec.raft.snapshot_interval = n;
    }
    if let Some(b) = autolock {
        spec.encryption_config.auto_lock_managers = b;
    }
    if let Some(d) = f.cert_expiry {
        spec.ca_config.node_cert_expiry = Some(d);
    }
}

async fn update(client: &Client, a: UpdateArgs, io: &mut Output) -> Result<()> {
    let f = &a.swarm;
    let any = a.autolock.is_some()
        || f.task_history_limit.is_some()
        || f.dispatcher_heartbeat.is_some()
        || f.cert_expiry.is_some()
        || f.max_snapshots.is_some()
        || f.snapshot_interval.is_some();
    if !any {
        writeln!(io.out, "Usage:  rswarm swarm update [OPTIONS]\n\nUpdate the swarm")?;
        return Ok(());
    }
    let mut sw: SwarmObj = client.get("/swarm").await?;
    let prev = sw.spec.encryption_config.auto_lock_managers;
    merge_spec(&mut sw.spec, f, a.autolock);
    let cur = sw.spec.encryption_config.auto_lock_managers;
    client.post(&update_query(sw.version.index, false, false, false), &sw.spec).await?;
    writeln!(io.out, "Swarm updated.")?;
    if cur && !prev {
        let key = unlock_key_value(client).await.map_err(|e| CliError::msg(format!("could not fetch unlock key: {e}")))?;
        print_unlock_command(&key, io)?;
    }
    Ok(())
}

async fn unlock_key(client: &Client, a: UnlockKeyArgs, io: &mut Output) -> Result<()> {
    if a.rotate {
        let sw: SwarmObj = client.get("/swarm").await?;
        if !sw.spec.encryption_config.auto_lock_managers {
            return Err(CliError::msg("cannot rotate because autolock is not turned on"));
        }
        client.post(&update_query(sw.version.index, false, false, true), &sw.spec).await?;
        if !a.quiet {
            write!(io.out, "Successfully rotated manager unlock key.\n\n")?;
        }
    }
    let key = unlock_key_value(client).await?;
    if key.is_empty() {
        return Err(CliError::msg("no unlock key is set"));
    }
    if a.quiet {
        writeln!(io.out, "{key}")?;
        return Ok(());
    }
    print_unlock_command(&key, io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_body_matches_docker() {
        let a = InitArgs {
            advertise_addr: "127.0.0.1".into(),
            listen_addr: DEFAULT_LISTEN_ADDR.into(),
            data_path_addr: String::new(),
            data_path_port: 0,
            force_new_cluster: false,
            autolock: false,
            availability: None,
            default_addr_pool: vec![],
            default_addr_pool_mask_length: 24,
            swarm: SwarmFlags { task_history_limit: Some(3), ..Default::default() },
        };
        let body = init_request(&a).expect("body");
        let docker: Value = serde_json::from_str(
            r#"{"ListenAddr":"0.0.0.0:2377","AdvertiseAddr":"127.0.0.1","DataPathAddr":"","DataPathPort":0,"ForceNewCluster":false,"Spec":{"Labels":null,"Orchestration":{"TaskHistoryRetentionLimit":3},"Raft":{"ElectionTick":0,"HeartbeatTick":0},"Dispatcher":{},"CAConfig":{},"TaskDefaults":{},"EncryptionConfig":{"AutoLockManagers":false}},"AutoLockManagers":false,"Availability":"","DefaultAddrPool":[],"SubnetSize":24}"#,
        )
        .expect("json");
        assert_eq!(body, docker);
    }

    #[test]
    fn update_merges_only_given_flags() {
        let mut spec = SwarmSpec::default();
        spec.fill_defaults();
        let before = spec.clone();
        let f = SwarmFlags { dispatcher_heartbeat: Some(10_000_000_000), ..Default::default() };
        merge_spec(&mut spec, &f, Some(true));
        assert_eq!(spec.dispatcher.heartbeat_period, Some(10_000_000_000));
        assert!(spec.encryption_config.auto_lock_managers);
        assert_eq!(spec.orchestration, before.orchestration);
        assert_eq!(spec.ca_config, before.ca_config);
    }
}
