//! What moby does to a service spec between the Engine API and swarmkit
//! (`daemon/cluster/convert.ServiceSpecToGRPC` and back), applied once on
//! the way in so that what is stored reads back exactly as Docker shows it:
//!
//! | field                          | sent                 | stored            |
//! |--------------------------------|----------------------|-------------------|
//! | `Mode`                         | absent / empty       | replicated, 1     |
//! | `Mode.Replicated.Replicas`     | absent               | 1                 |
//! | `TaskTemplate.Runtime`         | `""`                 | `container`       |
//! | `ContainerSpec.Isolation`      | `""`                 | `default`         |
//! | `RestartPolicy.Condition`      | `""`                 | `any`             |
//! | `RestartPolicy.MaxAttempts`    | absent               | 0                 |
//! | `Update/RollbackConfig`        | `FailureAction` `""` | `pause`           |
//! |                                | `Order` `""`         | `stop-first`      |
//! |                                | `Monitor`/`Delay` 0  | absent            |
//! | `EndpointSpec.Mode`            | `""`                 | `vip`             |
//! | `EndpointSpec.Ports[]`         | `Protocol` `""`      | `tcp`             |
//! |                                | `PublishMode` `""`   | `ingress`         |
//! | `Placement.Preferences[]`      | not a `Spread`       | dropped           |
//!
//! Values moby refuses are refused here with moby's words.
//! What it does not do: validate what swarmkit validates (names, image,
//! constraints: the control API does that).

use rswarm_types::{ControlError, RestartCondition, ServiceMode, ServiceSpec, UpdateConfig};

/// Applies moby's conversions to an incoming (create or update) spec.
pub fn spec_in(spec: &mut ServiceSpec) -> Result<(), ControlError> {
    mode_in(&mut spec.mode)?;
    let task = &mut spec.task_template;
    match task.runtime.as_str() {
        "" | "container" => task.runtime = "container".into(),
        "plugin" => {
            return Err(ControlError::NotImplemented(
                "plugin services are not supported by rswarm".into(),
            ));
        }
        _ => return Err(ControlError::invalid("unsupported runtime")),
    }
    if let Some(c) = task.container_spec.as_mut()
        && c.isolation.is_empty()
    {
        c.isolation = "default".into();
    }
    if let Some(r) = task.restart_policy.as_mut() {
        r.condition.get_or_insert(RestartCondition::Any);
        r.max_attempts.get_or_insert(0);
    }
    if let Some(p) = task.placement.as_mut() {
        p.preferences.retain(|pref| pref.spread.is_some());
    }
    for config in [&mut spec.update_config, &mut spec.rollback_config]
        .into_iter()
        .flatten()
    {
        update_config_in(config)?;
    }
    if let Some(e) = spec.endpoint_spec.as_mut() {
        match e.mode.as_str() {
            "" => e.mode = "vip".into(),
            "vip" | "dnsrr" => {}
            other => {
                return Err(ControlError::invalid(format!(
                    "invalid resolution mode: \"{other}\""
                )));
            }
        }
        for port in &mut e.ports {
            port.protocol = match port.protocol.to_ascii_lowercase().as_str() {
                "" | "tcp" => "tcp".into(),
                p @ ("udp" | "sctp") => p.into(),
                other => {
                    return Err(ControlError::invalid(format!(
                        "invalid protocol \"{other}\" for port {}: must be tcp, udp or sctp",
                        port.target_port
                    )));
                }
            };
            port.publish_mode = match port.publish_mode.to_ascii_lowercase().as_str() {
                "" | "ingress" => "ingress".into(),
                "host" => "host".into(),
                other => {
                    return Err(ControlError::invalid(format!(
                        "invalid publish mode \"{other}\" for port {}: must be ingress or host",
                        port.target_port
                    )));
                }
            };
        }
    }
    Ok(())
}

fn mode_in(mode: &mut ServiceMode) -> Result<(), ControlError> {
    if mode.global.is_some() && mode.replicated.is_some() {
        return Err(ControlError::invalid(
            "cannot specify both replicated mode and global mode",
        ));
    }
    let none = mode.global.is_none()
        && mode.replicated.is_none()
        && mode.replicated_job.is_none()
        && mode.global_job.is_none();
    if none {
        *mode = ServiceMode::replicated(1);
    }
    if let Some(r) = mode.replicated.as_mut() {
        r.replicas.get_or_insert(1);
    }
    Ok(())
}

