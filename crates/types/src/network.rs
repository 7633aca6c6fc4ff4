//! Swarm networks (`docker network create -d overlay`) as the Engine API's
//! `swarm.Network` spells them, which is also how a task's
//! `NetworksAttachments` carry them; and the addresses the managers
//! allocate on them (a service's `VirtualIPs`, a task's attachments).
//!
//! The `/networks` endpoints show networks in another shape (moby's
//! `NetworkResource`); the Engine API converts.

use serde::{Deserialize, Serialize};

use crate::{Driver, Labels, Meta};

/// The driver option that carries an overlay's VXLAN ID, as Docker shows
/// it in `Options` and `DriverState`.
pub const VXLAN_ID_OPTION: &str = "com.docker.network.driver.overlay.vxlanid_list";

/// The driver option of an encrypted overlay (`--opt encrypted`).
pub const ENCRYPTED_OPTION: &str = "encrypted";

/// A swarm network.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Network {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(flatten)]
    pub meta: Meta,
    pub spec: NetworkSpec,
    /// The driver and the options the managers chose (the VXLAN ID).
    #[serde(default)]
    pub driver_state: Driver,
    /// The subnets and gateways allocated.
    #[serde(
        rename = "IPAMOptions",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ipam: Option<IpamOptions>,
}

impl Network {
    /// The VXLAN ID the managers gave the network (0 before allocation).
    pub fn vni(&self) -> u32 {
        self.driver_state
            .options
            .get(VXLAN_ID_OPTION)
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// Whether its traffic between nodes is encrypted
    /// (`docker network create --opt encrypted`).
    pub fn encrypted(&self) -> bool {
        self.spec
            .driver_configuration
            .as_ref()
            .is_some_and(|d| d.options.contains_key(ENCRYPTED_OPTION))
    }

    /// The first allocated pool: `(subnet, gateway)`.
    pub fn pool(&self) -> Option<(&str, &str)> {
        self.ipam
            .as_ref()
            .and_then(|i| i.configs.first())
            .map(|c| (c.subnet.as_str(), c.gateway.as_str()))
    }
}

/// What a user declares for a network.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkSpec {
    #[serde(default)]
    pub name: String,
    #[serde(default, deserialize_with = "crate::meta::nullable")]
    pub labels: Labels,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver_configuration: Option<Driver>,
    #[serde(rename = "IPv6Enabled", default)]
    pub ipv6_enabled: bool,
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub attachable: bool,
    #[serde(default)]
    pub ingress: bool,
    #[serde(
        rename = "IPAMOptions",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ipam: Option<IpamOptions>,
    #[serde(default)]
    pub scope: String,
}

/// IP address management: the driver and its pools.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IpamOptions {
    #[serde(default)]
    pub driver: Driver,
    #[serde(default, deserialize_with = "crate::meta::nullable")]
    pub configs: Vec<IpamConfig>,
}

/// One pool.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IpamConfig {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub subnet: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub range: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub gateway: String,
}

/// A service's address on one network (`Endpoint.VirtualIPs`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointVirtualIp {
    #[serde(rename = "NetworkID", default)]
    pub network_id: String,
    /// `ip/prefix`.
    #[serde(default)]
    pub addr: String,
}

/// A task's place on one network (`NetworksAttachments`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkAttachment {
    /// The network as it was when the address was given.
    pub network: Network,
    /// `ip/prefix`, one per address.
    #[serde(default, deserialize_with = "crate::meta::nullable")]
    pub addresses: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_json_round_trips() {
        let body = r#"{"ID":"n1","Version":{"Index":3},"CreatedAt":"2026-01-01T00:00:00Z","UpdatedAt":"2026-01-01T00:00:00Z",
            "Spec":{"Name":"web","Labels":{"a":"b"},"DriverConfiguration":{"Name":"overlay"},"IPv6Enabled":false,
                    "Internal":true,"Attachable":true,"Ingress":false,
                    "IPAMOptions":{"Driver":{"Name":"default"},"Configs":[{"Subnet":"10.9.0.0/24"}]},"Scope":"swarm"},
            "DriverState":{"Name":"overlay","Options":{"com.docker.network.driver.overlay.vxlanid_list":"4097"}},
            "IPAMOptions":{"Driver":{"Name":"default"},"Configs":[{"Subnet":"10.9.0.0/24","Gateway":"10.9.0.1"}]}}"#;
        let n: Network = serde_json::from_str(body).expect("decode");
        assert_eq!(n.vni(), 4097);
        assert_eq!(n.pool(), Some(("10.9.0.0/24", "10.9.0.1")));
        assert!(n.spec.internal && n.spec.attachable);
        let again: Network =
            serde_json::from_value(serde_json::to_value(&n).expect("encode")).expect("decode");
        assert_eq!(again, n);
    }
}
