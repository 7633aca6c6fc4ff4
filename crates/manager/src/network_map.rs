//! One node's [`NetworkMap`], built from the store: what the dispatcher
//! pushes to the node so it can carry overlay networks (no gossip). Pure.
//!
//! - A task is *live* when it is assigned to a node, its observed state is
//!   `assigned` to `running` and its desired state is `running` (or
//!   `complete`, for jobs). A stopped task, or one told to stop, is not.
//! - A node takes part in a network when one of its live tasks is attached
//!   to it. No live task, no network: a node without any gets an empty map.
//! - Per network: its VXLAN ID, subnet and gateway (the store's network,
//!   or the copy in the task's attachment when the store no longer has
//!   it), MTU 1450 (1500 less the VXLAN header, as Swarm), the internal
//!   flag. A network without an allocated pool is left out.
//! - Its endpoints: one per live task attached to it, anywhere in the
//!   cluster: the task's address (the first of its attachment), a MAC
//!   made from that address as Docker does (`02:42:` + the 4 address
//!   bytes), the VTEP = the data-path address of the task's node (its
//!   `Status.Addr`: the node records no other), task and service IDs, and
//!   its names: the task's name `<service>.<slot>.<task id>`
//!   (`<service>.<node id>.<task id>` for global tasks) first, then the
//!   container's hostname when set. A task whose node is unknown or has no
//!   IPv4 address cannot be reached and is left out.
//! - Its services: every service whose spec names the network, that has a
//!   VIP on it, or has a live task on it: name, the aliases of its
//!   network attachment (`--network name=N,alias=A`), its endpoint mode
//!   (`dnsrr` or `vip`), its VIP on the network (vip mode only) and its
//!   backends: the addresses of its live tasks there that are `running`
//!   (Docker adds a backend when its container starts). The service name
//!   and `tasks.<service>` are the node's DNS server's business
//!   (`rswarm-network`'s records).
//! - An encrypted network (`--opt encrypted`) carries the swarm's current
//!   key and an MTU 60 bytes smaller (the tunnel's headers); while the
//!   swarm has no key it is left out.
//! - Output is deterministic: networks by ID, endpoints by address then
//!   task ID, services by name then ID, backends by address. The version
//!   is 0: the caller stamps versions as it sends maps.
//!
//! [`delta`] gives what to send when the map changed.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use rswarm_store::Tables;
use rswarm_types::{
    Ipv4Cidr, MacAddr, MapEndpoint, MapNetwork, MapService, Network, NetworkKey, NetworkMap,
    NetworkMapDelta, ResolutionMode, Service, Task, TaskState,
};

/// MTU inside an overlay: 1500 less the 50 bytes of VXLAN encapsulation.
pub const OVERLAY_MTU: u32 = 1450;

/// MTU inside an encrypted overlay: less the 60 bytes of the tunnel
/// (outer IPv4 and UDP headers, WireGuard's header and tag).
pub const ENCRYPTED_MTU: u32 = OVERLAY_MTU - 60;

