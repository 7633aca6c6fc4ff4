//! One overlay network on this node: a namespace holding a bridge with
//! the gateway address and a VXLAN device (its UDP socket in the host
//! namespace), plus the peer entries programmed from the map.

use std::collections::BTreeSet;
use std::os::fd::AsRawFd;
use std::path::PathBuf;

use rswarm_types::MapNetwork;

use crate::config::DataPlaneConfig;
use crate::error::NetError;
use crate::names::{OVERLAY_BRIDGE, OVERLAY_VXLAN, overlay_netns};
use crate::netns::{self, Netns, run_in};
use crate::nl::{Netlink, Vxlan};
use crate::plan::{OverlayKey, Peer, plan_peers};
use crate::sysctl;

/// An overlay that exists on this node.
#[derive(Debug)]
pub struct Overlay {
    pub key: OverlayKey,
    pub path: PathBuf,
    /// The peer entries programmed.
    pub peers: BTreeSet<Peer>,
}

impl Overlay {
    /// Its namespace.
    pub fn netns(&self) -> Netns {
        Netns::At(self.path.clone())
    }
}

/// Creates the overlay of `net` (replacing a stale namespace file).
pub async fn create(cfg: &DataPlaneConfig, net: &MapNetwork) -> Result<Overlay, NetError> {
    let path = cfg.netns_root.join(overlay_netns(net.vni));
    netns::delete(&path)?;
    netns::create(&path).await?;
    let o = Overlay {
        key: OverlayKey::of(net),
        path,
        peers: BTreeSet::new(),
    };
    match build(cfg, net, &o).await {
        Ok(()) => Ok(o),
        Err(e) => {
            let _ = netns::delete(&o.path);
            Err(e)
        }
    }
}

async fn build(cfg: &DataPlaneConfig, net: &MapNetwork, o: &Overlay) -> Result<(), NetError> {
    let ns = o.netns();
    run_in(&ns, || sysctl::write_all(sysctl::OVERLAY)).await?;
    let nl = Netlink::open(&ns).await?;
    let r = async {
        nl.add_bridge(OVERLAY_BRIDGE, net.mtu).await?;
        let br = nl.require(OVERLAY_BRIDGE).await?;
        nl.add_addr(br, net.gateway, net.subnet.prefix_len).await?;
        nl.set_up(br).await?;
        let fd = netns::open(&o.path)?;
        let host = Netlink::open(&cfg.host).await?;
        let vx = Vxlan {
            name: OVERLAY_VXLAN.to_string(),
            vni: net.vni,
            port: cfg.vxlan_port,
            local: cfg.vtep,
            mtu: net.mtu,
        };
        let added = host.add_vxlan(&vx, fd.as_raw_fd()).await;
        host.close().await;
        added?;
        let vx = nl.require(OVERLAY_VXLAN).await?;
        nl.set_master_up(vx, br).await
    }
    .await;
    nl.close().await;
    r
}

/// Removes the overlay (its links go with its namespace).
pub fn remove(o: &Overlay) -> Result<(), NetError> {
    netns::delete(&o.path)
}

/// Brings the peer entries to `want`: deletes by key first (an FDB entry
/// with what the bridge learned for that MAC), then writes with replace.
/// `o.peers` tracks what was done, also on failure.
pub async fn program(o: &mut Overlay, want: &BTreeSet<Peer>) -> Result<(), NetError> {
    let plan = plan_peers(&o.peers, want);
    if plan.is_empty() {
        return Ok(());
    }
    let nl = Netlink::open(&o.netns()).await?;
    let r = async {
        let vx = nl.require(OVERLAY_VXLAN).await?;
        for ip in &plan.del_neigh {
            nl.neigh_del(vx, *ip).await?;
            o.peers.retain(|p| p.ip != *ip);
        }
        for mac in &plan.del_fdb {
            nl.fdb_del(vx, *mac, false).await?;
            // And what the bridge learned from it on the VXLAN port.
            nl.fdb_del(vx, *mac, true).await?;
            o.peers.retain(|p| p.mac != *mac);
        }
        for p in &plan.put {
            nl.neigh_replace(vx, p.ip, p.mac).await?;
            nl.fdb_replace(vx, p.mac, p.vtep).await?;
            o.peers.retain(|q| q.ip != p.ip && q.mac != p.mac);
            o.peers.insert(*p);
        }
        Ok(())
    }
    .await;
    nl.close().await;
    r
}
