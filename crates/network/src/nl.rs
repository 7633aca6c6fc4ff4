//! A netlink (rtnetlink) connection bound to one network namespace, with
//! the few link, address, route, neighbour and FDB operations the data
//! plane needs.
//!
//! The socket is opened inside the namespace (see [`run_in`]) and stays
//! there; [`Netlink::close`] closes it (an open socket keeps its
//! namespace alive).

use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::RawFd;

use futures_util::TryStreamExt;
use netlink_packet_route::AddressFamily;
use netlink_packet_route::link::{InfoData, InfoKind, InfoVeth, LinkAttribute, LinkMessage};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage,
};
use rswarm_types::MacAddr;
use rtnetlink::packet_route::link::MacVlanMode;
use rtnetlink::{
    Handle, LinkBridge, LinkBridgePort, LinkMacVlan, LinkMessageBuilder, LinkUnspec, LinkVeth,
    LinkVxlan, RouteMessageBuilder,
};
use tokio::task::JoinHandle;

use crate::error::NetError;
use crate::netns::{Netns, run_in};

mod policy;

const ENOENT: i32 = 2;

/// A default route for [`Netlink::default_route`]: the main table unless
/// `table`; through gateway `via`, or straight out of link `dev` (a
/// tunnel) when there is none.
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultRoute {
    pub table: Option<u32>,
    pub via: Option<Ipv4Addr>,
    pub dev: Option<u32>,
    pub src: Option<Ipv4Addr>,
}
const ENODEV: i32 = 19;
const EEXIST: i32 = 17;

/// A link to create (a veth end, a macvlan).
#[derive(Clone, Debug)]
pub struct LinkEnd {
    pub name: String,
    pub mtu: u32,
    pub mac: Option<MacAddr>,
    /// Put this end into the namespace of this open namespace file
    /// (`None`: the connection's namespace).
    pub netns_fd: Option<RawFd>,
}

/// A VXLAN device.
#[derive(Clone, Debug)]
pub struct Vxlan {
    pub name: String,
    pub vni: u32,
    pub port: u16,
    pub local: Ipv4Addr,
    pub mtu: u32,
}

/// A netlink connection inside one namespace.
pub struct Netlink {
    handle: Handle,
    conn: JoinHandle<()>,
    ns: String,
}

impl Netlink {
    /// Opens a connection inside `ns`.
    pub async fn open(ns: &Netns) -> Result<Netlink, NetError> {
        let rt = tokio::runtime::Handle::current();
        let (conn, handle, _) = run_in(ns, move || {
            let _guard = rt.enter();
            rtnetlink::new_connection().map_err(NetError::io("open netlink socket"))
        })
        .await?;
        Ok(Netlink {
            handle,
            conn: tokio::spawn(conn),
            ns: ns.label(),
        })
    }

    /// Closes the socket (and waits until it is closed).
    pub async fn close(self) {
        self.conn.abort();
        let _ = self.conn.await;
    }

    /// Every link: (index, name).
    pub async fn links(&self) -> Result<Vec<(u32, String)>, NetError> {
        let msgs: Vec<LinkMessage> = self
            .handle
            .link()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(NetError::nl(format!("list links in {}", self.ns)))?;
        Ok(msgs
            .iter()
            .filter_map(|m| name_of(m).map(|n| (m.header.index, n)))
            .collect())
    }

    /// The index of link `name`, if it exists.
    pub async fn index(&self, name: &str) -> Result<Option<u32>, NetError> {
        let mut s = self
            .handle
            .link()
            .get()
            .match_name(name.to_string())
            .execute();
        match s.try_next().await {
            Ok(m) => Ok(m.map(|m| m.header.index)),
            Err(e) if errno(&e) == Some(ENODEV) => Ok(None),
            Err(e) => Err(NetError::nl(format!("get link {name} in {}", self.ns))(e)),
        }
    }

    /// The index of link `name`; an error when it is missing.
    pub async fn require(&self, name: &str) -> Result<u32, NetError> {
        self.index(name).await?.ok_or_else(|| NetError::NoLink {
            name: name.to_string(),
            netns: self.ns.clone(),
        })
    }

    /// Adds a bridge.
    pub async fn add_bridge(&self, name: &str, mtu: u32) -> Result<(), NetError> {
        let msg = LinkBridge::new(name).mtu(mtu).build();
        self.add_link(msg, name).await
    }

