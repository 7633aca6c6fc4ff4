//! Networks as the `/networks` endpoints speak them: moby's
//! `NetworkCreateRequest` in, `NetworkResource` out (what moby's
//! `BasicNetworkFromGRPC` makes of a swarm network).

use rswarm_types::meta::go_time;
use rswarm_types::{ControlError, Driver, IpamConfig, IpamOptions, Labels, Network, NetworkSpec};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::resolve::Named;

impl Named for Network {
    const KIND: &'static str = "network";
    fn id(&self) -> &str {
        &self.id
    }
    fn name(&self) -> String {
        self.spec.name.clone()
    }
}

/// `POST /networks/create`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkCreateRequest {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub check_duplicate: bool,
    #[serde(default)]
    pub driver: String,
    #[serde(default)]
    pub scope: String,
    #[serde(rename = "EnableIPv6", default)]
    pub enable_ipv6: bool,
    #[serde(rename = "IPAM", default)]
    pub ipam: Option<Ipam>,
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub attachable: bool,
    #[serde(default)]
    pub ingress: bool,
    #[serde(default)]
    pub config_only: bool,
    #[serde(default)]
    pub options: Labels,
    #[serde(default)]
    pub labels: Labels,
}

/// IPAM as the network endpoints spell it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ipam {
    #[serde(default)]
    pub driver: String,
    #[serde(default)]
    pub options: Labels,
    #[serde(default)]
    pub config: Vec<IpamPool>,
}

/// One pool of [`Ipam`].
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IpamPool {
    #[serde(default)]
    pub subnet: String,
    #[serde(rename = "IPRange", default)]
    pub ip_range: String,
    #[serde(default)]
    pub gateway: String,
    #[serde(default)]
    pub auxiliary_addresses: Labels,
}

/// Names Docker reserves for its local networks.
const PREDEFINED: &[&str] = &["bridge", "host", "none"];

/// The swarm network spec a create request asks for, or why rswarm
/// cannot make it.
pub fn spec_in(req: NetworkCreateRequest) -> Result<NetworkSpec, ControlError> {
    if req.name.is_empty() {
        return Err(ControlError::invalid("network name must not be empty"));
    }
    if PREDEFINED.contains(&req.name.as_str()) {
        return Err(ControlError::FailedPrecondition(format!(
            "{} is a pre-defined network and cannot be created",
            req.name
        )));
    }
    let driver = if req.driver.is_empty() {
        "bridge"
    } else {
        req.driver.as_str()
    };
    if driver != "overlay" {
        return Err(ControlError::NotImplemented(format!(
            "rswarm has no local networks (driver {driver:?}): create a swarm network with --driver overlay"
        )));
    }
    if req.enable_ipv6 {
        return Err(ControlError::NotImplemented(
            "IPv6 overlay networks are not supported yet in rswarm".into(),
        ));
    }
    let ipam = req.ipam.map(|i| IpamOptions {
        driver: Driver {
            name: if i.driver.is_empty() {
                "default".into()
            } else {
                i.driver
            },
            options: i.options,
        },
        configs: i
            .config
            .into_iter()
            .map(|c| IpamConfig {
                subnet: c.subnet,
                range: c.ip_range,
                gateway: c.gateway,
            })
            .collect(),
    });
    Ok(NetworkSpec {
        name: req.name,
        labels: req.labels,
        driver_configuration: Some(Driver {
            name: driver.into(),
            options: req.options,
        }),
        internal: req.internal,
        attachable: req.attachable,
        ingress: req.ingress,
        ipam,
        scope: "swarm".into(),
        ..Default::default()
    })
}

/// A swarm network as `GET /networks` shows it.
pub fn network_out(n: &Network) -> Value {
    let ipam = n.ipam.clone().unwrap_or_default();
    let config: Vec<Value> = ipam
        .configs
        .iter()
        .map(|c| {
            let mut v = json!({ "Subnet": c.subnet });
            if !c.range.is_empty() {
                v["IPRange"] = json!(c.range);
            }
            if !c.gateway.is_empty() {
                v["Gateway"] = json!(c.gateway);
            }
            v
        })
        .collect();
    let driver_options = |o: &Labels| if o.is_empty() { Value::Null } else { json!(o) };
    json!({
        "Name": n.spec.name,
        "Id": n.id,
        "Created": go_time::format(&n.meta.created_at),
        "Scope": "swarm",
        "Driver": n.driver_state.name,
        "EnableIPv6": n.spec.ipv6_enabled,
        "IPAM": {
            "Driver": if ipam.driver.name.is_empty() { "default".to_string() } else { ipam.driver.name.clone() },
            "Options": driver_options(&ipam.driver.options),
            "Config": config,
        },
        "Internal": n.spec.internal,
        "Attachable": n.spec.attachable,
        "Ingress": n.spec.ingress,
        "ConfigFrom": { "Network": "" },
        "ConfigOnly": false,
        "Containers": null,
        "Options": driver_options(&n.driver_state.options),
        "Labels": n.spec.labels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_requests_become_overlay_specs() {
        let req: NetworkCreateRequest = serde_json::from_value(json!({
            "Name": "web", "Driver": "overlay", "Attachable": true,
            "IPAM": {"Driver": "default", "Config": [{"Subnet": "10.9.0.0/24", "IPRange": "10.9.0.128/25", "Gateway": "10.9.0.1"}]},
            "Labels": {"a": "b"}
        }))
        .expect("decode");
        let spec = spec_in(req).expect("spec");
        assert_eq!(spec.scope, "swarm");
        assert!(spec.attachable);
        let pool = &spec.ipam.as_ref().expect("ipam").configs[0];
        assert_eq!(
            (pool.subnet.as_str(), pool.range.as_str()),
            ("10.9.0.0/24", "10.9.0.128/25")
        );

        let bridge = NetworkCreateRequest {
            name: "b".into(),
            ..Default::default()
        };
        assert!(matches!(
            spec_in(bridge),
            Err(ControlError::NotImplemented(_))
        ));
        let host = NetworkCreateRequest {
            name: "host".into(),
            driver: "overlay".into(),
            ..Default::default()
        };
        assert_eq!(
            spec_in(host).expect_err("predefined").to_string(),
            "host is a pre-defined network and cannot be created"
        );
    }

    #[test]
    fn resources_have_dockers_keys() {
        let mut n = Network {
            id: "n1".into(),
            ..Default::default()
        };
        n.spec.name = "web".into();
        n.driver_state.name = "overlay".into();
        n.driver_state
            .options
            .insert(rswarm_types::VXLAN_ID_OPTION.into(), "4097".into());
        n.ipam = Some(IpamOptions {
            configs: vec![IpamConfig {
                subnet: "10.0.1.0/24".into(),
                gateway: "10.0.1.1".into(),
                ..Default::default()
            }],
            ..Default::default()
        });
        let v = network_out(&n);
        assert_eq!(v["Scope"], "swarm");
        assert_eq!(v["Driver"], "overlay");
        assert_eq!(v["IPAM"]["Driver"], "default");
        assert_eq!(v["IPAM"]["Config"][0]["Gateway"], "10.0.1.1");
        assert_eq!(v["Options"][rswarm_types::VXLAN_ID_OPTION], "4097");
        assert!(v["Containers"].is_null());
    }
}
