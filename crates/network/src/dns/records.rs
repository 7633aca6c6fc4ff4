//! The swarm's names, built from the network map, and the rules that
//! answer a lookup from inside a task. Pure.
//!
//! Per network (Docker's records):
//! - a service's name and each alias → its VIP (vip mode; the backends
//!   when it has no VIP yet) or its backends (dnsrr);
//! - `tasks.<name>` and `tasks.<alias>` → the backends;
//! - each endpoint name (task name, hostname, ...) → the endpoint's
//!   address (a service name wins over an endpoint name);
//! - reverse: an endpoint's address → `<primary name>.<network name>`.
//!
//! A task sees only its own networks, in its attach order: the first
//! network that knows a name answers. `<name>.<network name>` asks one
//! network. Names compare without case and without the trailing dot.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;

use rswarm_types::{NetworkMap, ResolutionMode};

/// Every network's names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Records {
    nets: BTreeMap<String, NetRecords>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct NetRecords {
    name: String,
    a: HashMap<String, Vec<Ipv4Addr>>,
    ptr: HashMap<Ipv4Addr, String>,
}

impl Records {
    /// The records of every network in `map`.
    pub fn build(map: &NetworkMap) -> Records {
        let mut nets = BTreeMap::new();
        for n in map.networks.values() {
            let mut r = NetRecords {
                name: normalize(&n.name),
                ..NetRecords::default()
            };
            for s in &n.services {
                let ips = match (s.mode, s.vip) {
                    (ResolutionMode::Vip, Some(vip)) => vec![vip],
                    _ => s.backends.clone(),
                };
                for name in std::iter::once(&s.name).chain(&s.aliases) {
                    let name = normalize(name);
                    r.a.entry(format!("tasks.{name}"))
                        .or_insert_with(|| s.backends.clone());
                    r.a.entry(name).or_insert_with(|| ips.clone());
                }
            }
            let services: Vec<String> = r.a.keys().cloned().collect();
            for e in &n.endpoints {
                for name in &e.names {
                    let name = normalize(name);
                    if services.contains(&name) {
                        continue;
                    }
                    let ips = r.a.entry(name).or_default();
                    if !ips.contains(&e.ip) {
                        ips.push(e.ip);
                    }
                }
                if let Some(primary) = e.names.first() {
                    r.ptr
                        .entry(e.ip)
                        .or_insert_with(|| format!("{}.{}", normalize(primary), r.name));
                }
            }
            nets.insert(n.id.clone(), r);
        }
        Records { nets }
    }

    /// The addresses of `name` for a task on `networks`; `None` when no
    /// network of the task knows it (then it is not the swarm's name).
    pub fn lookup(&self, networks: &[String], name: &str) -> Option<&[Ipv4Addr]> {
        let name = normalize(name);
        let nets = || networks.iter().filter_map(|id| self.nets.get(id));
        if let Some(v) = nets().find_map(|n| n.a.get(&name)) {
            return Some(v);
        }
        nets()
            .find_map(|n| {
                name.strip_suffix(&n.name)
                    .and_then(|p| p.strip_suffix('.'))
                    .and_then(|p| n.a.get(p))
            })
            .map(Vec::as_slice)
    }

    /// The name of endpoint address `ip` for a task on `networks`.
    pub fn reverse(&self, networks: &[String], ip: Ipv4Addr) -> Option<&str> {
        networks
            .iter()
            .filter_map(|id| self.nets.get(id))
            .find_map(|n| n.ptr.get(&ip))
            .map(String::as_str)
    }
}

