//! Encrypted overlays on this node (see [`crate::encryption`]): the
//! tunnel `rswwg0`, the policy rule and table that route marked VXLAN
//! packets into it, and the host table `rswarm_secure`, following the map.

use rswarm_types::NetworkMap;

use crate::config::DataPlaneConfig;
use crate::encryption::{
    self, Plan, SECURE_MARK, SECURE_PORT, SECURE_ROUTE_TABLE, SECURE_RULE_PREF,
};
use crate::error::NetError;
use crate::linux::secure::{SecureTunnel, TunnelKeys};
use crate::mesh::{PolicyRule, Selector};
use crate::names::{SECURE_LINK, SECURE_TABLE};
use crate::netns::run_in;
use crate::nft;
use crate::nl::{DefaultRoute, Netlink};
use crate::sysctl;

/// What runs for the node's encrypted networks.
#[derive(Debug)]
pub struct Encrypted {
    tunnel: SecureTunnel,
    plan: Plan,
    ruleset: String,
}

fn keys(plan: &Plan) -> Result<TunnelKeys, NetError> {
    let (private, preshared) = plan
        .key
        .bytes()
        .ok_or(NetError::BadKey(plan.key.generation))?;
    Ok(TunnelKeys { private, preshared })
}

/// Brings `cur` to what `map` asks for.
pub async fn converge(
    cfg: &DataPlaneConfig,
    cur: &mut Option<Encrypted>,
    map: &NetworkMap,
) -> Result<(), NetError> {
    let Some(want) = encryption::plan(map, cfg.vtep) else {
        return match cur.take() {
            Some(e) => down(cfg, Some(e)).await,
            None => Ok(()),
        };
    };
    if cur.is_none() {
        *cur = Some(up(cfg, &want).await?);
    }
    let Some(e) = cur.as_mut() else {
        return Ok(());
    };
    if e.plan.key != want.key {
        e.tunnel.set_keys(keys(&want)?).await?;
    }
    if e.plan.peers != want.peers {
        let peers: Vec<_> = want.peers.iter().copied().collect();
        e.tunnel.set_peers(&peers).await?;
    }
    let rules = encryption::host_ruleset(&want.vnis, cfg.vxlan_port);
    if e.ruleset != rules {
        nft::apply(&cfg.host, rules.clone()).await?;
        e.ruleset = rules;
    }
    e.plan = want;
    Ok(())
}

async fn up(cfg: &DataPlaneConfig, plan: &Plan) -> Result<Encrypted, NetError> {
    down(cfg, None).await?;
    let tunnel =
        SecureTunnel::start(&cfg.host, SECURE_LINK, cfg.vtep, SECURE_PORT, keys(plan)?).await?;
    let r = async {
        run_in(&cfg.host, || sysctl::write_all(sysctl::HOST_SECURE)).await?;
        let nl = Netlink::open(&cfg.host).await?;
        let r = async {
            let idx = nl.require(SECURE_LINK).await?;
            nl.default_route(DefaultRoute {
                table: Some(SECURE_ROUTE_TABLE),
                dev: Some(idx),
                ..Default::default()
            })
            .await?;
            nl.rule_add(&PolicyRule {
                pref: SECURE_RULE_PREF,
                selector: Selector::FwMark(SECURE_MARK),
                table: SECURE_ROUTE_TABLE,
            })
            .await
        }
        .await;
        nl.close().await;
        r
    }
    .await;
    if let Err(e) = r {
        tunnel.stop().await;
        let _ = down(cfg, None).await;
        return Err(e);
    }
    let peers: Vec<_> = plan.peers.iter().copied().collect();
    tunnel.set_peers(&peers).await?;
    Ok(Encrypted {
        tunnel,
        plan: Plan {
            vnis: Default::default(),
            peers: plan.peers.clone(),
            key: plan.key.clone(),
        },
        ruleset: String::new(),
    })
}

/// Stops the tunnel (when there is one) and removes the rule, the route
/// and the host table (also those of a crashed run).
pub async fn down(cfg: &DataPlaneConfig, e: Option<Encrypted>) -> Result<(), NetError> {
    let script = format!("table ip {SECURE_TABLE}\ndelete table ip {SECURE_TABLE}\n");
    let r = nft::apply(&cfg.host, script).await;
    let nl = Netlink::open(&cfg.host).await?;
    let r2 = async {
        nl.rules_del(SECURE_RULE_PREF, SECURE_RULE_PREF).await?;
        nl.table_default_route_del(SECURE_ROUTE_TABLE).await
    }
    .await;
    nl.close().await;
    if let Some(e) = e {
        e.tunnel.stop().await;
    }
    r.and(r2)
}
