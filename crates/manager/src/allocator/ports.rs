//! Published ports: a service's `Endpoint.Ports`, computed from its spec
//! and the other services when the spec is written, as swarmkit's port
//! allocator and control API do.
//!
//! - Every port of `Endpoint.Ports` is the spec's port, in spec order, with
//!   `Protocol` `tcp` and `PublishMode` `ingress` when they are empty.
//! - A `host`-mode port is copied as given (published 0 stays 0: the node
//!   picks one when the task starts); the scheduler keeps two tasks
//!   publishing the same host port off one node.
//! - An `ingress` port is published on every node of the swarm, so its
//!   (published port, protocol) belongs to one service. A published port
//!   already published by another service is refused in swarmkit's words:
//!   `port '8080' is already in use by service 'web' (ID) as an ingress
//!   port` when the other service publishes it in ingress mode (the new
//!   port may be ingress or host), `... as a host-published port` when the
//!   other service publishes it in host mode and the new port is ingress.
//!   Both the other service's spec and its allocated ports count.
//! - An ingress port with `PublishedPort` 0 keeps the published port the
//!   service already had for the same (name, protocol, target port), so
//!   updates do not move it; otherwise it gets the lowest port of
//!   30000-32767 (swarmkit's dynamic range) that no other service
//!   publishes with that protocol (in either mode) and this spec does not
//!   publish itself. None free: `Unavailable`.
//! - A port is in use only while a service lists it: removing it from the
//!   spec (`--publish-rm`) or removing the service frees it at once.

use std::collections::BTreeSet;

use rswarm_store::Tables;
use rswarm_types::{ControlError, PortConfig, Service};
use thiserror::Error;

/// First port of the range dynamic published ports come from.
pub const DYNAMIC_PORT_START: u32 = 30000;
/// Last port of the range dynamic published ports come from.
pub const DYNAMIC_PORT_END: u32 = 32767;

/// Why a service's ports cannot be allocated.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum PortError {
    /// Another service publishes the port in ingress mode.
    #[error("port '{port}' is already in use by service '{name}' ({id}) as an ingress port")]
    InUseAsIngress {
        /// The published port.
        port: u32,
        /// The other service's name.
        name: String,
        /// The other service's ID.
        id: String,
    },
    /// Another service publishes the port in host mode.
    #[error("port '{port}' is already in use by service '{name}' ({id}) as a host-published port")]
    InUseAsHost {
        /// The published port.
        port: u32,
        /// The other service's name.
        name: String,
        /// The other service's ID.
        id: String,
    },
    /// The dynamic range has no free port left for this protocol.
    #[error(
        "could not publish port {target}/{protocol}: no free port left in {DYNAMIC_PORT_START}-{DYNAMIC_PORT_END}"
    )]
    NoFreePort {
        /// The target port asking for one.
        target: u32,
        /// Its protocol.
        protocol: String,
    },
}

impl From<PortError> for ControlError {
    fn from(e: PortError) -> Self {
        match e {
            PortError::NoFreePort { .. } => ControlError::Unavailable(e.to_string()),
            _ => ControlError::InvalidArgument(e.to_string()),
        }
    }
}

/// `port` with swarmkit's defaults: protocol `tcp`, publish mode `ingress`.
pub fn normalised(port: &PortConfig) -> PortConfig {
    let mut p = port.clone();
    if p.protocol.is_empty() {
        p.protocol = "tcp".into();
    }
    if p.publish_mode.is_empty() {
        p.publish_mode = "ingress".into();
    }
    p
}

fn is_ingress(p: &PortConfig) -> bool {
    p.publish_mode.is_empty() || p.publish_mode == "ingress"
}

/// The ports a service lists: its spec's and its allocated ones, normalised.
fn listed(s: &Service) -> impl Iterator<Item = PortConfig> + '_ {
    s.spec
        .endpoint_spec
        .iter()
        .flat_map(|e| e.ports.iter())
        .chain(s.endpoint.ports.iter())
        .map(normalised)
}

