//! `ContainerSpec`: the process (or container) every task of a service
//! runs, with every field of the Engine API's `swarm.ContainerSpec`.
//!
//! Each field carries Docker's `omitempty` behaviour on the way out, so a
//! spec reads back exactly as Docker would print it. Fields an executor
//! does not apply yet are still typed and stored: a spec round-trips
//! unchanged through `service update`.

use serde::{Deserialize, Serialize};

use crate::mount::Mount;
use crate::{Labels, Nanos};

/// The process a task runs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerSpec {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub image: String,
    #[serde(
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Labels::is_empty"
    )]
    pub labels: Labels,
    #[serde(
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub command: Vec<String>,
    #[serde(
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub args: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub hostname: String,
    #[serde(
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub env: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub dir: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub user: String,
    #[serde(
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub groups: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub privileges: Option<Privileges>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init: Option<bool>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub stop_signal: String,
    #[serde(rename = "TTY", skip_serializing_if = "crate::meta::is_zero")]
    pub tty: bool,
    #[serde(skip_serializing_if = "crate::meta::is_zero")]
    pub open_stdin: bool,
    #[serde(skip_serializing_if = "crate::meta::is_zero")]
    pub read_only: bool,
    #[serde(
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub mounts: Vec<Mount>,
    /// Time to wait after the stop signal before killing; default 10 s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_grace_period: Option<Nanos>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<HealthConfig>,
    #[serde(
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub hosts: Vec<String>,
    #[serde(rename = "DNSConfig", skip_serializing_if = "Option::is_none")]
    pub dns_config: Option<DnsConfig>,
    #[serde(
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub secrets: Vec<SecretReference>,
    #[serde(
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub configs: Vec<ConfigReference>,
    /// `default`, `process` or `hyperv`; Docker reports `default`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub isolation: String,
    #[serde(
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Labels::is_empty"
    )]
    pub sysctls: Labels,
    #[serde(
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub capability_add: Vec<String>,
    #[serde(
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub capability_drop: Vec<String>,
    #[serde(
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ulimits: Vec<Ulimit>,
    #[serde(skip_serializing_if = "crate::meta::is_zero")]
    pub oom_score_adj: i64,
}

/// Security options of a container.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Privileges {
    pub credential_spec: Option<CredentialSpec>,
    #[serde(rename = "SELinuxContext")]
    pub selinux_context: Option<SeLinuxContext>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seccomp: Option<SeccompOpts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_armor: Option<AppArmorOpts>,
    pub no_new_privileges: bool,
}

/// A Windows managed service account.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CredentialSpec {
    pub config: String,
    pub file: String,
    pub registry: String,
}

/// SELinux labels.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SeLinuxContext {
    pub disable: bool,
    pub user: String,
    pub role: String,
    #[serde(rename = "Type")]
    pub kind: String,
    pub level: String,
}

/// Seccomp mode and profile (`Profile` is base64 JSON, as Go's `[]byte`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SeccompOpts {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub mode: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub profile: String,
}

/// AppArmor mode.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AppArmorOpts {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub mode: String,
}

/// A health check (durations in nanoseconds).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HealthConfig {
    #[serde(
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub test: Vec<String>,
    #[serde(skip_serializing_if = "crate::meta::is_zero")]
    pub interval: Nanos,
    #[serde(skip_serializing_if = "crate::meta::is_zero")]
    pub timeout: Nanos,
    #[serde(skip_serializing_if = "crate::meta::is_zero")]
    pub start_period: Nanos,
    #[serde(skip_serializing_if = "crate::meta::is_zero")]
    pub start_interval: Nanos,
    #[serde(skip_serializing_if = "crate::meta::is_zero")]
    pub retries: i64,
}

/// resolv.conf settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DnsConfig {
    #[serde(
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub nameservers: Vec<String>,
    #[serde(
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub search: Vec<String>,
    #[serde(
        deserialize_with = "crate::meta::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub options: Vec<String>,
}

/// A secret given to a task as a file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SecretReference {
    pub file: Option<FileTarget>,
    #[serde(rename = "SecretID")]
    pub secret_id: String,
    pub secret_name: String,
}

/// A config given to a task as a file (or a runtime object).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ConfigReference {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<FileTarget>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<crate::EmptyObject>,
    #[serde(rename = "ConfigID")]
    pub config_id: String,
    pub config_name: String,
}

/// Where a secret or config file appears in the task, and as whom.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct FileTarget {
    pub name: String,
    #[serde(rename = "UID")]
    pub uid: String,
    #[serde(rename = "GID")]
    pub gid: String,
    /// `os.FileMode`: permission bits as a number.
    pub mode: u32,
}

/// A resource limit (`ulimit`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Ulimit {
    pub name: String,
    pub hard: i64,
    pub soft: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn omits_empty_fields_like_docker() {
        let c = ContainerSpec {
            image: "busybox:latest".into(),
            init: Some(false),
            dns_config: Some(DnsConfig::default()),
            ..Default::default()
        };
        let j = serde_json::to_value(&c).expect("json");
        assert_eq!(
            j,
            serde_json::json!({"Image":"busybox:latest","Init":false,"DNSConfig":{}})
        );
    }

    #[test]
    fn every_field_round_trips() {
        let body = serde_json::json!({
            "Image":"b","Labels":{"a":"1"},"Command":["sh"],"Args":["-c","x"],
            "Hostname":"h","Env":["A=1"],"Dir":"/","User":"1","Groups":["g"],
            "Privileges":{"CredentialSpec":null,"SELinuxContext":{"Disable":false,"User":"u","Role":"r","Type":"t","Level":"l"},"NoNewPrivileges":true},
            "Init":true,"StopSignal":"SIGINT","TTY":true,"OpenStdin":true,"ReadOnly":true,
            "Mounts":[{"Type":"bind","Source":"/a","Target":"/b","ReadOnly":true}],
            "StopGracePeriod":1,"Healthcheck":{"Test":["CMD","true"],"Interval":2,"Retries":3},
            "Hosts":["1.2.3.4 x"],"DNSConfig":{"Nameservers":["8.8.8.8"]},
            "Secrets":[{"File":{"Name":"s","UID":"0","GID":"0","Mode":292},"SecretID":"i","SecretName":"s"}],
            "Configs":[{"Runtime":{},"ConfigID":"c","ConfigName":"c"}],
            "Isolation":"default","Sysctls":{"net.x":"1"},"CapabilityAdd":["CAP_NET_ADMIN"],
            "CapabilityDrop":["CAP_CHOWN"],"Ulimits":[{"Name":"nofile","Hard":2,"Soft":1}],"OomScoreAdj":5
        });
        let c: ContainerSpec = serde_json::from_value(body.clone()).expect("parse");
        assert_eq!(serde_json::to_value(&c).expect("json"), body);
    }
}
