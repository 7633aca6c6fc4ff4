//! The node data plane: overlay networks across hosts (VXLAN, macvlans,
//! network namespaces), service VIPs without IPVS (nftables), and the
//! embedded DNS server, programmed from the [`NetworkMap`] the manager
//! pushes to each node. No gossip: the map says everything.
//!
//! ```text
//!  manager ── NetworkMapUpdate (snapshot, then deltas) ──► agent
//!                                                           │ DataPlane::apply
//!  plan (pure): overlays to create/remove (plan.rs), peer   ▼
//!  entries to write/delete, stale neighbours, VIP rules (vip.rs), DNS records
//!                                                           │
//!  host netns ──────────────────────────────────────────────┼───────────────
//!   UDP 4789 (socket of every VXLAN;   rswgw0 egress bridge + table ip rswarm
//!   untracked: table rswarm_vxlan)     │ (masquerade; isolated ports)
//!        │                               │
//!  <root>/ov-<vni> netns (one per network)│
//!   rswvx0 (VXLAN: no learning, ARP proxy;│
//!        │  neighbour + FDB entry per remote endpoint)
//!        │ macvlans (bridge mode) on it: rswov0 here (gateway IP), one
//!        │ per local task in its namespace │ rswe<hash> veth
//!  task netns (<root>/task-<id>, or a container's):
//!   eth0..eth<n-1> overlays, eth<n> egress (non-internal only), lo
//!   127.0.0.11:53 UDP+TCP DNS (served from the daemon), resolv.conf
//!   table ip rswarm: VIP → backends, numgen round robin, in the output hook
//! ```
//!
//! Using it (the agent; the fake is [`FakeDataPlane`]):
//!
//! ```text
//! let dp = LinuxDataPlane::new(DataPlaneConfig::new(data_path_addr))?;
//! dp.cleanup_leftovers().await?;            // once, when the daemon starts
//! dp.apply(&update).await?;                 // every NetworkMapUpdate; on
//!                                           // NetError::StaleDelta ask for a snapshot
//! let a = dp.attach(&AttachRequest { task_id, netns: TaskNetns::Create,
//!                                    networks, dns }).await?;
//!   // process runtime: run the task in a.netns (setns in pre_exec, or
//!   // `nsenter --net=`), bind-mount a.resolv_conf on /etc/resolv.conf in
//!   // its private mount namespace;
//!   // docker runtime: TaskNetns::Existing(/proc/<pid>/ns/net) of the
//!   // task's `--network none` (pause) container, and mount a.resolv_conf
//!   // on /etc/resolv.conf.
//! dp.detach(&task_id).await?;               // after the task's process is gone
//! dp.remove_all().await?;                   // swarm leave / shutdown
//! ```
//!
//! * The map carries, per network the node takes part in: VNI, subnet,
//!   gateway, MTU, internal flag; every endpoint in the cluster (IP, MAC,
//!   VTEP = data-path address of its node, task, service, DNS names);
//!   every service (name, aliases, vip|dnsrr, VIP, backends). Endpoints
//!   whose VTEP is [`DataPlaneConfig::vtep`] are local; the others get a
//!   permanent neighbour entry and an FDB entry (always replace, deleted
//!   by diff, with what the bridge learned for a MAC that goes).
//! * Overlays exist while their network is in the map. A task's
//!   endpoints come from the map; attach fails with
//!   [`NetError::UnknownNetwork`] or [`NetError::NoEndpoint`] otherwise.
//! * Internal networks have no way out: a task whose networks are all
//!   internal gets no egress link, no default route, and its DNS server
//!   forwards nothing (REFUSED). A task on a network cannot reach another
//!   network (separate namespaces and VNIs, no routes, isolated egress
//!   ports, no forwarding between them on the host).
//! * Every sysctl relied on is written in each namespace (see
//!   [`sysctl`]). Names are all ours (see [`names`]): links `rsw*`,
//!   namespace files under the configured root, nft tables `rswarm*`;
//!   Docker's tables and links on the same host are never touched.
//! * Detach closes the task's DNS sockets before removing anything (an
//!   open socket keeps a namespace and its veths alive).
//!
//! * The ingress routing mesh ([`mesh`]): the node's endpoint `rswing0`
//!   on the ingress network and the host table `rswarm_mesh` DNAT every
//!   published port on any local address to the service's tasks; tasks
//!   route replies back through the node a connection came in by, so they
//!   see the client's own address.
//! * Encrypted overlays ([`encryption`]): VXLAN of encrypted networks goes
//!   through a user-space WireGuard tunnel (`linux::secure`) between
//!   nodes, keyed with the swarm's key from the map.
//!
//! What it does not do: allocate anything (VNIs, subnets, IPs, MACs,
//! VIPs, published ports and keys are the manager's), decide which
//! backends are healthy, spawn tasks, write /etc/hosts or set hostnames;
//! host-mode ports (the runtimes'); IPv6. On a host
//! whose iptables FORWARD policy is DROP (Docker's), forwarded egress
//! traffic of tasks needs an accept rule in Docker's `DOCKER-USER`
//! chain, which this crate does not add.
//!
//! Key types: [`DataPlane`], [`LinuxDataPlane`], [`FakeDataPlane`],
//! [`DataPlaneConfig`], [`AttachRequest`], [`Attached`], [`NetError`].
pub mod config;
pub mod dataplane;
pub mod dns;
pub mod encryption;
pub mod error;
pub mod fake;
pub mod ipam;
pub mod linux;
pub mod mesh;
pub mod names;
pub mod netns;
pub mod nft;
pub mod nl;
pub mod plan;
pub mod resolv;
pub mod sysctl;
pub mod underlay;
pub mod vip;

pub use config::{DataPlaneConfig, VXLAN_PORT};
pub use dataplane::{AttachRequest, Attached, Cleanup, DataPlane, Interface, TaskNetns};
pub use error::NetError;
pub use fake::{Call, FakeDataPlane};
pub use linux::LinuxDataPlane;
pub use netns::Netns;
pub use resolv::{DNS_ADDR, DnsSettings};
pub use rswarm_types::{NetworkMap, NetworkMapDelta, NetworkMapUpdate};
