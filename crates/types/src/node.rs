//! Nodes: the hosts of a swarm, their roles, availability and status.

use serde::{Deserialize, Serialize};

use crate::{Labels, Meta, Nanos};

/// A node object.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Node {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(flatten)]
    pub meta: Meta,
    pub spec: NodeSpec,
    #[serde(default)]
    pub description: NodeDescription,
    #[serde(default)]
    pub status: NodeStatus,
    /// Present only for managers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager_status: Option<ManagerStatus>,
    /// The role the node's certificate grants (internal; `Spec.Role` is the
    /// desired role).
    #[serde(default)]
    pub role: NodeRole,
    /// The node's own addresses on networks (internal; swarmkit's
    /// `Node.Attachments`): its routing-mesh endpoint on the ingress
    /// network, given by the managers when the node registers.
    #[serde(
        default,
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub attachments: Vec<crate::NetworkAttachment>,
}

/// What an operator sets on a node.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NodeSpec {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, deserialize_with = "crate::meta::nullable")]
    pub labels: Labels,
    #[serde(default)]
    pub role: NodeRole,
    #[serde(default)]
    pub availability: Availability,
}

/// Worker or manager.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeRole {
    /// Runs tasks only.
    #[default]
    Worker,
    /// Also holds cluster state.
    Manager,
}

impl NodeRole {
    /// `worker` or `manager`.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeRole::Worker => "worker",
            NodeRole::Manager => "manager",
        }
    }
    /// The certificate OU for this role.
    pub fn ou(self) -> &'static str {
        match self {
            NodeRole::Worker => "swarm-worker",
            NodeRole::Manager => "swarm-manager",
        }
    }
}

/// Whether the scheduler may place tasks on a node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Availability {
    /// Schedulable.
    #[default]
    Active,
    /// No new tasks; existing ones stay.
    Pause,
    /// No tasks: existing ones move elsewhere.
    Drain,
}

impl Availability {
    /// `active`, `pause` or `drain`.
    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Active => "active",
            Availability::Pause => "pause",
            Availability::Drain => "drain",
        }
    }
}

/// Decodes a string enum as moby's node conversion does: any letter case,
/// and otherwise `invalid <Field>: "<value>"`.
macro_rules! lowercase_enum_de {
    ($ty:ident, $field:literal, [$($name:literal => $variant:ident),*]) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                match raw.to_lowercase().as_str() {
                    $($name => Ok($ty::$variant),)*
                    _ => Err(serde::de::Error::custom(format!(
                        concat!("invalid ", $field, ": {:?}"),
                        raw
                    ))),
                }
            }
        }
    };
}

lowercase_enum_de!(NodeRole, "Role", ["worker" => Worker, "manager" => Manager]);
lowercase_enum_de!(Availability, "Availability", ["active" => Active, "pause" => Pause, "drain" => Drain]);

/// What a node reports about itself.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NodeDescription {
    #[serde(default)]
    pub hostname: String,
    #[serde(default)]
    pub platform: crate::Platform,
    #[serde(default)]
    pub resources: crate::Resources,
    #[serde(default)]
    pub engine: EngineDescription,
    #[serde(rename = "TLSInfo", default, skip_serializing_if = "Option::is_none")]
    pub tls_info: Option<TlsInfo>,
}

/// The node's engine.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EngineDescription {
    #[serde(default)]
    pub engine_version: String,
    #[serde(
        default,
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Labels::is_empty"
    )]
    pub labels: Labels,
    #[serde(
        default,
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub plugins: Vec<serde_json::Value>,
}

/// The trust root and issuer of a node's certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TlsInfo {
    #[serde(default)]
    pub trust_root: String,
    /// Base64 of the issuer subject (DER).
    #[serde(default)]
    pub cert_issuer_subject: String,
    /// Base64 of the issuer public key (DER).
    #[serde(default)]
    pub cert_issuer_public_key: String,
}

/// Liveness of a node as the managers see it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeState {
    /// Not known yet (e.g. after a leader change).
    #[default]
    Unknown,
    /// Missed its heartbeats.
    Down,
    /// Connected and heartbeating.
    Ready,
    /// Its session was torn down.
    Disconnected,
}

impl NodeState {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeState::Unknown => "unknown",
            NodeState::Down => "down",
            NodeState::Ready => "ready",
            NodeState::Disconnected => "disconnected",
        }
    }
}

/// A node's observed status.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NodeStatus {
    #[serde(default)]
    pub state: NodeState,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(default)]
    pub addr: String,
}

/// Raft status of a manager node.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ManagerStatus {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub leader: bool,
    /// `unknown`, `unreachable` or `reachable`.
    #[serde(default)]
    pub reachability: String,
    #[serde(default)]
    pub addr: String,
}

/// Default dispatcher heartbeat period (5 s).
pub const DEFAULT_HEARTBEAT_PERIOD: Nanos = 5 * crate::SECOND;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_spec_round_trips_cli_body() {
        let body = r#"{"Labels":{"a":"b"},"Role":"worker","Availability":"drain"}"#;
        let spec: NodeSpec = serde_json::from_str(body).expect("parse");
        assert_eq!(spec.availability, Availability::Drain);
        assert_eq!(spec.labels.get("a").map(String::as_str), Some("b"));
        let bad = serde_json::from_str::<NodeSpec>(r#"{"Availability":"sleepy"}"#);
        assert!(bad.is_err());
    }
}