/// The network map of `node_id` (version 0).
pub fn network_map(t: &Tables, node_id: &str) -> NetworkMap {
    let mut joined: BTreeMap<&str, &Network> = BTreeMap::new();
    for task in t.tasks_on_node(node_id).filter(|x| is_live(x)) {
        for a in &task.networks_attachments {
            let id = a.network.id.as_str();
            joined
                .entry(id)
                .or_insert_with(|| t.network(id).unwrap_or(&a.network));
        }
    }
    let ingress_id = crate::mesh_map::mesh_network(t, node_id).map(|n| {
        joined.entry(n.id.as_str()).or_insert(n);
        n.id.as_str()
    });
    let key = t.cluster().and_then(|c| c.network_key.as_ref());
    let mut networks: BTreeMap<String, MapNetwork> = joined
        .into_iter()
        .filter_map(|(id, n)| Some((id.to_string(), map_network(n, key)?)))
        .collect();
    if networks.is_empty() {
        return NetworkMap::default();
    }

    let mut running: BTreeMap<(&str, &str), Vec<Ipv4Addr>> = BTreeMap::new();
    let mut with_tasks: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for task in t.tasks().filter(|x| is_live(x)) {
        let Some(vtep) = t.node(&task.node_id).and_then(|n| vtep_of(&n.status.addr)) else {
            continue;
        };
        for a in &task.networks_attachments {
            let Some(net) = networks.get_mut(&a.network.id) else {
                continue;
            };
            let Some(ip) = a.addresses.iter().find_map(|s| address_of(s)) else {
                continue;
            };
            net.endpoints.push(MapEndpoint {
                ip,
                mac: MacAddr::from_ip(ip),
                vtep,
                task_id: task.id.clone(),
                service_id: task.service_id.clone(),
                names: endpoint_names(t, task),
            });
            if task.service_id.is_empty() {
                continue;
            }
            with_tasks
                .entry(task.service_id.as_str())
                .or_default()
                .insert(a.network.id.as_str());
            if task.status.state == TaskState::Running {
                running
                    .entry((task.service_id.as_str(), a.network.id.as_str()))
                    .or_default()
                    .push(ip);
            }
        }
    }

    for s in t.services() {
        let mut on: BTreeSet<&str> = attachment_configs(s).map(|c| c.target.as_str()).collect();
        on.extend(s.endpoint.virtual_ips.iter().map(|v| v.network_id.as_str()));
        on.extend(with_tasks.get(s.id.as_str()).into_iter().flatten());
        // No names and no VIP rules on the ingress network.
        on.retain(|id| t.network(id).is_none_or(|n| !n.spec.ingress));
        for id in on {
            let Some(net) = networks.get_mut(id) else {
                continue;
            };
            let mut backends = running.remove(&(s.id.as_str(), id)).unwrap_or_default();
            backends.sort();
            backends.dedup();
            net.services.push(map_service(s, id, backends));
        }
    }

    let ingress_id = ingress_id.map(str::to_string).or_else(|| {
        networks
            .keys()
            .find(|id| t.network(id).is_some_and(|n| n.spec.ingress))
            .cloned()
    });
    if let Some(id) = ingress_id.as_deref()
        && let Some(net) = networks.get_mut(id)
    {
        let nodes = crate::mesh_map::node_endpoints(t, id, vtep_of);
        net.ingress = crate::mesh_map::mesh(t, node_id, id, &nodes, &running);
        net.endpoints.extend(nodes);
    }
    for net in networks.values_mut() {
        net.endpoints
            .sort_by(|a, b| (a.ip, &a.task_id).cmp(&(b.ip, &b.task_id)));
        net.services
            .sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    }
    NetworkMap {
        version: 0,
        networks,
    }
}

/// What turns the map `old` (as the node has it) into `new`; `None` when
/// no network changed. Stamp `new.version` before calling.
pub fn delta(old: &NetworkMap, new: &NetworkMap) -> Option<NetworkMapDelta> {
    (old.networks != new.networks).then(|| old.diff(new))
}

/// Assigned to a node, `assigned..=running`, desired to run.
fn is_live(task: &Task) -> bool {
    !task.node_id.is_empty()
        && (TaskState::Assigned..=TaskState::Running).contains(&task.status.state)
        && matches!(task.desired_state, TaskState::Running | TaskState::Complete)
}

/// The network's addressing, `None` before allocation (or, when it is
/// encrypted, while the swarm has no key).
fn map_network(n: &Network, key: Option<&NetworkKey>) -> Option<MapNetwork> {
    let encryption = if n.encrypted() {
        Some(key?.clone())
    } else {
        None
    };
    let (subnet, gateway) = n.pool()?;
    Some(MapNetwork {
        id: n.id.clone(),
        name: n.spec.name.clone(),
        vni: n.vni(),
        subnet: subnet.parse::<Ipv4Cidr>().ok()?,
        gateway: address_of(gateway)?,
        mtu: if encryption.is_some() {
            ENCRYPTED_MTU
        } else {
            OVERLAY_MTU
        },
        internal: n.spec.internal,
        endpoints: Vec::new(),
        services: Vec::new(),
        ingress: None,
        encryption,
    })
}

