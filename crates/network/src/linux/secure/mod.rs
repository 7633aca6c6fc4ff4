//! Encrypted overlays (`--opt encrypted`): a user-space WireGuard tunnel
//! between the nodes' VTEPs, for kernels without ESP, AES-GCM or the
//! WireGuard module. The Noise protocol is boringtun's
//! ([`boringtun::noise::Tunn`], one per peer); this module is the device
//! around it: a TUN link, a UDP socket and three threads.
//!
//! ```text
//!  host netns
//!   VXLAN socket ── UDP 4789 to a peer's VTEP (fwmark + policy route)
//!        │                                  ▲ kernel delivers to :4789
//!        ▼                                  │
//!   rswwg0 (TUN, no address) ◄──────────────┘ decrypted inner packet
//!        │ read: inner packet, destination IP = the peer's VTEP
//!        ▼
//!   peers.rs: Tunn of that peer ─ encapsulate / decapsulate
//!        │ UDP <VTEP>:4790 ⇄ <peer VTEP>:4790 (WireGuard messages)
//!   underlay
//! ```
//!
//! * One thread reads the TUN and encrypts, one reads the socket and
//!   decrypts (handshake replies and the packets boringtun queued while it
//!   had no session go back out), one calls `update_timers` of every
//!   session every 250 ms (handshake retries, keepalives, rekeying).
//!   The messages of a burst of TUN reads leave in UDP GSO sends, and the
//!   socket receives GRO batches (`batch.rs`): about one UDP system call
//!   per 8 datagrams under load; the TUN is still one read or write per
//!   packet.
//! * Packets to an address that is not a peer are dropped; only what a
//!   peer's session authenticated, an IPv4 packet whose source is that
//!   peer's VTEP, is written to the TUN.
//! * Every node uses the same key pair and preshared key (the leader
//!   distributes and rotates them), so a peer's public key is our own.
//!   [`SecureTunnel::set_keys`] starts a new session per peer with the new
//!   keys and keeps the old one for [`GRACE`]: traffic keeps using the old
//!   session until the new one carried an authenticated packet from the
//!   peer (so a node that rotates before its peer loses nothing), and a
//!   peer still on the old keys can handshake on the old session. A
//!   rotation must change the private key: handshakes are told apart by
//!   the receiver's public key (MAC1), not by the preshared key.
//! * The outer datagram may be fragmented (the socket does not set DF on
//!   datagrams larger than the route's MTU), so 1500-byte inner packets
//!   cross a 1500-byte underlay.
//!
//! What it does not do: mark or route the VXLAN packets into the TUN,
//! open the port in a firewall, learn peers (the caller names them),
//! roam (a peer is its VTEP), IPv6.

mod batch;
mod device;
mod peers;

use std::fmt;
use std::net::Ipv4Addr;

use crate::error::NetError;
use crate::netns::Netns;

pub use peers::GRACE;

/// The default UDP port of the tunnel.
pub const TUNNEL_PORT: u16 = 4790;

/// The MTU of the TUN link.
pub const TUN_MTU: u16 = 1500;

/// The cluster-wide keys: an X25519 private key (its public key is every
/// peer's) and a preshared key mixed into every handshake.
#[derive(Clone, PartialEq, Eq)]
pub struct TunnelKeys {
    pub private: [u8; 32],
    pub preshared: [u8; 32],
}

impl fmt::Debug for TunnelKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TunnelKeys { .. }")
    }
}

/// A running tunnel: the TUN link, the socket and the threads.
#[derive(Debug)]
pub struct SecureTunnel {
    table: std::sync::Arc<peers::Table>,
    device: device::Device,
}

impl SecureTunnel {
    /// Creates the TUN link `name` (no packet information, up, MTU
    /// [`TUN_MTU`], no address) and binds UDP `local:port`, both in `host`,
    /// and starts the threads. No peers yet.
    pub async fn start(
        host: &Netns,
        name: &str,
        local: Ipv4Addr,
        port: u16,
        keys: TunnelKeys,
    ) -> Result<SecureTunnel, NetError> {
        let table = std::sync::Arc::new(peers::Table::new(&keys));
        let device = device::Device::start(host, name, local, port, table.clone()).await?;
        Ok(SecureTunnel { table, device })
    }

    /// The peers, by VTEP: sessions of peers not listed end, new peers get
    /// one (the handshake runs when the first packet goes to them).
    pub async fn set_peers(&self, peers: &[Ipv4Addr]) -> Result<(), NetError> {
        self.table.set_peers(peers);
        Ok(())
    }

    /// New keys: a new session per peer; the old ones carry traffic until
    /// the new ones work, and end after [`GRACE`]. The same keys again
    /// change nothing.
    pub async fn set_keys(&self, keys: TunnelKeys) -> Result<(), NetError> {
        self.table.set_keys(&keys);
        Ok(())
    }

    /// The TUN link's name.
    pub fn name(&self) -> &str {
        self.device.name()
    }

    /// Stops the threads and closes the socket and the TUN, which removes
    /// the link.
    pub async fn stop(self) {
        self.device.stop().await;
    }
}
