//! Matching parsed placement constraints (`key==value`, `key!=value`)
//! against a node, with Swarm's rules:
//!
//! - keys are matched case-insensitively, label *names* case-sensitively;
//! - values are compared case-insensitively;
//! - a missing label (or hostname) is the empty string, so `!=` matches it;
//! - `node.ip` takes an address or a CIDR block; a malformed one never matches.

use std::net::{IpAddr, SocketAddr};

use rswarm_types::Node;
use rswarm_types::validate::Constraint;

const NODE_LABELS: &str = "node.labels.";
const ENGINE_LABELS: &str = "engine.labels.";

/// Parses every constraint expression of a placement. The first malformed
/// expression is returned as the error (the control API rejects them, so
/// this only happens with hand-written store contents).
pub(crate) fn parse_all(exprs: &[String]) -> Result<Vec<Constraint>, String> {
    exprs
        .iter()
        .map(|e| Constraint::parse(e).map_err(|_| e.clone()))
        .collect()
}

/// True when the node satisfies every constraint.
pub(crate) fn node_matches(constraints: &[Constraint], node: &Node) -> bool {
    constraints.iter().all(|c| matches(c, node))
}

/// True when the node satisfies one constraint.
pub(crate) fn matches(c: &Constraint, node: &Node) -> bool {
    let key = c.key.as_str();
    if key.eq_ignore_ascii_case("node.ip") {
        return ip_matches(c, &node.status.addr);
    }
    let actual: &str = if key.eq_ignore_ascii_case("node.id") {
        &node.id
    } else if key.eq_ignore_ascii_case("node.hostname") {
        &node.description.hostname
    } else if key.eq_ignore_ascii_case("node.role") {
        node.role.as_str()
    } else if key.eq_ignore_ascii_case("node.platform.os") {
        &node.description.platform.os
    } else if key.eq_ignore_ascii_case("node.platform.arch") {
        &node.description.platform.architecture
    } else if let Some(label) = strip_prefix_fold(key, NODE_LABELS) {
        node.spec.labels.get(label).map_or("", String::as_str)
    } else if let Some(label) = strip_prefix_fold(key, ENGINE_LABELS) {
        node.description
            .engine
            .labels
            .get(label)
            .map_or("", String::as_str)
    } else {
        // Unknown key: never satisfied, whatever the operator.
        return false;
    };
    fold_eq(actual, &c.value) == c.equal
}

/// Strips `prefix` (compared case-insensitively) and returns a non-empty rest.
fn strip_prefix_fold<'k>(key: &'k str, prefix: &str) -> Option<&'k str> {
    let head = key.get(..prefix.len())?;
    let rest = key.get(prefix.len()..)?;
    (head.eq_ignore_ascii_case(prefix) && !rest.is_empty()).then_some(rest)
}

/// Case-insensitive string equality (Unicode lowercase folding; fast path
/// for ASCII).
pub(crate) fn fold_eq(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// `node.ip==ADDR`, `node.ip==NET/BITS` and their `!=` forms.
fn ip_matches(c: &Constraint, addr: &str) -> bool {
    let node_ip = parse_node_addr(addr);
    let inside = if let Ok(ip) = c.value.parse::<IpAddr>() {
        node_ip == Some(ip)
    } else if let Some((net, bits)) = parse_cidr(&c.value) {
        node_ip.is_some_and(|ip| cidr_contains(net, bits, ip))
    } else {
        return false;
    };
    inside == c.equal
}

/// The node's address: a bare IP, or `ip:port` as some agents report it.
/// IPv4-mapped IPv6 addresses are treated as IPv4.
fn parse_node_addr(addr: &str) -> Option<IpAddr> {
    let ip = addr
        .parse::<IpAddr>()
        .ok()
        .or_else(|| addr.parse::<SocketAddr>().ok().map(|s| s.ip()))?;
    Some(ip.to_canonical())
}

/// Parses `a.b.c.d/n` or `x::y/n`.
fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (net, bits) = s.split_once('/')?;
    let net: IpAddr = net.parse().ok()?;
    let bits: u8 = bits.parse().ok()?;
    let max = if net.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((net, bits))
}

/// True when `ip` lies inside `net/bits` (same address family only).
fn cidr_contains(net: IpAddr, bits: u8, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(
            u128::from(n.to_bits()) << 96,
            u128::from(a.to_bits()) << 96,
            bits,
        ),
        (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(n.to_bits(), a.to_bits(), bits),
        _ => false,
    }
}