    /// Adds a VXLAN device whose UDP socket lives in this connection's
    /// namespace and whose device goes into the namespace of `netns_fd`.
    /// No learning; ARP answered from neighbour entries (`proxy`).
    pub async fn add_vxlan(&self, v: &Vxlan, netns_fd: RawFd) -> Result<(), NetError> {
        let msg = LinkVxlan::new(&v.name, v.vni)
            .port(v.port)
            .local(v.local)
            .learning(false)
            .proxy(true)
            .l2miss(false)
            .l3miss(false)
            .mtu(v.mtu)
            .setns_by_fd(netns_fd)
            .build();
        self.add_link(msg, &v.name).await
    }

    /// Adds a macvlan (bridge mode) on link `lower` of this connection's
    /// namespace; it may go straight into another namespace.
    pub async fn add_macvlan(&self, lower: u32, e: &LinkEnd) -> Result<(), NetError> {
        let msg = end(LinkMacVlan::new(&e.name, lower, MacVlanMode::Bridge), e).build();
        self.add_link(msg, &e.name).await
    }

    /// Adds a veth pair; either end may go straight into another namespace.
    pub async fn add_veth(&self, a: &LinkEnd, b: &LinkEnd) -> Result<(), NetError> {
        let peer = end(LinkUnspec::new_with_name(&b.name), b).build();
        let msg = end(
            LinkMessageBuilder::<LinkVeth>::new_with_info_kind(InfoKind::Veth).name(&a.name),
            a,
        )
        .set_info_data(InfoData::Veth(InfoVeth::Peer(peer)))
        .build();
        self.add_link(msg, &a.name).await
    }

    async fn add_link(&self, msg: LinkMessage, name: &str) -> Result<(), NetError> {
        self.handle
            .link()
            .add(msg)
            .execute()
            .await
            .map_err(NetError::nl(format!("add link {name} in {}", self.ns)))
    }

    /// Enslaves link `index` to bridge `master` and brings it up.
    pub async fn set_master_up(&self, index: u32, master: u32) -> Result<(), NetError> {
        let msg = LinkUnspec::new_with_index(index)
            .controller(master)
            .up()
            .build();
        self.set(msg, index, "set master").await
    }

    /// Brings link `index` up.
    pub async fn set_up(&self, index: u32) -> Result<(), NetError> {
        let msg = LinkUnspec::new_with_index(index).up().build();
        self.set(msg, index, "set up").await
    }

    /// Bridge port `index` may talk only to the bridge itself, not to other
    /// isolated ports.
    pub async fn set_isolated(&self, index: u32) -> Result<(), NetError> {
        let msg = LinkBridgePort::new(index).isolated(true).build();
        self.handle
            .link()
            .set_port(msg)
            .execute()
            .await
            .map_err(NetError::nl(format!("isolate port {index} in {}", self.ns)))
    }

    async fn set(&self, msg: LinkMessage, index: u32, what: &str) -> Result<(), NetError> {
        self.handle
            .link()
            .set(msg)
            .execute()
            .await
            .map_err(NetError::nl(format!("{what} link {index} in {}", self.ns)))
    }

    /// Deletes link `index`; a missing link is fine.
    pub async fn del_link(&self, index: u32) -> Result<(), NetError> {
        match self.handle.link().del(index).execute().await {
            Err(e) if errno(&e) != Some(ENODEV) => Err(NetError::nl(format!(
                "delete link {index} in {}",
                self.ns
            ))(e)),
            _ => Ok(()),
        }
    }

    /// Adds `ip/prefix_len` to link `index` (an existing one is fine).
    /// Gives link `name` the address `ip/prefix_len` and brings it up.
    pub async fn address_up(
        &self,
        name: &str,
        ip: Ipv4Addr,
        prefix_len: u8,
    ) -> Result<(), NetError> {
        let idx = self.require(name).await?;
        self.add_addr(idx, ip, prefix_len).await?;
        self.set_up(idx).await
    }

    pub async fn add_addr(&self, index: u32, ip: Ipv4Addr, prefix_len: u8) -> Result<(), NetError> {
        match self
            .handle
            .address()
            .add(index, IpAddr::V4(ip), prefix_len)
            .execute()
            .await
        {
            Err(e) if errno(&e) != Some(EEXIST) => Err(NetError::nl(format!(
                "add address {ip}/{prefix_len} in {}",
                self.ns
            ))(e)),
            _ => Ok(()),
        }
    }

