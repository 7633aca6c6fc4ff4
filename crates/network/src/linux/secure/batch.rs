//! Fewer system calls per packet: the WireGuard messages produced from
//! one burst of TUN reads are sent together, runs of equal-sized messages
//! to the same peer as one UDP GSO send (`UDP_SEGMENT`: the kernel cuts
//! the buffer into datagrams); received datagrams come coalesced by UDP
//! GRO and are cut again here.

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;

use nix::errno::Errno;
use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, SockaddrIn, recvmsg, sendmsg,
};
use std::io::{IoSlice, IoSliceMut};
use tun_rs::SyncDevice;

use super::peers::Io;

/// Datagrams in one GSO send at most (the kernel's UDP_MAX_SEGMENTS is
/// 64 on older kernels).
const MAX_SEGMENTS: usize = 64;
/// Bytes in one GSO send at most (one IP datagram's worth).
const MAX_GSO_BYTES: usize = 65_000;

/// The messages of one burst, in order.
pub(crate) struct Batch<'a> {
    sock: &'a UdpSocket,
    tun: &'a SyncDevice,
    port: u16,
    data: Vec<u8>,
    /// (peer, start, len) of each message in `data`.
    msgs: Vec<(Ipv4Addr, usize, usize)>,
    /// The smallest segment size a GSO send was refused for (datagrams
    /// larger than the path MTU must be fragmented, which GSO does not).
    gso_refused_at: usize,
}

impl<'a> Batch<'a> {
    pub(crate) fn new(sock: &'a UdpSocket, tun: &'a SyncDevice, port: u16) -> Batch<'a> {
        Batch {
            sock,
            tun,
            port,
            data: Vec::with_capacity(256 * 1024),
            msgs: Vec::with_capacity(256),
            gso_refused_at: usize::MAX,
        }
    }

    /// Sends what was queued.
    pub(crate) fn flush(&mut self) {
        let mut i = 0;
        while i < self.msgs.len() {
            let (peer, start, seg) = self.msgs[i];
            // a run: same peer, same size (the last one may be shorter)
            let mut j = i + 1;
            let mut end = start + seg;
            while j < self.msgs.len() && j - i < MAX_SEGMENTS && seg < self.gso_refused_at {
                let (p, s, l) = self.msgs[j];
                if p != peer || s != end || l > seg || end + l - start > MAX_GSO_BYTES {
                    break;
                }
                end += l;
                j += 1;
                if l < seg {
                    break;
                }
            }
            if j - i == 1 || !self.send_gso(peer, start, end, seg) {
                for k in i..j {
                    let (p, s, l) = self.msgs[k];
                    self.send_one(p, s, l);
                }
            }
            i = j;
        }
        self.msgs.clear();
        self.data.clear();
    }

    fn send_one(&self, peer: Ipv4Addr, start: usize, len: usize) {
        let d = &self.data[start..start + len];
        if let Err(e) = self.sock.send_to(d, (peer, self.port)) {
            tracing::debug!(%peer, error = %e, "secure tunnel: send failed");
        }
    }

    /// One GSO send; false when the kernel refused it (sent nothing).
    fn send_gso(&mut self, peer: Ipv4Addr, start: usize, end: usize, seg: usize) -> bool {
        let Ok(seg16) = u16::try_from(seg) else {
            return false;
        };
        let addr = SockaddrIn::from(SocketAddrV4::new(peer, self.port));
        let iov = [IoSlice::new(&self.data[start..end])];
        let cmsg = [ControlMessage::UdpGsoSegments(&seg16)];
        match sendmsg(
            self.sock.as_raw_fd(),
            &iov,
            &cmsg,
            MsgFlags::empty(),
            Some(&addr),
        ) {
            Ok(_) => true,
            Err(Errno::EINVAL | Errno::EIO | Errno::EMSGSIZE | Errno::EOPNOTSUPP) => {
                self.gso_refused_at = self.gso_refused_at.min(seg);
                false
            }
            Err(e) => {
                // dropped like any datagram the kernel could not send
                tracing::debug!(%peer, error = %e, "secure tunnel: send failed");
                true
            }
        }
    }
}

impl Io for Batch<'_> {
    fn to_peer(&mut self, peer: Ipv4Addr, datagram: &[u8]) {
        let start = self.data.len();
        self.data.extend_from_slice(datagram);
        self.msgs.push((peer, start, datagram.len()));
    }

    fn to_tun(&mut self, packet: &[u8]) {
        if let Err(e) = self.tun.send(packet) {
            tracing::debug!(error = %e, "secure tunnel: TUN write failed");
        }
    }
}

/// One receive: the sender and the datagrams (one, or several of
/// `segment` bytes coalesced by GRO, the last maybe shorter).
pub(crate) struct Received {
    pub(crate) from: Ipv4Addr,
    pub(crate) len: usize,
    pub(crate) segment: usize,
}

/// Receives into `buf` (blocking up to the socket's read timeout).
pub(crate) fn recv(sock: &UdpSocket, buf: &mut [u8]) -> Result<Option<Received>, Errno> {
    let mut iov = [IoSliceMut::new(buf)];
    let mut cmsg = nix::cmsg_space!(i32);
    let msg = recvmsg::<SockaddrIn>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut cmsg),
        MsgFlags::empty(),
    )?;
    let Some(addr) = msg.address else {
        return Ok(None);
    };
    let segment = msg
        .cmsgs()
        .ok()
        .and_then(|mut c| {
            c.find_map(|m| match m {
                ControlMessageOwned::UdpGroSegments(s) => usize::try_from(s).ok(),
                _ => None,
            })
        })
        .filter(|s| *s > 0)
        .unwrap_or(msg.bytes);
    Ok(Some(Received {
        from: addr.ip(),
        len: msg.bytes,
        segment,
    }))
}