/// True when the top `bits` bits of `a` and `b` agree.
fn prefix_eq(a: u128, b: u128, bits: u8) -> bool {
    if bits == 0 {
        return true;
    }
    let mask = u128::MAX << (128 - u32::from(bits));
    a & mask == b & mask
}

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_types::{NodeRole, Platform};

    fn node() -> Node {
        let mut n = Node {
            id: "node1abc".into(),
            role: NodeRole::Manager,
            ..Default::default()
        };
        n.description.hostname = "Web-01".into();
        n.description.platform = Platform {
            architecture: "x86_64".into(),
            os: "linux".into(),
        };
        n.spec.labels.insert("zone".into(), "East".into());
        n.description
            .engine
            .labels
            .insert("disk".into(), "ssd".into());
        n.status.addr = "10.0.1.7".into();
        n
    }

    fn check(expr: &str) -> bool {
        let c = Constraint::parse(expr).expect("valid constraint");
        matches(&c, &node())
    }

    #[test]
    fn builtin_keys() {
        assert!(check("node.id==node1abc"));
        assert!(check("node.id!=other"));
        assert!(check("node.hostname==web-01"));
        assert!(check("node.role==manager"));
        assert!(!check("node.role==worker"));
        assert!(check("node.role!=worker"));
        assert!(check("node.platform.os==Linux"));
        assert!(check("node.platform.arch==x86_64"));
    }

    #[test]
    fn role_is_the_actual_role_not_the_desired_one() {
        let mut n = node();
        n.spec.role = NodeRole::Worker; // demotion requested, not done yet
        let c = Constraint::parse("node.role==manager").expect("ok");
        assert!(matches(&c, &n));
    }

    #[test]
    fn values_are_case_insensitive() {
        assert!(check("node.labels.zone==east"));
        assert!(check("node.labels.zone==EAST"));
        assert!(!check("node.labels.zone!=eAsT"));
        assert!(check("engine.labels.disk==SSD"));
        assert!(fold_eq("ÄPFEL", "äpfel"));
        assert!(!fold_eq("äpfel", "apfel"));
    }

    #[test]
    fn label_names_are_case_sensitive() {
        assert!(!check("node.labels.Zone==east"));
        assert!(check("node.labels.Zone!=east"));
    }

    #[test]
    fn missing_label_is_empty() {
        assert!(check("node.labels.rack!=r1"));
        assert!(!check("node.labels.rack==r1"));
        assert!(!check("engine.labels.gpu==yes"));
        assert!(check("engine.labels.gpu!=yes"));
        let mut n = node();
        n.description.hostname.clear();
        let c = Constraint::parse("node.hostname!=web-01").expect("ok");
        assert!(matches(&c, &n));
    }

    #[test]
    fn node_ip_address_and_cidr() {
        assert!(check("node.ip==10.0.1.7"));
        assert!(!check("node.ip==10.0.1.8"));
        assert!(check("node.ip!=10.0.1.8"));
        assert!(check("node.ip==10.0.0.0/16"));
        assert!(check("node.ip==10.0.1.0/24"));
        assert!(!check("node.ip==10.0.2.0/24"));
        assert!(check("node.ip!=10.0.2.0/24"));
        assert!(!check("node.ip!=10.0.0.0/8"));
        assert!(check("node.ip==0.0.0.0/0"));
        assert!(!check("node.ip==fd00::/8"));
    }

    #[test]
    fn node_ip_malformed_never_matches() {
        assert!(!check("node.ip==10.0.1"));
        assert!(!check("node.ip!=10.0.1"));
        assert!(!check("node.ip==10.0.0.0/33"));
        let mut n = node();
        n.status.addr = "not-an-ip".into();
        let eq = Constraint::parse("node.ip==10.0.0.0/8").expect("ok");
        let ne = Constraint::parse("node.ip!=10.0.0.0/8").expect("ok");
        assert!(!matches(&eq, &n));
        assert!(matches(&ne, &n));
    }

    #[test]
    fn node_ip_with_port_and_ipv6() {
        let mut n = node();
        n.status.addr = "192.168.5.9:2377".into();
        assert!(matches(
            &Constraint::parse("node.ip==192.168.0.0/16").expect("ok"),
            &n
        ));
        n.status.addr = "fd00::12".into();
        assert!(matches(
            &Constraint::parse("node.ip==fd00::/64").expect("ok"),
            &n
        ));
        assert!(matches(
            &Constraint::parse("node.ip==FD00::12").expect("ok"),
            &n
        ));
        n.status.addr = "::ffff:10.1.2.3".into();
        assert!(matches(
            &Constraint::parse("node.ip==10.1.0.0/16").expect("ok"),
            &n
        ));
        assert!(matches(
            &Constraint::parse("node.ip==10.1.2.3").expect("ok"),
            &n
        ));
    }

    #[test]
    fn unknown_key_never_matches() {
        let c = Constraint {
            key: "node.colour".into(),
            equal: false,
            value: "red".into(),
        };
        assert!(!matches(&c, &node()));
    }

    #[test]
    fn parse_all_reports_the_bad_expression() {
        let good = vec![
            "node.role==worker".to_string(),
            "node.labels.a!=b".to_string(),
        ];
        assert_eq!(parse_all(&good).expect("ok").len(), 2);
        let bad = vec![
            "node.role==worker".to_string(),
            "node.role=worker".to_string(),
        ];
        assert_eq!(parse_all(&bad).expect_err("bad"), "node.role=worker");
    }

    #[test]
    fn all_constraints_must_hold() {
        let cs =
            parse_all(&["node.role==manager".into(), "node.labels.zone==east".into()]).expect("ok");
        assert!(node_matches(&cs, &node()));
        let cs =
            parse_all(&["node.role==manager".into(), "node.labels.zone==west".into()]).expect("ok");
        assert!(!node_matches(&cs, &node()));
        assert!(node_matches(&[], &node()));
    }
}