fn map_service(s: &Service, network_id: &str, backends: Vec<Ipv4Addr>) -> MapService {
    let dnsrr = s
        .spec
        .endpoint_spec
        .as_ref()
        .is_some_and(|e| e.mode == "dnsrr");
    let mut aliases: Vec<String> = Vec::new();
    for alias in attachment_configs(s)
        .filter(|c| c.target == network_id)
        .flat_map(|c| &c.aliases)
    {
        if !aliases.contains(alias) {
            aliases.push(alias.clone());
        }
    }
    let vip = if dnsrr {
        None
    } else {
        s.endpoint
            .virtual_ips
            .iter()
            .find(|v| v.network_id == network_id)
            .and_then(|v| address_of(&v.addr))
    };
    MapService {
        id: s.id.clone(),
        name: s.spec.name.clone(),
        aliases,
        mode: if dnsrr {
            ResolutionMode::Dnsrr
        } else {
            ResolutionMode::Vip
        },
        vip,
        backends,
    }
}

/// The service's network attachments (the task template's, then the
/// deprecated top-level ones).
fn attachment_configs(s: &Service) -> impl Iterator<Item = &rswarm_types::NetworkAttachmentConfig> {
    s.spec.task_template.networks.iter().chain(&s.spec.networks)
}

/// The task's name, then its hostname; none for a task of no service.
fn endpoint_names(t: &Tables, task: &Task) -> Vec<String> {
    if task.service_id.is_empty() {
        return Vec::new();
    }
    let name = if task.service_annotations.name.is_empty() {
        let mut named = task.clone();
        named.service_annotations.name = t
            .service(&task.service_id)
            .map_or_else(|| task.service_id.clone(), |s| s.spec.name.clone());
        named.full_name()
    } else {
        task.full_name()
    };
    let mut names = vec![name];
    if let Some(host) = task
        .spec
        .container_spec
        .as_ref()
        .map(|c| &c.hostname)
        .filter(|h| !h.is_empty() && !names.contains(h))
    {
        names.push(host.clone());
    }
    names
}

/// The IPv4 data-path address in a node's `Status.Addr` (`ip`, `ip:port`
/// or an IPv4-mapped IPv6 address).
fn vtep_of(addr: &str) -> Option<Ipv4Addr> {
    if let Ok(ip) = addr.parse::<Ipv4Addr>() {
        return Some(ip);
    }
    if let Ok(sa) = addr.parse::<SocketAddr>() {
        return match sa.ip() {
            std::net::IpAddr::V4(ip) => Some(ip),
            std::net::IpAddr::V6(ip) => ip.to_ipv4_mapped(),
        };
    }
    addr.parse::<Ipv6Addr>().ok()?.to_ipv4_mapped()
}

