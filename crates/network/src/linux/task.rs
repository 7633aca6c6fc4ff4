//! One task's plumbing: its namespace, a macvlan per network (on the
//! overlay's VXLAN device), an egress veth when it has a way out, its
//! VIP table, resolv.conf and DNS server; and tearing all that down.

use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::path::PathBuf;

use rswarm_types::{MapEndpoint, MapNetwork, NetworkMap};

use crate::config::DataPlaneConfig;
use crate::dataplane::{AttachRequest, Attached, Interface, TaskNetns, interfaces};
use crate::dns::{DnsContext, DnsServer, Records};
use crate::error::NetError;
use crate::linux::overlay::Overlay;
use crate::mesh;
use crate::names::{EGRESS_BRIDGE, NFT_TABLE, egress_port, task_netns};
use crate::netns::{self, Netns, run_in};
use crate::nft;
use crate::nl::{DefaultRoute, LinkEnd, Netlink};
use crate::sysctl;
use crate::vip;

/// What exists for an attached task.
#[derive(Debug)]
pub struct Plumbing {
    pub task_id: String,
    pub path: PathBuf,
    /// Whether the data plane created (and so deletes) the namespace.
    pub created: bool,
    /// Network IDs, in interface order.
    pub networks: Vec<String>,
    pub egress: Option<Ipv4Addr>,
    /// The table (VIPs, mesh chains) last applied.
    pub nft: Option<String>,
    /// The mesh's policy routing in place (on the ingress network only).
    pub mesh: Option<crate::mesh::PolicyRoutes>,
    pub dns: Option<DnsServer>,
    pub resolv_conf: PathBuf,
    pub interfaces: Vec<Interface>,
}

impl Plumbing {
    /// The task's namespace.
    pub fn netns(&self) -> Netns {
        Netns::At(self.path.clone())
    }

    /// What the executor gets.
    pub fn attached(&self) -> Attached {
        Attached {
            netns: self.path.clone(),
            resolv_conf: self.resolv_conf.clone(),
            interfaces: self.interfaces.clone(),
        }
    }
}

/// Everything `build` needs besides the plumbing it fills in.
pub struct Setup<'a> {
    pub cfg: &'a DataPlaneConfig,
    pub map: &'a NetworkMap,
    pub req: &'a AttachRequest,
    pub nets: &'a [(&'a MapNetwork, &'a MapEndpoint)],
    pub overlays: Vec<&'a Overlay>,
    pub records: tokio::sync::watch::Receiver<std::sync::Arc<Records>>,
}

/// An empty plumbing record for `req` (nothing exists yet).
pub fn new_plumbing(cfg: &DataPlaneConfig, req: &AttachRequest) -> Plumbing {
    let (path, created) = match &req.netns {
        TaskNetns::Create => (cfg.netns_root.join(task_netns(&req.task_id)), true),
        TaskNetns::Existing(p) => (p.clone(), false),
    };
    Plumbing {
        task_id: req.task_id.clone(),
        path,
        created,
        networks: req.networks.clone(),
        egress: None,
        nft: None,
        mesh: None,
        dns: None,
        resolv_conf: cfg.state_dir.join(&req.task_id).join("resolv.conf"),
        interfaces: Vec::new(),
    }
}

/// Builds everything for the task into `p`. `egress` is the task's
/// egress address (the bridge is up) when it has a way out. On error,
/// `p` says what exists, for [`teardown`].
pub async fn build(
    s: &Setup<'_>,
    p: &mut Plumbing,
    egress: Option<Ipv4Addr>,
) -> Result<(), NetError> {
    if p.created {
        netns::delete(&p.path)?;
        netns::create(&p.path).await?;
    }
    let ns = p.netns();
    run_in(&ns, || sysctl::write_all(sysctl::TASK)).await?;
    let tnl = Netlink::open(&ns).await?;
    let r = links(s, p, &tnl, egress).await;
    tnl.close().await;
    r?;
    let vips = vip::vips(s.map, &p.networks);
    let task_mesh = mesh::task_mesh(s.map, &p.networks, &p.task_id);
    let rules = vip::ruleset(&vips, task_mesh.as_ref());
    // A new namespace has no table to remove; one we did not create might.
    if !p.created || !vips.is_empty() || task_mesh.is_some() {
        nft::apply(&ns, rules.clone()).await?;
    }
    p.nft = Some(rules);
    crate::linux::mesh::program_task(p, task_mesh.as_ref().map(mesh::policy_routes)).await?;
    let settings = s.cfg.dns.for_task(&s.req.dns);
    if let Some(dir) = p.resolv_conf.parent() {
        crate::netns::create_private_dir(dir)?;
    }
    std::fs::write(&p.resolv_conf, settings.resolv_conf())
        .map_err(NetError::io(format!("write {}", p.resolv_conf.display())))?;
    let ctx = DnsContext {
        records: s.records.clone(),
        networks: p.networks.clone(),
        forwarding: egress.is_some(),
        upstream: settings.upstream(),
        host: s.cfg.host.clone(),
        timeout: s.cfg.dns_timeout,
    };
    p.dns = Some(DnsServer::start(&ns, ctx).await?);
    Ok(())
}

