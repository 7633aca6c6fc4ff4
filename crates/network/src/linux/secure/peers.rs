//! The peer table: a boringtun session per peer (two during a key
//! rotation), which session a packet goes to, and what comes out of it.
//! No I/O of its own: what must be sent or delivered goes to an [`Io`].
//!
//! Incoming WireGuard messages are matched to a peer by their source
//! address, then to a session: a handshake initiation to the first
//! session whose keys it was made for (current, then previous), every
//! other message by the receiver index in it (each session's indices carry the
//! session's own 24-bit number, boringtun's `index << 8`).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use boringtun::noise::{Tunn, TunnResult};
use boringtun::x25519::{PublicKey, StaticSecret};

use super::TunnelKeys;

/// How long the sessions of the previous keys live after a rotation.
pub const GRACE: Duration = Duration::from_secs(120);

/// WireGuard message types (first byte, little-endian u32).
const HANDSHAKE_INIT: u32 = 1;
const HANDSHAKE_RESP: u32 = 2;
const DATA: u32 = 4;

/// Where the table's output goes.
pub(crate) trait Io {
    /// A WireGuard message to a peer.
    fn to_peer(&mut self, peer: Ipv4Addr, datagram: &[u8]);
    /// An authenticated inner packet for the TUN.
    fn to_tun(&mut self, packet: &[u8]);
}

/// Session numbers, unique within the process (24 bits).
static NEXT_INDEX: AtomicU32 = AtomicU32::new(1);

fn next_index() -> u32 {
    loop {
        let i = NEXT_INDEX.fetch_add(1, Ordering::Relaxed) & 0x00ff_ffff;
        if i != 0 {
            return i;
        }
    }
}

/// One boringtun tunnel to a peer, under one set of keys.
struct Session {
    tunn: Tunn,
    index: u32,
    /// An authenticated handshake response or data packet came in on it:
    /// it has a session the peer uses too.
    confirmed: bool,
}

impl Session {
    fn new(keys: &TunnelKeys) -> Session {
        let secret = StaticSecret::from(keys.private);
        let public = PublicKey::from(&secret);
        let index = next_index();
        let tunn = Tunn::new(secret, public, Some(keys.preshared), None, index, None);
        Session {
            // boringtun fails only for an index above 24 bits
            tunn: tunn.unwrap_or_else(|e| unreachable!("boringtun refused index {index}: {e}")),
            index,
            confirmed: false,
        }
    }
}

struct Peer {
    current: Session,
    /// The session of the previous keys and when it ends.
    previous: Option<(Session, Instant)>,
}

impl Peer {
    fn new(keys: &TunnelKeys, old: Option<&(TunnelKeys, Instant)>) -> Peer {
        Peer {
            current: Session::new(keys),
            previous: old.map(|(k, until)| (Session::new(k), *until)),
        }
    }

    /// The session that sends: the previous one while only it works.
    fn sending(&mut self) -> &mut Session {
        match &mut self.previous {
            Some((p, _)) if p.confirmed && !self.current.confirmed => p,
            _ => &mut self.current,
        }
    }

    fn by_index(&mut self, index: u32) -> Option<&mut Session> {
        if self.current.index == index {
            return Some(&mut self.current);
        }
        match &mut self.previous {
            Some((p, _)) if p.index == index => Some(p),
            _ => None,
        }
    }

    fn sessions(&mut self) -> impl Iterator<Item = &mut Session> {
        std::iter::once(&mut self.current).chain(self.previous.as_mut().map(|(s, _)| s))
    }
}

struct Inner {
    keys: TunnelKeys,
    old: Option<(TunnelKeys, Instant)>,
    peers: HashMap<Ipv4Addr, Arc<Mutex<Peer>>>,
}

/// The peers and their sessions.
pub(crate) struct Table {
    inner: RwLock<Inner>,
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let peers: Vec<Ipv4Addr> = read(&self.inner).peers.keys().copied().collect();
        f.debug_struct("Table").field("peers", &peers).finish()
    }
}