/// The address part of `ip/prefix` (or of a bare address).
fn address_of(cidr: &str) -> Option<Ipv4Addr> {
    cidr.split('/').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_store::Object;
    use rswarm_types::{
        ContainerSpec, EndpointSpec, EndpointVirtualIp, IpamConfig, IpamOptions, NetworkAttachment,
        NetworkAttachmentConfig, Node, VXLAN_ID_OPTION,
    };

    fn network(id: &str, vni: u32, subnet: &str, gateway: &str, internal: bool) -> Network {
        let mut n = Network {
            id: id.into(),
            ..Network::default()
        };
        n.spec.name = format!("net-{id}");
        n.spec.internal = internal;
        n.driver_state.name = "overlay".into();
        n.driver_state
            .options
            .insert(VXLAN_ID_OPTION.into(), vni.to_string());
        n.ipam = Some(IpamOptions {
            configs: vec![IpamConfig {
                subnet: subnet.into(),
                gateway: gateway.into(),
                ..IpamConfig::default()
            }],
            ..IpamOptions::default()
        });
        n
    }

    fn node(id: &str, addr: &str) -> Node {
        let mut n = Node {
            id: id.into(),
            ..Node::default()
        };
        n.status.addr = addr.into();
        n
    }

    fn service(id: &str, name: &str, nets: &[(&Network, &[&str], Option<&str>)]) -> Service {
        let mut s = Service {
            id: id.into(),
            ..Service::default()
        };
        s.spec.name = name.into();
        for (n, aliases, vip) in nets {
            s.spec.task_template.networks.push(NetworkAttachmentConfig {
                target: n.id.clone(),
                aliases: aliases.iter().map(|a| a.to_string()).collect(),
                ..NetworkAttachmentConfig::default()
            });
            if let Some(vip) = vip {
                s.endpoint.virtual_ips.push(EndpointVirtualIp {
                    network_id: n.id.clone(),
                    addr: format!("{vip}/24"),
                });
            }
        }
        s
    }

    fn task(id: &str, s: &Service, slot: u64, node: &str, nets: &[(&Network, &str)]) -> Task {
        let mut t = Task {
            id: id.into(),
            service_id: s.id.clone(),
            slot,
            node_id: node.into(),
            desired_state: TaskState::Running,
            ..Task::default()
        };
        t.status.state = TaskState::Running;
        t.service_annotations.name = s.spec.name.clone();
        t.networks_attachments = nets
            .iter()
            .map(|(n, ip)| NetworkAttachment {
                network: (*n).clone(),
                addresses: vec![format!("{ip}/24")],
            })
            .collect();
        t
    }

    fn tables(objects: Vec<Object>) -> Tables {
        let mut t = Tables::default();
        for o in objects {
            t.insert(o);
        }
        t
    }

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().expect("ip")
    }

    /// Two nodes, `web` (3 replicas, VIP 10.0.1.2, alias `www`) on `ov`.
    fn cluster() -> (Network, Service, Tables) {
        let ov = network("ov", 4097, "10.0.1.0/24", "10.0.1.1", false);
        let web = service("svc-web", "web", &[(&ov, &["www"], Some("10.0.1.2"))]);
        let mut t2 = task("t2", &web, 2, "n2", &[(&ov, "10.0.1.4")]);
        t2.spec.container_spec = Some(ContainerSpec {
            hostname: "web-two".into(),
            ..ContainerSpec::default()
        });
        let objects = vec![
            Object::Node(node("n1", "192.168.1.1")),
            Object::Node(node("n2", "192.168.1.2:2377")),
            Object::Node(node("n3", "192.168.1.3")),
            Object::Network(ov.clone()),
            Object::Service(web.clone()),
            Object::Task(task("t1", &web, 1, "n1", &[(&ov, "10.0.1.3")])),
            Object::Task(t2),
            Object::Task(task("t3", &web, 3, "n1", &[(&ov, "10.0.1.5")])),
        ];
        (ov, web, tables(objects))
    }

    #[test]
    fn a_node_without_attached_tasks_gets_an_empty_map() {
        let (ov, web, mut t) = cluster();
        assert_eq!(network_map(&t, "n3"), NetworkMap::default());
        let mut failed = task("t9", &web, 4, "n3", &[(&ov, "10.0.1.9")]);
        failed.status.state = TaskState::Failed;
        t.insert(Object::Task(failed));
        t.insert(Object::Task(task("t10", &web, 5, "n3", &[])));
        assert_eq!(network_map(&t, "n3"), NetworkMap::default());
        assert_eq!(network_map(&t, "nope"), NetworkMap::default());
    }

    #[test]
    fn every_node_with_a_replica_sees_all_three_endpoints_with_their_vteps() {
        let (_, _, t) = cluster();
        let m1 = network_map(&t, "n1");
        let m2 = network_map(&t, "n2");
        assert_eq!(m1, m2);
        assert_eq!(m1.version, 0);
        assert_eq!(m1.networks.keys().collect::<Vec<_>>(), ["ov"]);
        let n = &m1.networks["ov"];
        assert_eq!(
            (
                n.name.as_str(),
                n.vni,
                n.subnet.to_string(),
                n.gateway,
                n.mtu,
                n.internal
            ),
            (
                "net-ov",
                4097,
                "10.0.1.0/24".to_string(),
                ip("10.0.1.1"),
                1450,
                false
            )
        );
        let got: Vec<(Ipv4Addr, String, Ipv4Addr, &str, &str)> = n
            .endpoints
            .iter()
            .map(|e| {
                (
                    e.ip,
                    e.mac.to_string(),
                    e.vtep,
                    e.task_id.as_str(),
                    e.service_id.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    ip("10.0.1.3"),
                    "02:42:0a:00:01:03".into(),
                    ip("192.168.1.1"),
                    "t1",
                    "svc-web"
                ),
                (
                    ip("10.0.1.4"),
                    "02:42:0a:00:01:04".into(),
                    ip("192.168.1.2"),
                    "t2",
                    "svc-web"
                ),
                (
                    ip("10.0.1.5"),
                    "02:42:0a:00:01:05".into(),
                    ip("192.168.1.1"),
                    "t3",
                    "svc-web"
                ),
            ]
        );
        assert_eq!(n.endpoints[0].names, ["web.1.t1"]);
        assert_eq!(n.endpoints[1].names, ["web.2.t2", "web-two"]);
        assert_eq!(
            n.services,
            [MapService {
                id: "svc-web".into(),
                name: "web".into(),
                aliases: vec!["www".into()],
                mode: ResolutionMode::Vip,
                vip: Some(ip("10.0.1.2")),
                backends: vec![ip("10.0.1.3"), ip("10.0.1.4"), ip("10.0.1.5")],
            }]
        );
    }

    #[test]
    fn a_dnsrr_service_has_no_vip_and_an_idle_service_no_backends() {
        let (ov, _, mut t) = cluster();
        let mut rr = service("svc-rr", "rr", &[(&ov, &[], Some("10.0.1.20"))]);
        rr.spec.endpoint_spec = Some(EndpointSpec {
            mode: "dnsrr".into(),
            ..EndpointSpec::default()
        });
        t.insert(Object::Task(task(
            "t20",
            &rr,
            1,
            "n2",
            &[(&ov, "10.0.1.21")],
        )));
        t.insert(Object::Service(rr));
        t.insert(Object::Service(service(
            "svc-idle",
            "idle",
            &[(&ov, &[], Some("10.0.1.30"))],
        )));
        let m = network_map(&t, "n1");
        let s = &m.networks["ov"].services;
        assert_eq!(
            s.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            ["idle", "rr", "web"]
        );
        assert_eq!((s[0].vip, s[0].backends.len()), (Some(ip("10.0.1.30")), 0));
        assert_eq!(
            (s[1].mode, s[1].vip, s[1].backends.clone()),
            (ResolutionMode::Dnsrr, None, vec![ip("10.0.1.21")])
        );
        assert_eq!(m.networks["ov"].endpoints.len(), 4);
    }

    #[test]
    fn a_task_that_stopped_is_not_an_endpoint_and_a_starting_one_no_backend() {
        let (ov, web, mut t) = cluster();
        let mut stopped = task("t3", &web, 3, "n1", &[(&ov, "10.0.1.5")]);
        stopped.status.state = TaskState::Failed;
        t.insert(Object::Task(stopped));
        let mut leaving = task("t2", &web, 2, "n2", &[(&ov, "10.0.1.4")]);
        leaving.desired_state = TaskState::Shutdown;
        t.insert(Object::Task(leaving));
        let mut starting = task("t4", &web, 4, "n2", &[(&ov, "10.0.1.6")]);
        starting.status.state = TaskState::Starting;
        t.insert(Object::Task(starting));
        let mut unplaced = task("t5", &web, 5, "", &[(&ov, "10.0.1.7")]);
        unplaced.status.state = TaskState::Pending;
        t.insert(Object::Task(unplaced));

        let n = &network_map(&t, "n1").networks["ov"];
        let ids: Vec<&str> = n.endpoints.iter().map(|e| e.task_id.as_str()).collect();
        assert_eq!(ids, ["t1", "t4"]);
        assert_eq!(n.services[0].backends, [ip("10.0.1.3")]);
    }

    #[test]
    fn an_internal_network_is_flagged_and_only_joined_networks_are_sent() {
        let (ov, _, mut t) = cluster();
        let back = network("back", 4098, "10.0.2.0/24", "10.0.2.1", true);
        let other = network("other", 4099, "10.0.3.0/24", "10.0.3.1", false);
        let db = service(
            "svc-db",
            "db",
            &[
                (&back, &["store"], Some("10.0.2.2")),
                (&ov, &[], Some("10.0.1.40")),
            ],
        );
        let lone = service("svc-lone", "lone", &[(&other, &[], Some("10.0.3.2"))]);
        t.insert(Object::Network(back.clone()));
        t.insert(Object::Network(other.clone()));
        t.insert(Object::Task(task(
            "t30",
            &db,
            1,
            "n2",
            &[(&back, "10.0.2.3"), (&ov, "10.0.1.41")],
        )));
        t.insert(Object::Task(task(
            "t40",
            &lone,
            1,
            "n1",
            &[(&other, "10.0.3.3")],
        )));
        t.insert(Object::Service(db));
        t.insert(Object::Service(lone));

        let m2 = network_map(&t, "n2");
        assert_eq!(m2.networks.keys().collect::<Vec<_>>(), ["back", "ov"]);
        let b = &m2.networks["back"];
        assert!(b.internal && !m2.networks["ov"].internal);
        assert_eq!((b.vni, b.gateway), (4098, ip("10.0.2.1")));
        assert_eq!(b.endpoints.len(), 1);
        assert_eq!(b.services.len(), 1);
        assert_eq!(b.services[0].aliases, ["store"]);
        assert_eq!(b.services[0].vip, Some(ip("10.0.2.2")));
        let ov_services: Vec<&str> = m2.networks["ov"]
            .services
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(ov_services, ["db", "web"]);

        let m1 = network_map(&t, "n1");
        assert_eq!(m1.networks.keys().collect::<Vec<_>>(), ["other", "ov"]);
        assert_eq!(m1.networks["ov"], m2.networks["ov"]);
    }

    #[test]
    fn delta_is_none_without_change_and_carries_changed_networks() {
        let (ov, web, mut t) = cluster();
        let mut old = network_map(&t, "n1");
        old.version = 1;
        let mut same = network_map(&t, "n1");
        same.version = 2;
        assert_eq!(delta(&old, &same), None);

        t.insert(Object::Task(task(
            "t6",
            &web,
            4,
            "n2",
            &[(&ov, "10.0.1.8")],
        )));
        let mut new = network_map(&t, "n1");
        new.version = 2;
        let d = delta(&old, &new).expect("changed");
        assert_eq!((d.base_version, d.version), (1, 2));
        assert_eq!(d.upserts.len(), 1);
        assert!(d.removals.is_empty());
        let mut applied = old.clone();
        applied.apply_delta(&d).expect("applies");
        assert_eq!(applied, new);

        let empty = NetworkMap {
            version: 3,
            ..NetworkMap::default()
        };
        let gone = delta(&new, &empty).expect("changed");
        assert_eq!(gone.removals, ["ov"]);
    }

    #[test]
    fn vtep_and_mac_come_from_addresses() {
        assert_eq!(vtep_of("10.1.2.3"), Some(ip("10.1.2.3")));
        assert_eq!(vtep_of("10.1.2.3:2377"), Some(ip("10.1.2.3")));
        assert_eq!(vtep_of("::ffff:10.1.2.3"), Some(ip("10.1.2.3")));
        assert_eq!(vtep_of("fd00::12"), None);
        assert_eq!(vtep_of(""), None);
        assert_eq!(
            MacAddr::from_ip(ip("10.0.1.11")).to_string(),
            "02:42:0a:00:01:0b"
        );
    }

    #[test]
    fn a_task_on_a_node_without_address_is_left_out() {
        let (ov, web, mut t) = cluster();
        t.insert(Object::Node(node("n4", "")));
        t.insert(Object::Task(task(
            "t7",
            &web,
            7,
            "n4",
            &[(&ov, "10.0.1.9")],
        )));
        let m4 = network_map(&t, "n4");
        let ids: Vec<&str> = m4.networks["ov"]
            .endpoints
            .iter()
            .map(|e| e.task_id.as_str())
            .collect();
        assert_eq!(ids, ["t1", "t2", "t3"]);
    }
}
