//! The node's way out (Docker's `docker_gwbridge`): a bridge `rswgw0` in
//! the host namespace with the pool's gateway address; each task with a
//! non-internal network gets an isolated port on it (tasks cannot talk to
//! each other through it) and its default route there; the host forwards
//! and masquerades their traffic. It exists while some task uses it.

use std::fmt::Write;

use rswarm_types::Ipv4Cidr;

use crate::config::DataPlaneConfig;
use crate::error::NetError;
use crate::names::{EGRESS_BRIDGE, NFT_TABLE};
use crate::netns::run_in;
use crate::nft;
use crate::nl::Netlink;
use crate::sysctl;

/// Creates the bridge and the host table (idempotent).
pub async fn up(cfg: &DataPlaneConfig) -> Result<(), NetError> {
    run_in(&cfg.host, || sysctl::write_all(sysctl::HOST_EGRESS)).await?;
    let nl = Netlink::open(&cfg.host).await?;
    let r = async {
        if nl.index(EGRESS_BRIDGE).await?.is_none() {
            nl.add_bridge(EGRESS_BRIDGE, 1500).await?;
        }
        let gw = cfg.egress_subnet.nth(1).unwrap_or(cfg.egress_subnet.addr);
        nl.address_up(EGRESS_BRIDGE, gw, cfg.egress_subnet.prefix_len)
            .await
    }
    .await;
    nl.close().await;
    r?;
    nft::apply(&cfg.host, ruleset(cfg.egress_subnet)).await
}

/// Removes the bridge and the host table.
pub async fn down(cfg: &DataPlaneConfig) -> Result<(), NetError> {
    let nl = Netlink::open(&cfg.host).await?;
    let r = async {
        if let Some(i) = nl.index(EGRESS_BRIDGE).await? {
            nl.del_link(i).await?;
        }
        Ok::<(), NetError>(())
    }
    .await;
    nl.close().await;
    r?;
    nft::apply(
        &cfg.host,
        format!("table ip {NFT_TABLE}\ndelete table ip {NFT_TABLE}\n"),
    )
    .await
}

/// The host table: no forwarding between egress ports, masquerade of the
/// pool leaving by another link.
pub fn ruleset(subnet: Ipv4Cidr) -> String {
    let mut s = format!("table ip {NFT_TABLE}\ndelete table ip {NFT_TABLE}\n");
    let _ = write!(
        s,
        "table ip {NFT_TABLE} {{\n\
         \tchain forward {{\n\t\ttype filter hook forward priority 0; policy accept;\n\
         \t\tiifname \"{EGRESS_BRIDGE}\" oifname \"{EGRESS_BRIDGE}\" drop\n\t}}\n\
         \tchain postrouting {{\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n\
         \t\tip saddr {net}/{len} oifname != \"{EGRESS_BRIDGE}\" masquerade\n\t}}\n}}\n",
        net = subnet.network(),
        len = subnet.prefix_len
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_table_masquerades_the_pool_and_isolates_its_ports() {
        let r = ruleset("172.30.0.0/16".parse().expect("cidr"));
        assert!(r.starts_with("table ip rswarm\ndelete table ip rswarm\n"));
        assert!(r.contains("iifname \"rswgw0\" oifname \"rswgw0\" drop"));
        assert!(r.contains("ip saddr 172.30.0.0/16 oifname != \"rswgw0\" masquerade"));
    }
}
