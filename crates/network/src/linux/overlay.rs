//! One overlay network on this node: a namespace holding the VXLAN device
//! (its UDP socket in the host namespace) and, on it, a macvlan with the
//! gateway address; plus the peer entries programmed from the map. Each
//! local endpoint (a task's interface, the mesh's `rswing0`) is another
//! macvlan on the VXLAN device, moved into its own namespace: frames
//! between local endpoints never leave the macvlan port, frames to a
//! remote MAC go out through the VXLAN device's FDB entry, and the
//! device answers ARP for remote endpoints from its neighbour entries.
//! No bridge and no veth pair on the path (each costs a hop per packet).

use std::collections::BTreeSet;
use std::os::fd::AsRawFd;
use std::path::PathBuf;

use rswarm_types::{MacAddr, MapNetwork};

use crate::config::DataPlaneConfig;
use crate::error::NetError;
use crate::names::{OVERLAY_GATEWAY, OVERLAY_VXLAN, overlay_netns};
use crate::netns::{self, Netns, run_in};
use crate::nl::{LinkEnd, Netlink, Vxlan};
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

    /// Adds a local endpoint: a macvlan `name` with `mac` on this
    /// overlay's VXLAN device, created straight in the namespace `into`
    /// (a task's, the host's, or this overlay's own).
    pub async fn add_endpoint(
        &self,
        name: &str,
        mtu: u32,
        mac: MacAddr,
        into: &Netns,
    ) -> Result<(), NetError> {
        let fd = into.open()?;
        let nl = Netlink::open(&self.netns()).await?;
        let r = async {
            let vx = nl.require(OVERLAY_VXLAN).await?;
            let link = LinkEnd {
                name: name.to_string(),
                mtu,
                mac: Some(mac),
                netns_fd: Some(fd.as_raw_fd()),
            };
            nl.add_macvlan(vx, &link).await
        }
        .await;
        nl.close().await;
        r
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
        nl.set_up(vx).await?;
        let gw = MacAddr::from_ip(net.gateway);
        o.add_endpoint(OVERLAY_GATEWAY, net.mtu, gw, &ns).await?;
        nl.address_up(OVERLAY_GATEWAY, net.gateway, net.subnet.prefix_len)
            .await
    }
    .await;
    nl.close().await;
    r
}

/// Removes the overlay (its links go with its namespace).
pub fn remove(o: &Overlay) -> Result<(), NetError> {
    netns::delete(&o.path)
}

/// Brings the peer entries to `want`: deletes by key first, then writes
/// with replace.
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
            nl.fdb_del(vx, *mac).await?;
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