/// Lower case, no trailing dot.
pub fn normalize(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_types::{MacAddr, MapEndpoint, MapNetwork, MapService};

    fn ip(n: u8) -> Ipv4Addr {
        Ipv4Addr::new(10, 0, 1, n)
    }

    fn ep(n: u8, names: &[&str]) -> MapEndpoint {
        MapEndpoint {
            ip: ip(n),
            mac: MacAddr([2, 0, 0, 0, 0, n]),
            vtep: Ipv4Addr::new(198, 18, 0, 1),
            task_id: format!("t{n}"),
            service_id: "s".into(),
            names: names.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn records() -> Records {
        let mut a = MapNetwork {
            ingress: None,
            encryption: None,
            id: "A".into(),
            name: "appnet".into(),
            vni: 4096,
            subnet: "10.0.1.0/24".parse().expect("cidr"),
            gateway: ip(1),
            mtu: 1450,
            internal: false,
            endpoints: vec![ep(11, &["web.1.t11", "host-a"]), ep(12, &["web.2.t12"])],
            services: vec![
                MapService {
                    id: "w".into(),
                    name: "Web".into(),
                    aliases: vec!["www".into()],
                    mode: ResolutionMode::Vip,
                    vip: Some(ip(2)),
                    backends: vec![ip(11), ip(12)],
                },
                MapService {
                    id: "d".into(),
                    name: "db".into(),
                    aliases: vec![],
                    mode: ResolutionMode::Dnsrr,
                    vip: None,
                    backends: vec![ip(13), ip(14)],
                },
            ],
        };
        let mut b = a.clone();
        b.id = "B".into();
        b.name = "other".into();
        b.endpoints = vec![ep(11, &["web.1.x"]), ep(21, &["db"])];
        b.services = vec![MapService {
            id: "o".into(),
            name: "only-b".into(),
            aliases: vec![],
            mode: ResolutionMode::Vip,
            vip: Some(ip(99)),
            backends: vec![],
        }];
        a.endpoints.push(ep(15, &["db"]));
        let mut m = NetworkMap::default();
        m.networks.insert("A".into(), a);
        m.networks.insert("B".into(), b);
        Records::build(&m)
    }

    fn on(nets: &[&str]) -> Vec<String> {
        nets.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn service_names_aliases_and_tasks_names() {
        let r = records();
        let a = on(&["A"]);
        assert_eq!(r.lookup(&a, "web"), Some(&[ip(2)][..]));
        assert_eq!(r.lookup(&a, "WWW."), Some(&[ip(2)][..]));
        assert_eq!(r.lookup(&a, "tasks.web"), Some(&[ip(11), ip(12)][..]));
        assert_eq!(r.lookup(&a, "tasks.www"), Some(&[ip(11), ip(12)][..]));
        assert_eq!(
            r.lookup(&a, "db"),
            Some(&[ip(13), ip(14)][..]),
            "dnsrr, and a service name wins"
        );
        assert_eq!(r.lookup(&a, "web.1.t11"), Some(&[ip(11)][..]));
        assert_eq!(r.lookup(&a, "host-a"), Some(&[ip(11)][..]));
        assert_eq!(r.lookup(&a, "web.appnet"), Some(&[ip(2)][..]));
        assert_eq!(r.lookup(&a, "example.com"), None);
    }

    #[test]
    fn a_task_sees_only_its_networks_first_one_first() {
        let r = records();
        assert_eq!(r.lookup(&on(&["A"]), "only-b"), None);
        assert_eq!(r.lookup(&on(&["B"]), "only-b"), Some(&[ip(99)][..]));
        assert_eq!(r.lookup(&on(&["B", "A"]), "db"), Some(&[ip(21)][..]));
        assert_eq!(
            r.lookup(&on(&["A", "B"]), "db"),
            Some(&[ip(13), ip(14)][..])
        );
        assert_eq!(r.lookup(&on(&["A", "B"]), "db.other"), Some(&[ip(21)][..]));
        assert_eq!(r.lookup(&on(&[]), "web"), None);
    }

    #[test]
    fn reverse_gives_the_primary_name_on_the_network() {
        let r = records();
        assert_eq!(r.reverse(&on(&["A"]), ip(11)), Some("web.1.t11.appnet"));
        assert_eq!(r.reverse(&on(&["B", "A"]), ip(11)), Some("web.1.x.other"));
        assert_eq!(r.reverse(&on(&["A"]), ip(2)), None);
    }
}