/// Refuses a published port of `ports` that one of `others` already
/// publishes, as swarmkit's `checkPortConflicts`.
pub fn check_conflicts<'a>(
    ports: &[PortConfig],
    others: impl IntoIterator<Item = &'a Service>,
) -> Result<(), PortError> {
    let wanted: Vec<PortConfig> = ports
        .iter()
        .map(normalised)
        .filter(|p| p.published_port != 0)
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let asks = |p: &PortConfig, ingress_only: bool| {
        wanted.iter().any(|w| {
            w.published_port == p.published_port
                && w.protocol == p.protocol
                && (!ingress_only || is_ingress(w))
        })
    };
    for other in others {
        for p in listed(other).filter(|p| p.published_port != 0) {
            let (name, id) = (other.spec.name.clone(), other.id.clone());
            let port = p.published_port;
            if is_ingress(&p) && asks(&p, false) {
                return Err(PortError::InUseAsIngress { port, name, id });
            }
            if !is_ingress(&p) && asks(&p, true) {
                return Err(PortError::InUseAsHost { port, name, id });
            }
        }
    }
    Ok(())
}

/// `Endpoint.Ports` for a service whose spec lists `ports` and whose
/// current `Endpoint.Ports` are `current`, next to `others` (every other
/// service). See the module doc for the rules.
pub fn allocate<'a>(
    ports: &[PortConfig],
    current: &[PortConfig],
    others: impl IntoIterator<Item = &'a Service> + Clone,
) -> Result<Vec<PortConfig>, PortError> {
    check_conflicts(ports, others.clone())?;
    let ports: Vec<PortConfig> = ports.iter().map(normalised).collect();
    let mut taken: BTreeSet<(String, u32)> = others
        .into_iter()
        .flat_map(listed)
        .chain(ports.iter().cloned())
        .filter(|p| p.published_port != 0)
        .map(|p| (p.protocol, p.published_port))
        .collect();
    // Ports the service had for a dynamic spec port, still free.
    let mut kept: Vec<PortConfig> = current
        .iter()
        .map(normalised)
        .filter(|p| is_ingress(p) && p.published_port != 0)
        .filter(|p| !taken.contains(&(p.protocol.clone(), p.published_port)))
        .collect();
    let mut out = Vec::with_capacity(ports.len());
    for mut p in ports {
        if is_ingress(&p) && p.published_port == 0 {
            let same = |k: &PortConfig| {
                k.name == p.name && k.protocol == p.protocol && k.target_port == p.target_port
            };
            let published = match kept.iter().position(same) {
                Some(i) => kept.remove(i).published_port,
                None => (DYNAMIC_PORT_START..=DYNAMIC_PORT_END)
                    .find(|n| !taken.contains(&(p.protocol.clone(), *n)))
                    .ok_or_else(|| PortError::NoFreePort {
                        target: p.target_port,
                        protocol: p.protocol.clone(),
                    })?,
            };
            taken.insert((p.protocol.clone(), published));
            p.published_port = published;
        }
        out.push(p);
    }
    Ok(out)
}

/// [`allocate`] for `service` (its spec and current `Endpoint.Ports`)
/// against the other services of the store.
pub fn endpoint_ports(t: &Tables, service: &Service) -> Result<Vec<PortConfig>, ControlError> {
    let others: Vec<&Service> = t.services().filter(|s| s.id != service.id).collect();
    let ports = service
        .spec
        .endpoint_spec
        .as_ref()
        .map(|e| e.ports.as_slice())
        .unwrap_or_default();
    Ok(allocate(ports, &service.endpoint.ports, others)?)
}

#[cfg(test)]
mod tests {
    use rswarm_types::EndpointSpec;

    use super::*;

    fn port(published: u32, target: u32, protocol: &str, mode: &str) -> PortConfig {
        PortConfig {
            name: String::new(),
            protocol: protocol.into(),
            target_port: target,
            published_port: published,
            publish_mode: mode.into(),
        }
    }

    fn ingress(published: u32, target: u32) -> PortConfig {
        port(published, target, "tcp", "ingress")
    }

    fn service(id: &str, spec: Vec<PortConfig>, allocated: Vec<PortConfig>) -> Service {
        let mut s = Service {
            id: id.into(),
            ..Default::default()
        };
        s.spec.name = format!("svc-{id}");
        s.spec.endpoint_spec = Some(EndpointSpec {
            mode: "vip".into(),
            ports: spec,
        });
        s.endpoint.ports = allocated;
        s
    }

    #[test]
    fn defaults_are_filled_and_host_ports_copied() {
        let got = allocate(
            &[port(8080, 80, "", ""), port(0, 81, "udp", "host")],
            &[],
            &[],
        )
        .expect("free");
        assert_eq!(
            got,
            vec![port(8080, 80, "tcp", "ingress"), port(0, 81, "udp", "host")]
        );
    }

