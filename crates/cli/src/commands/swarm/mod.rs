//! `swarm init|join|join-token|leave|update|unlock-key|inspect`, and
//! rswarm's own `swarm backup` / `swarm restore`.

use std::io::Write;

use clap::{Args, Subcommand};
use rswarm_types::{JoinTokens, SwarmSpec, Version};
use serde::Deserialize;

mod backup;
mod init;
mod update;

use super::inspect;
use crate::client::{Client, seg};
use crate::error::{CliError, Result};
use crate::opts::parse_go_duration;
use crate::output::Output;

pub(crate) const DEFAULT_LISTEN_ADDR: &str = "0.0.0.0:2377";

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
    /// Write an online backup of the swarm's state to a file (rswarm only)
    Backup(BackupArgs),
    /// Create a data root from a backup file, offline (rswarm only)
    Restore(RestoreArgs),
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

/// `swarm backup`
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// File to write the backup to (owner-only: it holds the CA key)
    pub file: String,
}

/// `swarm restore` (offline: run by the `rswarm` binary on a data root
/// no daemon uses; see `rswarm_daemon::restore`)
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// Backup file written by `swarm backup`
    pub file: String,
    /// Data root to create (must hold no swarm state)
    #[arg(long)]
    pub data_root: String,
    /// Listen address (format: "<ip|interface>[:port]"; default: the address of the manager the backup came from)
    #[arg(long)]
    pub listen_addr: Option<String>,
    /// Advertised address (format: "<ip|interface>[:port]"; default: the listen address)
    #[arg(long)]
    pub advertise_addr: Option<String>,
}

/// `GET /swarm` as the CLI reads it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SwarmObj {
    #[serde(default)]
    pub(crate) version: Version,
    #[serde(default)]
    pub(crate) spec: SwarmSpec,
    #[serde(default)]
    pub(crate) join_tokens: JoinTokens,
}

/// Runs a swarm subcommand.
pub async fn run(client: &Client, cmd: SwarmCmd, io: &mut Output) -> Result<()> {
    match cmd {
        SwarmCmd::Init(a) => init::init(client, a, io).await,
        SwarmCmd::Join(a) => init::join(client, a, io).await,
        SwarmCmd::JoinToken(a) => update::join_token(client, a, io).await,
        SwarmCmd::Leave(a) => {
            client
                .post_empty(if a.force {
                    "/swarm/leave?force=1"
                } else {
                    "/swarm/leave"
                })
                .await?;
            writeln!(io.out, "Node left the swarm.")?;
            Ok(())
        }
        SwarmCmd::Update(a) => update::update(client, a, io).await,
        SwarmCmd::UnlockKey(a) => update::unlock_key(client, a, io).await,
        SwarmCmd::Inspect(a) => {
            let raw = client.get_raw("/swarm").await?;
            let v = inspect::parse_val(&raw)?;
            let mut ins = inspect::Inspector::new(&a.format)?;
            ins.add(v)?;
            ins.flush(&mut io.out)
        }
        SwarmCmd::Backup(a) => backup::backup(client, a, io).await,
        SwarmCmd::Restore(_) => Err(CliError::msg(
            "swarm restore works on a data root without a daemon: run it with the rswarm binary",
        )),
    }
}

pub(crate) fn availability(v: &Option<String>) -> Result<String> {
    match v {
        None => Ok(String::new()),
        Some(a) => {
            let l = a.to_lowercase();
            if ["active", "pause", "drain"].contains(&l.as_str()) {
                Ok(l)
            } else {
                Err(CliError::msg(format!(
                    "invalid availability \"{a}\", only active, pause and drain are supported"
                )))
            }
        }
    }
}

pub(crate) fn update_query(version: u64, worker: bool, manager: bool, unlock: bool) -> String {
    format!(
        "/swarm/update?rotateManagerToken={manager}&rotateManagerUnlockKey={unlock}&rotateWorkerToken={worker}&version={version}"
    )
}

pub(crate) async fn print_join_command(
    client: &Client,
    node_id: &str,
    worker: bool,
    manager: bool,
    io: &mut Output,
) -> Result<()> {
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

pub(crate) fn print_unlock_command(key: &str, io: &mut Output) -> Result<()> {
    if !key.is_empty() {
        write!(
            io.out,
            "To unlock a swarm manager after it restarts, run the `rswarm swarm unlock`\ncommand and provide the following key:\n\n    {key}\n\nRemember to store this key in a password manager, since without it you\nwill not be able to restart the manager.\n"
        )?;
    }
    Ok(())
}

pub(crate) async fn unlock_key_value(client: &Client) -> Result<String> {
    #[derive(Deserialize)]
    struct Key {
        #[serde(rename = "UnlockKey", default)]
        unlock_key: String,
    }
    let k: Key = client.get("/swarm/unlockkey").await?;
    Ok(k.unlock_key)
}

pub use init::{init_request, init_spec};
pub use update::merge_spec;