fn read(l: &RwLock<Inner>) -> std::sync::RwLockReadGuard<'_, Inner> {
    l.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write(l: &RwLock<Inner>) -> std::sync::RwLockWriteGuard<'_, Inner> {
    l.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn lock(p: &Mutex<Peer>) -> MutexGuard<'_, Peer> {
    p.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What one boringtun call produced, as a length into the buffer (its
/// results are always a prefix of it).
enum Out {
    Nothing,
    Failed,
    Network(usize),
    Tunnel(usize, Ipv4Addr),
}

fn out(r: TunnResult<'_>) -> Out {
    match r {
        TunnResult::WriteToNetwork(d) => Out::Network(d.len()),
        TunnResult::WriteToTunnelV4(p, src) => Out::Tunnel(p.len(), src),
        TunnResult::WriteToTunnelV6(..) | TunnResult::Done => Out::Nothing,
        TunnResult::Err(e) => {
            tracing::trace!(error = ?e, "secure tunnel: message dropped");
            Out::Failed
        }
    }
}

impl Table {
    pub(crate) fn new(keys: &TunnelKeys) -> Table {
        Table {
            inner: RwLock::new(Inner {
                keys: keys.clone(),
                old: None,
                peers: HashMap::new(),
            }),
        }
    }

    pub(crate) fn set_peers(&self, peers: &[Ipv4Addr]) {
        let mut g = write(&self.inner);
        g.peers.retain(|ip, _| peers.contains(ip));
        let inner = &mut *g;
        for ip in peers {
            inner.peers.entry(*ip).or_insert_with(|| {
                Arc::new(Mutex::new(Peer::new(&inner.keys, inner.old.as_ref())))
            });
        }
    }

    pub(crate) fn set_keys(&self, keys: &TunnelKeys) {
        let mut g = write(&self.inner);
        if g.keys == *keys {
            return;
        }
        let until = Instant::now() + GRACE;
        let old = std::mem::replace(&mut g.keys, keys.clone());
        g.old = Some((old, until));
        for p in g.peers.values() {
            let mut p = lock(p);
            let cur = std::mem::replace(&mut p.current, Session::new(keys));
            p.previous = Some((cur, until));
        }
    }

    fn peer(&self, ip: Ipv4Addr) -> Option<Arc<Mutex<Peer>>> {
        read(&self.inner).peers.get(&ip).cloned()
    }

    /// A packet read from the TUN: encrypted for the peer it is addressed
    /// to (or queued while the handshake runs); dropped when no peer has
    /// that address.
    pub(crate) fn outgoing(&self, packet: &[u8], buf: &mut [u8], io: &mut impl Io) {
        let Some(IpAddr::V4(dst)) = Tunn::dst_address(packet) else {
            return;
        };
        let Some(peer) = self.peer(dst) else {
            return;
        };
        let r = out(lock(&peer).sending().tunn.encapsulate(packet, buf));
        if let Out::Network(n) = r {
            io.to_peer(dst, &buf[..n]);
        }
    }

    /// A datagram from `from`: handshake messages are answered, data is
    /// decrypted and delivered if the peer's session authenticates it and
    /// its source is the peer.
    pub(crate) fn incoming(
        &self,
        from: Ipv4Addr,
        datagram: &[u8],
        buf: &mut [u8],
        io: &mut impl Io,
    ) {
        let Some(peer) = self.peer(from) else {
            return;
        };
        let Some(kind) = le_u32(datagram, 0) else {
            return;
        };
        let (index, r, newly) = {
            let mut p = lock(&peer);
            if kind == HANDSHAKE_INIT {
                let mut done = (0, Out::Failed, false);
                for s in p.sessions() {
                    match out(s.tunn.decapsulate(Some(from.into()), datagram, buf)) {
                        Out::Failed => continue,
                        r => {
                            done = (s.index, r, false);
                            break;
                        }
                    }
                }
                done
            } else {
                // the receiver index: after the sender's in a response
                let at = if kind == HANDSHAKE_RESP { 8 } else { 4 };
                let Some(s) = le_u32(datagram, at).and_then(|i| p.by_index(i >> 8)) else {
                    return;
                };
                let r = out(s.tunn.decapsulate(Some(from.into()), datagram, buf));
                let ok = match r {
                    Out::Failed => false,
                    Out::Network(_) => kind == HANDSHAKE_RESP,
                    _ => kind == DATA,
                };
                let newly = ok && !s.confirmed;
                s.confirmed |= ok;
                (s.index, r, newly)
            }
        };
        match r {
            Out::Nothing | Out::Failed => {}
            Out::Network(n) => io.to_peer(from, &buf[..n]),
            Out::Tunnel(n, src) if src == from => io.to_tun(&buf[..n]),
            Out::Tunnel(_, src) => {
                tracing::debug!(%from, %src, "secure tunnel: inner source is not the peer, dropped");
            }
        }
        if matches!(r, Out::Network(_)) || newly {
            Self::flush(from, &peer, index, buf, io);
        }
    }

    /// Sends what boringtun queued on session `index` of `peer`.
    fn flush(to: Ipv4Addr, peer: &Mutex<Peer>, index: u32, buf: &mut [u8], io: &mut impl Io) {
        loop {
            let r = {
                let mut p = lock(peer);
                match p.by_index(index) {
                    Some(s) => out(s.tunn.decapsulate(None, &[], buf)),
                    None => Out::Nothing,
                }
            };
            match r {
                Out::Network(n) => io.to_peer(to, &buf[..n]),
                _ => return,
            }
        }
    }

    /// Every 250 ms: boringtun's timers of every session, a handshake for
    /// a new session that does not work yet, the end of the grace period.
    pub(crate) fn tick(&self, buf: &mut [u8], io: &mut impl Io) {
        let now = Instant::now();
        let peers: Vec<(Ipv4Addr, Arc<Mutex<Peer>>)> = {
            let mut g = write(&self.inner);
            if g.old.as_ref().is_some_and(|(_, until)| *until <= now) {
                g.old = None;
            }
            g.peers.iter().map(|(ip, p)| (*ip, p.clone())).collect()
        };
        for (ip, peer) in peers {
            let indices: Vec<u32> = {
                let mut p = lock(&peer);
                if p.previous.as_ref().is_some_and(|(_, until)| *until <= now) {
                    p.previous = None;
                }
                p.sessions().map(|s| s.index).collect()
            };
            for index in indices {
                let r = {
                    let mut p = lock(&peer);
                    match p.by_index(index) {
                        Some(s) => out(s.tunn.update_timers(buf)),
                        None => Out::Nothing,
                    }
                };
                if let Out::Network(n) = r {
                    io.to_peer(ip, &buf[..n]);
                }
            }
            let r = {
                let mut p = lock(&peer);
                let rotating = p.previous.as_ref().is_some_and(|(s, _)| s.confirmed);
                if rotating && !p.current.confirmed {
                    out(p.current.tunn.format_handshake_initiation(buf, false))
                } else {
                    Out::Nothing
                }
            };
            if let Out::Network(n) = r {
                io.to_peer(ip, &buf[..n]);
            }
        }
    }

    /// Whether traffic to `peer` uses the session of the current keys.
    #[cfg(test)]
    fn on_current(&self, peer: Ipv4Addr) -> bool {
        let p = self.peer(peer).expect("a peer");
        let mut p = lock(&p);
        let cur = p.current.index;
        p.sending().index == cur
    }
}

fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    let bytes: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(u32::from_le_bytes(bytes))
}

#[cfg(test)]
mod tests;