    #[test]
    fn dynamic_ports_are_the_lowest_free_of_the_range() {
        let web = service("w", vec![ingress(0, 80)], vec![ingress(30000, 80)]);
        let db = service("d", vec![ingress(30001, 5432)], vec![ingress(30001, 5432)]);
        let got = allocate(
            &[ingress(0, 80), ingress(30002, 81), ingress(0, 82)],
            &[],
            [&web, &db],
        )
        .expect("free");
        let published: Vec<u32> = got.iter().map(|p| p.published_port).collect();
        assert_eq!(published, vec![30003, 30002, 30004]);
        // Another protocol has its own space.
        let got = allocate(&[port(0, 53, "udp", "")], &[], [&web, &db]).expect("free");
        assert_eq!(got[0].published_port, DYNAMIC_PORT_START);
    }

    #[test]
    fn a_dynamic_port_is_kept_across_updates() {
        let current = vec![ingress(30005, 80), ingress(8080, 443)];
        let got = allocate(&[ingress(0, 80), ingress(0, 81)], &current, &[]).expect("free");
        assert_eq!(got, vec![ingress(30005, 80), ingress(30000, 81)]);
        // Another protocol or target is another port.
        let got = allocate(&[port(0, 80, "udp", "")], &current, &[]).expect("free");
        assert_eq!(got[0].published_port, DYNAMIC_PORT_START);
    }

    #[test]
    fn the_dynamic_range_can_run_out() {
        let all: Vec<PortConfig> = (DYNAMIC_PORT_START..=DYNAMIC_PORT_END)
            .map(|p| ingress(p, 80))
            .collect();
        let full = service("f", all.clone(), all);
        assert_eq!(
            allocate(&[ingress(0, 80)], &[], [&full]),
            Err(PortError::NoFreePort {
                target: 80,
                protocol: "tcp".into()
            })
        );
        let e: ControlError = PortError::NoFreePort {
            target: 80,
            protocol: "tcp".into(),
        }
        .into();
        assert!(matches!(e, ControlError::Unavailable(_)), "{e}");
    }

    #[test]
    fn conflicts_are_refused_in_swarmkits_words() {
        let web = service("w1", vec![ingress(8080, 80)], vec![ingress(8080, 80)]);
        let err = allocate(&[ingress(8080, 81)], &[], [&web]).expect_err("taken");
        assert_eq!(
            err.to_string(),
            "port '8080' is already in use by service 'svc-w1' (w1) as an ingress port"
        );
        assert!(matches!(
            ControlError::from(err),
            ControlError::InvalidArgument(_)
        ));
        // A host-mode port may not take an ingress port either.
        let err = allocate(&[port(8080, 80, "tcp", "host")], &[], [&web]).expect_err("taken");
        assert!(matches!(err, PortError::InUseAsIngress { .. }), "{err}");
        // Another protocol is free.
        allocate(&[port(8080, 80, "udp", "ingress")], &[], [&web]).expect("udp is free");

        let host = service(
            "h1",
            vec![port(9000, 80, "tcp", "host")],
            vec![port(9000, 80, "tcp", "host")],
        );
        assert_eq!(
            allocate(&[ingress(9000, 80)], &[], [&host])
                .expect_err("taken")
                .to_string(),
            "port '9000' is already in use by service 'svc-h1' (h1) as a host-published port"
        );
        // Host-mode ports of several services coexist (the scheduler
        // keeps them apart).
        allocate(&[port(9000, 80, "tcp", "host")], &[], [&host]).expect("host and host");
    }

    #[test]
    fn a_spec_port_the_other_service_has_not_allocated_yet_counts() {
        let other = service("o", vec![port(7000, 80, "", "")], vec![]);
        assert!(allocate(&[ingress(7000, 80)], &[], [&other]).is_err());
    }

    #[test]
    fn a_dynamic_port_another_service_took_explicitly_is_not_kept() {
        let other = service("o", vec![ingress(30005, 80)], vec![ingress(30005, 80)]);
        let got = allocate(&[ingress(0, 80)], &[ingress(30005, 80)], [&other]).expect("free");
        assert_eq!(got[0].published_port, DYNAMIC_PORT_START);
    }
}
