//! Policy routing (`ip rule`, `ip route ... table N`) for the routing
//! mesh in a task namespace: the rules of a priority range, and the
//! removal of a table's default route ([`Netlink::default_route`] sets
//! one).

use std::net::Ipv4Addr;

use futures_util::TryStreamExt;
use netlink_packet_route::IpProtocol;
use netlink_packet_route::rule::{RuleAction, RuleAttribute, RuleMessage, RulePortRange};
use rtnetlink::{IpVersion, RouteMessageBuilder};

use super::{ENOENT, Netlink, errno};
use crate::error::NetError;
use crate::mesh::{PolicyRule, Selector};

impl Netlink {
    /// Adds `rule` (IPv4).
    pub async fn rule_add(&self, rule: &PolicyRule) -> Result<(), NetError> {
        let mut req = self
            .handle
            .rule()
            .add()
            .v4()
            .priority(rule.pref)
            .table_id(rule.table)
            .action(RuleAction::ToTable);
        match rule.selector {
            Selector::FwMark(mark) => req = req.fw_mark(mark),
            Selector::From(ip) => req = req.source_prefix(ip, 32),
            Selector::UdpSport(port) => {
                let m = req.message_mut();
                m.attributes
                    .push(RuleAttribute::IpProtocol(IpProtocol::Udp));
                m.attributes
                    .push(RuleAttribute::SourcePortRange(RulePortRange {
                        start: port,
                        end: port,
                    }));
            }
        }
        req.execute()
            .await
            .map_err(NetError::nl(format!("add rule {rule:?} in {}", self.ns)))
    }

    /// Deletes every IPv4 rule whose priority is in `first..=last`.
    pub async fn rules_del(&self, first: u32, last: u32) -> Result<(), NetError> {
        let rules: Vec<RuleMessage> = self
            .handle
            .rule()
            .get(IpVersion::V4)
            .execute()
            .try_collect()
            .await
            .map_err(NetError::nl(format!("list rules in {}", self.ns)))?;
        for r in rules {
            let pref = r.attributes.iter().find_map(|a| match a {
                RuleAttribute::Priority(p) => Some(*p),
                _ => None,
            });
            if pref.is_some_and(|p| (first..=last).contains(&p)) {
                match self.handle.rule().del(r).execute().await {
                    Err(e) if errno(&e) != Some(ENOENT) => {
                        return Err(NetError::nl(format!("delete rule in {}", self.ns))(e));
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// Deletes table `table`'s default route (a missing one is fine).
    pub async fn table_default_route_del(&self, table: u32) -> Result<(), NetError> {
        let msg = RouteMessageBuilder::<Ipv4Addr>::new()
            .table_id(table)
            .build();
        match self.handle.route().del(msg).execute().await {
            Err(e) if errno(&e) != Some(ENOENT) && errno(&e) != Some(3) => Err(NetError::nl(
                format!("delete the default route of table {table} in {}", self.ns),
            )(e)),
            _ => Ok(()),
        }
    }
}
