//! The tunnel's device: the TUN link and the UDP socket, opened in the
//! host namespace, and the three threads that move packets between them
//! through the peer table (blocking I/O on dedicated threads: no runtime
//! hop per packet; sends batched, see [`batch`]).

use std::net::{Ipv4Addr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use nix::errno::Errno;
use nix::libc;
use nix::sys::socket::setsockopt;
use nix::sys::socket::sockopt::{RcvBuf, SndBuf, UdpGroSegment};
use nix::{setsockopt_impl, sockopt_impl};
use tun_rs::{DeviceBuilder, InterruptEvent, SyncDevice};

use super::TUN_MTU;
use super::batch::{self, Batch};
use super::peers::Table;
use crate::error::NetError;
use crate::netns::{Netns, run_in};

/// How often boringtun's timers run.
const TICK: Duration = Duration::from_millis(250);
/// How long the socket thread blocks before it looks at the stop flag.
const RECV_TIMEOUT: Duration = Duration::from_millis(200);
/// Packets read from the TUN before their messages are sent.
const BURST: usize = 64;
/// Buffers: the largest datagram or packet (or GRO batch).
const BUF: usize = 65_536;
/// Socket buffers (the kernel caps them at net.core.[rw]mem_max).
const SOCK_BUF: usize = 4 << 20;

sockopt_impl!(
    /// IP_MTU_DISCOVER: IP_PMTUDISC_DONT lets the kernel fragment the
    /// outer datagram instead of refusing it.
    MtuDiscover,
    SetOnly,
    libc::IPPROTO_IP,
    libc::IP_MTU_DISCOVER,
    i32
);

/// The open link and socket and the threads using them.
pub(crate) struct Device {
    name: String,
    stop: Arc<AtomicBool>,
    wake: Arc<InterruptEvent>,
    /// Dropping it ends the timer thread's wait.
    tick_stop: Option<mpsc::Sender<()>>,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("name", &self.name)
            .field("threads", &self.threads.len())
            .finish()
    }
}

impl Device {
    /// Opens the TUN `name` and the socket `local:port` in `host` and
    /// starts the threads.
    pub(crate) async fn start(
        host: &Netns,
        name: &str,
        local: Ipv4Addr,
        port: u16,
        table: Arc<Table>,
    ) -> Result<Device, NetError> {
        let (tun, sock) = open(host, name, local, port).await?;
        let (tun, sock) = (Arc::new(tun), Arc::new(sock));
        let stop = Arc::new(AtomicBool::new(false));
        let wake = Arc::new(InterruptEvent::new().map_err(NetError::io("create interrupt event"))?);
        let (tick_stop, tick_rx) = mpsc::channel::<()>();
        let mut dev = Device {
            name: name.to_string(),
            stop: stop.clone(),
            wake: wake.clone(),
            tick_stop: Some(tick_stop),
            threads: Vec::new(),
        };
        let spawn = |what: &str, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(format!("rsw-wg-{what}"))
                .spawn(f)
                .map_err(NetError::io(format!("spawn secure tunnel {what} thread")))
        };
        let (t, s, tb, st, w) = (tun.clone(), sock.clone(), table.clone(), stop.clone(), wake);
        let r = spawn(
            "tun",
            Box::new(move || tun_loop(&t, &s, port, &tb, &st, &w)),
        );
        dev.threads.push(r?);
        let (t, s, tb, st) = (tun.clone(), sock.clone(), table.clone(), stop);
        let r = spawn("udp", Box::new(move || udp_loop(&t, &s, port, &tb, &st)));
        dev.threads.push(r?);
        let r = spawn(
            "timer",
            Box::new(move || timer_loop(&tun, &sock, port, &table, &tick_rx)),
        );
        dev.threads.push(r?);
        Ok(dev)
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    fn signal(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.tick_stop = None;
        if let Err(e) = self.wake.trigger() {
            tracing::warn!(error = %e, "secure tunnel: cannot wake the TUN thread");
        }
    }

    /// Stops the threads and waits for them: the last of them closes the
    /// TUN (which removes the link) and the socket.
    pub(crate) async fn stop(mut self) {
        self.signal();
        let threads = std::mem::take(&mut self.threads);
        let _ = tokio::task::spawn_blocking(move || {
            for t in threads {
                let _ = t.join();
            }
        })
        .await;
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        self.signal();
    }
}