    /// Sets a default route (replacing one): `ip route replace default
    /// [via GW] [dev IDX] [src SRC] [table N]`.
    pub async fn default_route(&self, r: DefaultRoute) -> Result<(), NetError> {
        let mut b = RouteMessageBuilder::<Ipv4Addr>::new();
        if let Some(t) = r.table {
            b = b.table_id(t);
        }
        if let Some(gw) = r.via {
            b = b.gateway(gw);
        }
        if let Some(idx) = r.dev {
            b = b.output_interface(idx);
            if r.via.is_none() {
                b = b.scope(netlink_packet_route::route::RouteScope::Link);
            }
        }
        if let Some(src) = r.src {
            b = b.pref_source(src);
        }
        self.handle
            .route()
            .add(b.build())
            .replace()
            .execute()
            .await
            .map_err(NetError::nl(format!("{r:?} in {}", self.ns)))
    }

    /// `ip neigh replace IP lladdr MAC dev INDEX nud permanent`.
    pub async fn neigh_replace(
        &self,
        index: u32,
        ip: Ipv4Addr,
        mac: MacAddr,
    ) -> Result<(), NetError> {
        self.handle
            .neighbours()
            .add(index, IpAddr::V4(ip))
            .link_layer_address(&mac.0)
            .replace()
            .execute()
            .await
            .map_err(NetError::nl(format!("neighbour {ip} {mac} in {}", self.ns)))
    }

    /// `ip neigh del IP dev INDEX`; a missing entry is fine.
    pub async fn neigh_del(&self, index: u32, ip: Ipv4Addr) -> Result<(), NetError> {
        let mut m = NeighbourMessage::default();
        m.header.family = AddressFamily::Inet;
        m.header.ifindex = index;
        m.attributes
            .push(NeighbourAttribute::Destination(NeighbourAddress::Inet(ip)));
        self.del_neigh(m, &format!("delete neighbour {ip}")).await
    }

    /// `bridge fdb replace MAC dev INDEX dst VTEP self permanent`.
    pub async fn fdb_replace(
        &self,
        index: u32,
        mac: MacAddr,
        vtep: Ipv4Addr,
    ) -> Result<(), NetError> {
        let mut req = self
            .handle
            .neighbours()
            .add_bridge(index, &mac.0)
            .flags(NeighbourFlags::Own)
            .replace();
        req.message_mut()
            .attributes
            .push(NeighbourAttribute::Destination(NeighbourAddress::Inet(
                vtep,
            )));
        req.execute()
            .await
            .map_err(NetError::nl(format!("fdb {mac} dst {vtep} in {}", self.ns)))
    }

    /// `bridge fdb del MAC dev INDEX self` (the VXLAN device's entry); a
    /// missing entry is fine.
    pub async fn fdb_del(&self, index: u32, mac: MacAddr) -> Result<(), NetError> {
        let mut m = NeighbourMessage::default();
        m.header.family = AddressFamily::Bridge;
        m.header.ifindex = index;
        m.header.flags = NeighbourFlags::Own;
        m.attributes
            .push(NeighbourAttribute::LinkLayerAddress(mac.0.to_vec()));
        self.del_neigh(m, &format!("delete fdb {mac}")).await
    }

    async fn del_neigh(&self, m: NeighbourMessage, what: &str) -> Result<(), NetError> {
        match self.handle.neighbours().del(m).execute().await {
            Err(e) if !matches!(errno(&e), Some(ENOENT) | Some(ENODEV)) => {
                Err(NetError::nl(format!("{what} in {}", self.ns))(e))
            }
            _ => Ok(()),
        }
    }
}

fn end<T>(b: LinkMessageBuilder<T>, e: &LinkEnd) -> LinkMessageBuilder<T> {
    let mut b = b.mtu(e.mtu);
    if let Some(mac) = e.mac {
        b = b.address(mac.0.to_vec());
    }
    if let Some(fd) = e.netns_fd {
        b = b.setns_by_fd(fd);
    }
    b
}

fn name_of(m: &LinkMessage) -> Option<String> {
    m.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(n) => Some(n.clone()),
        _ => None,
    })
}

/// The positive errno of a kernel refusal.
fn errno(e: &rtnetlink::Error) -> Option<i32> {
    match e {
        rtnetlink::Error::NetlinkError(m) => m.code.map(|c| -c.get()),
        _ => None,
    }
}
