//! The routing mesh on this node: its endpoint on the ingress network (a
//! macvlan `rswing0` on the ingress overlay's VXLAN device, moved into the
//! host namespace, with the node's ingress address and the MAC made from
//! it), the host table `rswarm_mesh` (see
//! [`crate::mesh`]), and in each task on the ingress network the policy
//! routing that sends replies back through the node they came in by.

use rswarm_types::{MacAddr, MapNetwork};

use crate::config::DataPlaneConfig;
use crate::error::NetError;
use crate::linux::overlay::Overlay;
use crate::linux::task::Plumbing;
use crate::mesh::{self, PolicyRoutes, RULE_PREF_FIRST, RULE_PREF_LAST};
use crate::names::{MESH_LINK, MESH_TABLE};
use crate::netns::run_in;
use crate::nft;
use crate::nl::{DefaultRoute, Netlink};
use crate::sysctl;

/// The node's endpoint as it was built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub network_id: String,
    pub vni: u32,
    pub local: std::net::Ipv4Addr,
    /// The host table last applied.
    pub ruleset: Option<String>,
}

/// Builds the node's endpoint on `net` (the ingress overlay `ov`),
/// replacing one left over.
pub async fn up(
    cfg: &DataPlaneConfig,
    ov: &Overlay,
    net: &MapNetwork,
) -> Result<Endpoint, NetError> {
    let ing = net
        .ingress
        .as_ref()
        .ok_or_else(|| NetError::UnknownNetwork(net.id.clone()))?;
    down_link(cfg).await?;
    let mac = MacAddr::from_ip(ing.local);
    ov.add_endpoint(MESH_LINK, net.mtu, mac, &cfg.host).await?;
    let hnl = Netlink::open(&cfg.host).await?;
    let r = hnl
        .address_up(MESH_LINK, ing.local, net.subnet.prefix_len)
        .await;
    hnl.close().await;
    r?;
    run_in(&cfg.host, || sysctl::write_all(sysctl::HOST_MESH)).await?;
    Ok(Endpoint {
        network_id: net.id.clone(),
        vni: net.vni,
        local: ing.local,
        ruleset: None,
    })
}

/// Applies the host table for `net`'s mesh when it changed.
pub async fn program(
    cfg: &DataPlaneConfig,
    ep: &mut Endpoint,
    net: &MapNetwork,
) -> Result<(), NetError> {
    let rules = mesh::host_ruleset(net.ingress.as_ref());
    if ep.ruleset.as_ref() == Some(&rules) {
        return Ok(());
    }
    nft::apply(&cfg.host, rules.clone()).await?;
    ep.ruleset = Some(rules);
    Ok(())
}

/// Removes the endpoint and the host table.
pub async fn down(cfg: &DataPlaneConfig) -> Result<(), NetError> {
    let r = down_link(cfg).await;
    let script = format!("table ip {MESH_TABLE}\ndelete table ip {MESH_TABLE}\n");
    r.and(nft::apply(&cfg.host, script).await)
}

async fn down_link(cfg: &DataPlaneConfig) -> Result<(), NetError> {
    let nl = Netlink::open(&cfg.host).await?;
    let r = async {
        if let Some(i) = nl.index(MESH_LINK).await? {
            nl.del_link(i).await?;
        }
        Ok::<(), NetError>(())
    }
    .await;
    nl.close().await;
    r
}

/// Brings a task's policy routing to `want`; `p.mesh` says what is
/// there (left as it was on failure, so the next pass tries again).
pub async fn program_task(p: &mut Plumbing, want: Option<PolicyRoutes>) -> Result<(), NetError> {
    if p.mesh == want {
        return Ok(());
    }
    let nl = Netlink::open(&p.netns()).await?;
    let r = async {
        nl.rules_del(RULE_PREF_FIRST, RULE_PREF_LAST).await?;
        if let Some(old) = &p.mesh {
            for (table, _) in &old.tables {
                if !want
                    .as_ref()
                    .is_some_and(|w| w.tables.iter().any(|(t, _)| t == table))
                {
                    nl.table_default_route_del(*table).await?;
                }
            }
        }
        if let Some(w) = &want {
            let idx = nl.require(&w.iface).await?;
            for (table, gw) in &w.tables {
                nl.default_route(DefaultRoute {
                    table: Some(*table),
                    via: Some(*gw),
                    dev: Some(idx),
                    src: Some(w.src),
                })
                .await?;
            }
            for rule in &w.rules {
                nl.rule_add(rule).await?;
            }
        }
        Ok::<(), NetError>(())
    }
    .await;
    nl.close().await;
    r?;
    p.mesh = want;
    Ok(())
}