async fn open(
    host: &Netns,
    name: &str,
    local: Ipv4Addr,
    port: u16,
) -> Result<(SyncDevice, UdpSocket), NetError> {
    let name = name.to_string();
    run_in(host, move || {
        let tun = DeviceBuilder::new()
            .name(&name)
            .packet_information(false)
            .mtu(TUN_MTU)
            .enable(true)
            .build_sync()
            .map_err(NetError::io(format!("create TUN device {name}")))?;
        let what = format!("bind UDP {local}:{port}");
        let sock = UdpSocket::bind((local, port)).map_err(NetError::io(what.clone()))?;
        let sys = |e: nix::Error| NetError::sys(what.clone())(e);
        setsockopt(&sock, MtuDiscover, &libc::IP_PMTUDISC_DONT).map_err(sys)?;
        // best effort: the kernel caps them, and smaller ones only cost speed
        let _ = setsockopt(&sock, RcvBuf, &SOCK_BUF);
        let _ = setsockopt(&sock, SndBuf, &SOCK_BUF);
        let _ = setsockopt(&sock, UdpGroSegment, &true);
        tun.set_nonblocking(true)
            .map_err(NetError::io(format!("make TUN device {name} non-blocking")))?;
        sock.set_read_timeout(Some(RECV_TIMEOUT))
            .map_err(NetError::io(what))?;
        Ok((tun, sock))
    })
    .await
}

/// TUN → encrypt → UDP: reads what the TUN has (up to [`BURST`]
/// packets), then sends the messages together.
fn tun_loop(
    tun: &SyncDevice,
    sock: &UdpSocket,
    port: u16,
    table: &Table,
    stop: &AtomicBool,
    wake: &InterruptEvent,
) {
    let mut packet = vec![0u8; BUF];
    let mut buf = vec![0u8; BUF];
    let mut io = Batch::new(sock, tun, port);
    while !stop.load(Ordering::SeqCst) {
        if let Err(e) = tun.wait_readable_intr(wake) {
            if !stop.load(Ordering::SeqCst) {
                tracing::warn!(error = %e, "secure tunnel: TUN wait failed");
                std::thread::sleep(Duration::from_millis(10));
            }
            continue;
        }
        for _ in 0..BURST {
            match tun.recv(&mut packet) {
                Ok(n) => table.outgoing(&packet[..n], &mut buf, &mut io),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    tracing::warn!(error = %e, "secure tunnel: TUN read failed");
                    break;
                }
            }
        }
        io.flush();
    }
}

/// UDP → decrypt → TUN (and handshake replies back out); datagrams
/// coalesced by GRO are taken apart.
fn udp_loop(tun: &SyncDevice, sock: &UdpSocket, port: u16, table: &Table, stop: &AtomicBool) {
    let mut datagrams = vec![0u8; BUF];
    let mut buf = vec![0u8; BUF];
    let mut io = Batch::new(sock, tun, port);
    while !stop.load(Ordering::SeqCst) {
        match batch::recv(sock, &mut datagrams) {
            Ok(Some(r)) if r.len > 0 => {
                for d in datagrams[..r.len].chunks(r.segment.max(1)) {
                    table.incoming(r.from, d, &mut buf, &mut io);
                }
                io.flush();
            }
            Ok(_) | Err(Errno::EAGAIN | Errno::EINTR) => {}
            Err(e) => {
                // ICMP errors of earlier sends surface here (ECONNREFUSED)
                tracing::trace!(error = %e, "secure tunnel: UDP receive error");
            }
        }
    }
}

/// boringtun's timers every [`TICK`], until the sender goes.
fn timer_loop(
    tun: &SyncDevice,
    sock: &UdpSocket,
    port: u16,
    table: &Table,
    stop: &mpsc::Receiver<()>,
) {
    let mut buf = vec![0u8; BUF];
    let mut io = Batch::new(sock, tun, port);
    while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(TICK) {
        table.tick(&mut buf, &mut io);
        io.flush();
    }
}