fn update_config_in(u: &mut UpdateConfig) -> Result<(), ControlError> {
    match u.failure_action.as_str() {
        "" => u.failure_action = "pause".into(),
        "pause" | "continue" | "rollback" => {}
        other => {
            return Err(ControlError::invalid(format!(
                "unrecognized update failure action {other}"
            )));
        }
    }
    match u.order.as_str() {
        "" => u.order = "stop-first".into(),
        "stop-first" | "start-first" => {}
        other => {
            return Err(ControlError::invalid(format!(
                "unrecognized update order {other}"
            )));
        }
    }
    if u.monitor == Some(0) {
        u.monitor = None;
    }
    if u.delay == Some(0) {
        u.delay = None;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_types::ModeKind;
    use serde_json::json;

    fn spec(v: serde_json::Value) -> ServiceSpec {
        serde_json::from_value(v).expect("spec")
    }

    #[test]
    fn missing_mode_is_one_replica() {
        let mut s = spec(json!({"Name": "a"}));
        spec_in(&mut s).expect("ok");
        assert_eq!(
            (s.mode.kind(), s.mode.replicas()),
            (Some(ModeKind::Replicated), Some(1))
        );
        assert_eq!(s.mode.replicated.and_then(|r| r.replicas), Some(1));
        let mut both = spec(json!({"Mode": {"Global": {}, "Replicated": {}}}));
        assert_eq!(
            spec_in(&mut both).expect_err("both").to_string(),
            "cannot specify both replicated mode and global mode"
        );
    }

    #[test]
    fn reads_back_like_docker() {
        let mut s = spec(json!({
            "TaskTemplate": {"ContainerSpec": {"Image": "b"}, "RestartPolicy": {"Delay": 1},
                "Placement": {"Preferences": [{"Spread": {"SpreadDescriptor": "node.id"}}, {}]}},
            "UpdateConfig": {"Parallelism": 2, "Monitor": 0, "Delay": 0},
            "RollbackConfig": {"Order": "start-first"},
            "EndpointSpec": {"Ports": [{"TargetPort": 80, "Protocol": "UDP"}]}
        }));
        spec_in(&mut s).expect("ok");
        let j = serde_json::to_value(&s).expect("json");
        assert_eq!(j["TaskTemplate"]["Runtime"], "container");
        assert_eq!(j["TaskTemplate"]["ContainerSpec"]["Isolation"], "default");
        assert_eq!(
            j["TaskTemplate"]["RestartPolicy"],
            json!({"Condition": "any", "Delay": 1, "MaxAttempts": 0})
        );
        assert_eq!(
            j["TaskTemplate"]["Placement"]["Preferences"],
            json!([{"Spread": {"SpreadDescriptor": "node.id"}}])
        );
        assert_eq!(
            j["UpdateConfig"],
            json!({"Parallelism": 2, "FailureAction": "pause", "MaxFailureRatio": 0, "Order": "stop-first"})
        );
        assert_eq!(j["RollbackConfig"]["Order"], "start-first");
        assert_eq!(j["EndpointSpec"]["Mode"], "vip");
        let port = &j["EndpointSpec"]["Ports"][0];
        assert_eq!(
            (&port["Protocol"], &port["PublishMode"]),
            (&json!("udp"), &json!("ingress"))
        );
    }

    #[test]
    fn refuses_what_moby_refuses() {
        let cases = [
            (
                json!({"TaskTemplate": {"Runtime": "vm"}}),
                "unsupported runtime",
            ),
            (
                json!({"UpdateConfig": {"Order": "bogus"}}),
                "unrecognized update order bogus",
            ),
            (
                json!({"RollbackConfig": {"FailureAction": "x"}}),
                "unrecognized update failure action x",
            ),
            (
                json!({"EndpointSpec": {"Mode": "rr"}}),
                "invalid resolution mode: \"rr\"",
            ),
            (
                json!({"EndpointSpec": {"Ports": [{"TargetPort": 1, "Protocol": "icmp"}]}}),
                "invalid protocol \"icmp\"",
            ),
        ];
        for (body, want) in cases {
            let mut s = spec(body);
            let err = spec_in(&mut s).expect_err(want).to_string();
            assert!(err.contains(want), "{err} vs {want}");
        }
    }
}
