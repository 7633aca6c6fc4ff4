//! The cluster object: the swarm's spec, its root CA and join tokens.
//!
//! The root CA key lives here, inside the store, as in swarmkit; the
//! Engine API layer must redact it (see [`Cluster::ca_key_pem`]).

use serde::{Deserialize, Serialize};

use crate::{Driver, Labels, Meta, Nanos};

/// The cluster object (one per swarm, named `default`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Cluster {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(flatten)]
    pub meta: Meta,
    pub spec: SwarmSpec,
    /// PEM of the root CA certificate (the trust root).
    pub ca_cert_pem: String,
    /// PEM of the root CA private key. Never leaves the managers.
    pub ca_key_pem: String,
    pub join_tokens: JoinTokens,
    pub default_addr_pool: Vec<String>,
    pub subnet_size: u32,
    pub data_path_port: u32,
    /// The key of encrypted overlay networks (swarmkit's
    /// `NetworkBootstrapKeys`): made by the leader when the first
    /// encrypted network is created, replaced at every rotation. It leaves
    /// the managers only inside the network maps of nodes that carry an
    /// encrypted network (over mutual TLS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_key: Option<crate::NetworkKey>,
}

/// Worker and manager join tokens.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct JoinTokens {
    pub worker: String,
    pub manager: String,
}

/// The user-settable swarm configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SwarmSpec {
    #[serde(default)]
    pub name: String,
    #[serde(default, deserialize_with = "crate::meta::nullable")]
    pub labels: Labels,
    #[serde(default)]
    pub orchestration: OrchestrationConfig,
    #[serde(default)]
    pub raft: RaftConfig,
    #[serde(default)]
    pub dispatcher: DispatcherConfig,
    #[serde(rename = "CAConfig", default)]
    pub ca_config: CaConfig,
    #[serde(default)]
    pub task_defaults: TaskDefaults,
    #[serde(default)]
    pub encryption_config: EncryptionConfig,
}

/// Defaults for every task of the swarm.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TaskDefaults {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_driver: Option<Driver>,
}

/// Orchestration settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrchestrationConfig {
    /// Tasks kept per slot, the running one included; negative keeps all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_history_retention_limit: Option<i64>,
}

/// Raft settings (informational, as in Swarm).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RaftConfig {
    #[serde(default)]
    pub snapshot_interval: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_old_snapshots: Option<u64>,
    #[serde(default)]
    pub log_entries_for_slow_followers: u64,
    #[serde(default)]
    pub election_tick: i64,
    #[serde(default)]
    pub heartbeat_tick: i64,
}

/// Dispatcher settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DispatcherConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_period: Option<Nanos>,
}

/// CA settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CaConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_cert_expiry: Option<Nanos>,
    #[serde(
        rename = "ExternalCAs",
        default,
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub external_cas: Vec<ExternalCa>,
    #[serde(
        rename = "SigningCACert",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub signing_ca_cert: String,
    #[serde(
        rename = "SigningCAKey",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub signing_ca_key: String,
    #[serde(default, skip_serializing_if = "crate::meta::is_zero")]
    pub force_rotate: u64,
}

/// An external CA that signs node certificates (`--external-ca`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExternalCa {
    /// Only `cfssl`.
    pub protocol: String,
    #[serde(rename = "URL")]
    pub url: String,
    #[serde(
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Labels::is_empty"
    )]
    pub options: Labels,
    #[serde(rename = "CACert")]
    pub ca_cert: String,
}

/// Encryption settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptionConfig {
    #[serde(default)]
    pub auto_lock_managers: bool,
}

/// Default task history retention (5 per slot).
pub const DEFAULT_TASK_HISTORY: i64 = 5;
/// Default node certificate expiry (90 days).
pub const DEFAULT_NODE_CERT_EXPIRY: Nanos = 90 * 24 * 3600 * crate::SECOND;

impl SwarmSpec {
    /// Fills zero or missing fields with Swarm's defaults.
    pub fn fill_defaults(&mut self) {
        if self.name.is_empty() {
            self.name = "default".into();
        }
        if self.orchestration.task_history_retention_limit.is_none() {
            self.orchestration.task_history_retention_limit = Some(DEFAULT_TASK_HISTORY);
        }
        let r = &mut self.raft;
        if r.snapshot_interval == 0 {
            r.snapshot_interval = 10_000;
        }
        if r.keep_old_snapshots.is_none() {
            r.keep_old_snapshots = Some(0);
        }
        if r.log_entries_for_slow_followers == 0 {
            r.log_entries_for_slow_followers = 500;
        }
        if r.election_tick == 0 {
            r.election_tick = 10;
        }
        if r.heartbeat_tick == 0 {
            r.heartbeat_tick = 1;
        }
        if self.dispatcher.heartbeat_period.unwrap_or(0) == 0 {
            self.dispatcher.heartbeat_period = Some(crate::DEFAULT_HEARTBEAT_PERIOD);
        }
        if self.ca_config.node_cert_expiry.unwrap_or(0) == 0 {
            self.ca_config.node_cert_expiry = Some(DEFAULT_NODE_CERT_EXPIRY);
        }
    }

    /// The task history retention limit with its default.
    pub fn task_history_limit(&self) -> i64 {
        self.orchestration
            .task_history_retention_limit
            .unwrap_or(DEFAULT_TASK_HISTORY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_swarmkit() {
        let mut s = SwarmSpec::default();
        s.fill_defaults();
        let j = serde_json::to_value(&s).expect("json");
        assert_eq!(j["Name"], "default");
        assert_eq!(j["Orchestration"]["TaskHistoryRetentionLimit"], 5);
        assert_eq!(j["Raft"]["SnapshotInterval"], 10000);
        assert_eq!(j["Dispatcher"]["HeartbeatPeriod"], 5_000_000_000_i64);
        assert_eq!(j["CAConfig"]["NodeCertExpiry"], 7_776_000_000_000_000_i64);
    }
}