async fn links(
    s: &Setup<'_>,
    p: &mut Plumbing,
    tnl: &Netlink,
    egress: Option<Ipv4Addr>,
) -> Result<(), NetError> {
    let lo = tnl.require("lo").await?;
    tnl.set_up(lo).await?;
    for (i, ((net, ep), ov)) in s.nets.iter().zip(&s.overlays).enumerate() {
        let eth = format!("eth{i}");
        ov.add_endpoint(&eth, net.mtu, ep.mac, &p.netns()).await?;
        tnl.address_up(&eth, ep.ip, net.subnet.prefix_len).await?;
    }
    let egress_cidr = egress.map(|addr| rswarm_types::Ipv4Cidr {
        addr,
        prefix_len: s.cfg.egress_subnet.prefix_len,
    });
    p.interfaces = interfaces(s.nets, egress_cidr);
    if let Some(ip) = egress {
        p.egress = Some(ip);
        let eth = format!("eth{}", s.nets.len());
        let host_port = egress_port(&p.task_id);
        let fd = netns::open(&p.path)?;
        let hnl = Netlink::open(&s.cfg.host).await?;
        let r = async {
            hnl.add_veth(
                &LinkEnd {
                    name: host_port.clone(),
                    mtu: 1500,
                    mac: None,
                    netns_fd: None,
                },
                &LinkEnd {
                    name: eth.clone(),
                    mtu: 1500,
                    mac: None,
                    netns_fd: Some(fd.as_raw_fd()),
                },
            )
            .await?;
            let br = hnl.require(EGRESS_BRIDGE).await?;
            let idx = hnl.require(&host_port).await?;
            hnl.set_master_up(idx, br).await?;
            hnl.set_isolated(idx).await
        }
        .await;
        hnl.close().await;
        r?;
        tnl.address_up(&eth, ip, s.cfg.egress_subnet.prefix_len)
            .await?;
        let gw = s
            .cfg
            .egress_subnet
            .nth(1)
            .unwrap_or(s.cfg.egress_subnet.addr);
        tnl.default_route(DefaultRoute {
            via: Some(gw),
            ..Default::default()
        })
        .await?;
    }
    Ok(())
}

/// Removes what `p` says exists: DNS sockets first, then the task's
/// macvlans and egress veth, the table in a namespace we did not create,
/// our namespace, resolv.conf. Returns the first error but always does
/// all of it.
pub async fn teardown(cfg: &DataPlaneConfig, p: &mut Plumbing) -> Result<(), NetError> {
    let mut first: Option<NetError> = None;
    let mut note = |r: Result<(), NetError>| {
        if let Err(e) = r {
            first.get_or_insert(e);
        }
    };
    if let Some(dns) = p.dns.take() {
        dns.stop().await;
    }
    // Deleted by name, not left to the namespace: it lives on while
    // anything holds it (a container's, a process still exiting).
    if p.path.exists() {
        for i in 0..p.networks.len() {
            note(del_link(&p.netns(), &format!("eth{i}")).await);
        }
    }
    if p.egress.is_some() {
        note(del_link(&cfg.host, &egress_port(&p.task_id)).await);
    }
    if p.created {
        note(netns::delete(&p.path));
    } else if p.nft.is_some() && p.path.exists() {
        let script = format!("table ip {NFT_TABLE}\ndelete table ip {NFT_TABLE}\n");
        note(nft::apply(&p.netns(), script).await);
    }
    p.nft = None;
    if let Some(dir) = p.resolv_conf.parent()
        && dir.exists()
    {
        note(
            std::fs::remove_dir_all(dir).map_err(NetError::io(format!("remove {}", dir.display()))),
        );
    }
    first.map_or(Ok(()), Err)
}

/// Deletes the task's neighbour entries for `ips` on its link to network
/// `net` (missing entries are fine).
pub async fn forget_neighbours(p: &Plumbing, net: &str, ips: &[Ipv4Addr]) -> Result<(), NetError> {
    let Some(i) = p.networks.iter().position(|n| n == net) else {
        return Ok(());
    };
    let nl = Netlink::open(&p.netns()).await?;
    let r = async {
        let idx = nl.require(&format!("eth{i}")).await?;
        for ip in ips {
            nl.neigh_del(idx, *ip).await?;
        }
        Ok::<(), NetError>(())
    }
    .await;
    nl.close().await;
    r
}

async fn del_link(ns: &Netns, name: &str) -> Result<(), NetError> {
    let nl = Netlink::open(ns).await?;
    let r = async {
        if let Some(i) = nl.index(name).await? {
            nl.del_link(i).await?;
        }
        Ok::<(), NetError>(())
    }
    .await;
    nl.close().await;
    r
}
