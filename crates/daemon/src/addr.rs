//! The addresses of `swarm init` and `swarm join`, resolved as Docker does
//! (moby `daemon/cluster/listen_addr.go`): `--listen-addr`,
//! `--advertise-addr` and `--data-path-addr` take an IP address or a
//! network interface name (`lo`, `eth0`), the first two with an optional
//! port (`lo:4567`). An interface stands for its only IPv4 address, else
//! its only IPv6 address; an interface with several of one family, or
//! with none, is refused with Docker's message.

use std::net::{IpAddr, SocketAddr};

use rswarm_types::ControlError;

/// The default manager port.
pub const DEFAULT_PORT: u16 = 2377;

const BAD_LISTEN: &str =
    "listen address must be an IP address or network interface (with optional port number)";
const BAD_ADVERTISE: &str = "advertise address must be a non-zero IP address or network interface (with optional port number)";
const BAD_DATA_PATH: &str =
    "data path address must be a non-zero IP address or network interface (without a port number)";

/// The addresses of an interface, in the order the kernel lists them;
/// `None` when no interface has that name.
pub trait Interfaces {
    /// Looks `name` up.
    fn addrs(&self, name: &str) -> Option<Vec<IpAddr>>;
}

/// The machine's interfaces (`getifaddrs(3)`).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemInterfaces;

impl Interfaces for SystemInterfaces {
    /// Like Go's `net.InterfaceByName` + `Addrs`: the interface must be a
    /// link (an alias label such as `lo:1` is not one), and its addresses
    /// include those carrying an alias label.
    fn addrs(&self, name: &str) -> Option<Vec<IpAddr>> {
        let all: Vec<_> = nix::ifaddrs::getifaddrs().ok()?.collect();
        let is_link = all.iter().any(|a| {
            a.interface_name == name
                && a.address
                    .as_ref()
                    .is_some_and(|x| x.as_link_addr().is_some())
        });
        if !is_link {
            return None;
        }
        let label = format!("{name}:");
        Some(
            all.iter()
                .filter(|a| a.interface_name == name || a.interface_name.starts_with(&label))
                .filter_map(|a| {
                    let addr = a.address.as_ref()?;
                    if let Some(v4) = addr.as_sockaddr_in() {
                        Some(IpAddr::V4(v4.ip()))
                    } else {
                        addr.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
                    }
                })
                .collect(),
        )
    }
}

/// Why an input named no address.
#[derive(Debug, PartialEq, Eq)]
enum Unresolved {
    /// Neither an interface nor a usable IP address.
    BadIdentifier,
    /// An interface whose addresses cannot be used (Docker's message).
    Interface(String),
}

/// Docker's `resolveInterfaceAddr`.
fn interface_ip(name: &str, ifs: &dyn Interfaces) -> Option<Result<IpAddr, String>> {
    let addrs = ifs.addrs(name)?;
    let (mut v4, mut v6): (Option<IpAddr>, Option<IpAddr>) = (None, None);
    for ip in addrs {
        let (slot, family) = if ip.is_ipv4() {
            (&mut v4, "IPv4")
        } else {
            (&mut v6, "IPv6")
        };
        if let Some(first) = slot {
            return Some(Err(format!(
                "interface {name} has more than one {family} address ({first} and {ip})"
            )));
        }
        *slot = Some(ip);
    }
    Some(
        v4.or(v6)
            .ok_or_else(|| format!("interface {name} has no usable IPv4 or IPv6 address")),
    )
}

/// Docker's `resolveInputIPAddr`: an interface name, else an IP address
/// (the unspecified address only where `unspecified_ok`).
fn input_ip(input: &str, unspecified_ok: bool, ifs: &dyn Interfaces) -> Result<IpAddr, Unresolved> {
    match interface_ip(input, ifs) {
        Some(Ok(ip)) => return Ok(ip),
        Some(Err(msg)) => return Err(Unresolved::Interface(msg)),
        None => {}
    }
    match input.parse::<IpAddr>() {
        Ok(ip) if unspecified_ok || !ip.is_unspecified() => Ok(ip),
        _ => Err(Unresolved::BadIdentifier),
    }
}

fn error(e: Unresolved, bad: &str) -> ControlError {
    match e {
        Unresolved::BadIdentifier => ControlError::invalid(bad),
        Unresolved::Interface(msg) => ControlError::invalid(msg),
    }
}

/// Go's `net.SplitHostPort`: `host:port` or `[host]:port`.
fn split_host_port(addr: &str) -> Option<(&str, &str)> {
    if let Some(rest) = addr.strip_prefix('[') {
        let (host, port) = rest.split_once("]:")?;
        return Some((host, port));
    }
    let (host, port) = addr.rsplit_once(':')?;
    (!host.contains(':')).then_some((host, port))
}

fn port(p: &str, addr: &str) -> Result<u16, ControlError> {
    p.parse()
        .map_err(|_| ControlError::invalid(format!("could not parse listen address {addr}")))
}

fn join(ip: IpAddr, port: u16) -> String {
    SocketAddr::new(ip, port).to_string()
}

/// `--listen-addr`: `ip`, `iface`, `ip:port` or `iface:port` (port 2377
/// when none) → `ip:port`. The unspecified address is allowed.
pub fn resolve_listen(addr: &str, ifs: &dyn Interfaces) -> Result<String, ControlError> {
    let addr = addr.trim();
    if addr.is_empty() {
        return Err(ControlError::invalid(
            "invalid ListenAddr \"\": invalid empty address",
        ));
    }
    let (host, p) = match split_host_port(addr) {
        Some((h, p)) => (h, port(p, addr)?),
        None => (addr, DEFAULT_PORT),
    };
    let ip = input_ip(host, true, ifs).map_err(|e| error(e, BAD_LISTEN))?;
    Ok(join(ip, p))
}

/// `--advertise-addr`: `ip`, `iface`, `ip:port` or `iface:port` (the
/// listen port when none) → `ip:port`. Empty: `None`.
pub fn resolve_advertise(
    addr: &str,
    listen: &str,
    ifs: &dyn Interfaces,
) -> Result<Option<String>, ControlError> {
    let addr = addr.trim();
    if addr.is_empty() {
        return Ok(None);
    }
    let listen_port = split_host_port(listen)
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or(DEFAULT_PORT);
    let (host, p) = match split_host_port(addr) {
        Some((h, p)) => (
            h,
            p.parse()
                .map_err(|_| ControlError::invalid(BAD_ADVERTISE))?,
        ),
        None => (addr, listen_port),
    };
    let ip = input_ip(host, false, ifs).map_err(|e| error(e, BAD_ADVERTISE))?;
    Ok(Some(join(ip, p)))
}

/// `--data-path-addr`: `ip` or `iface`, no port → the IP. Empty: `None`.
pub fn resolve_data_path(addr: &str, ifs: &dyn Interfaces) -> Result<Option<String>, ControlError> {
    let addr = addr.trim();
    if addr.is_empty() {
        return Ok(None);
    }
    let ip = input_ip(addr, false, ifs).map_err(|e| error(e, BAD_DATA_PATH))?;
    Ok(Some(ip.to_string()))
}

/// The IP part of `ip:port` (brackets removed).
pub fn host_of(addr: &str) -> &str {
    split_host_port(addr).map_or(addr, |(h, _)| h)
}

/// The address to advertise when none is given: the listen address when
/// it is specific, else the address of the interface holding the default
/// route, with the listen port.
pub fn default_advertise(listen: &str) -> String {
    let (host, p) = split_host_port(listen).unwrap_or((listen, "2377"));
    if let Ok(ip) = host.parse::<IpAddr>()
        && !ip.is_unspecified()
    {
        return listen.to_string();
    }
    // A UDP "connect" sends nothing; it only asks the kernel which source
    // address the default route would use.
    let ip = std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|sock| {
            sock.connect("192.0.2.1:9")?;
            sock.local_addr()
        })
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    join(ip, p.parse().unwrap_or(DEFAULT_PORT))
}

/// A manager's address for `swarm join`: `host[:port]` (port 2377 when
/// none).
pub fn with_port(addr: &str) -> Result<String, ControlError> {
    let addr = addr.trim();
    if addr.is_empty() {
        return Err(ControlError::invalid("empty address"));
    }
    if let Ok(ip) = addr.parse::<IpAddr>() {
        return Ok(join(ip, DEFAULT_PORT));
    }
    match split_host_port(addr) {
        Some((host, p)) if !host.is_empty() && p.parse::<u16>().is_ok() => Ok(addr.to_string()),
        None if !addr.contains([':', '[', ']', ' ']) => Ok(format!("{addr}:{DEFAULT_PORT}")),
        _ => Err(ControlError::invalid(format!(
            "invalid address '{addr}': expected an IP address or host name with an optional port"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    struct Fake(BTreeMap<&'static str, Vec<&'static str>>);

    impl Interfaces for Fake {
        fn addrs(&self, name: &str) -> Option<Vec<IpAddr>> {
            self.0
                .get(name)
                .map(|v| v.iter().map(|a| a.parse().expect("ip")).collect())
        }
    }

    fn fake() -> Fake {
        Fake(BTreeMap::from([
            ("lo", vec!["127.0.0.1", "::1"]),
            ("eth0", vec!["192.0.2.2", "fd00::2", "fe80::1"]),
            ("v6", vec!["fd00::9"]),
            ("two", vec!["10.0.0.1", "10.0.0.2"]),
            ("none", vec![]),
        ]))
    }

    fn msg<T: std::fmt::Debug>(r: Result<T, ControlError>) -> String {
        r.expect_err("error").to_string()
    }

    #[test]
    fn listen_table() {
        let f = fake();
        let ok = [
            ("lo", "127.0.0.1:2377"),
            ("lo:4567", "127.0.0.1:4567"),
            ("0.0.0.0:2377", "0.0.0.0:2377"),
            ("10.1.2.3", "10.1.2.3:2377"),
            ("v6:2000", "[fd00::9]:2000"),
            ("[::1]:2000", "[::1]:2000"),
        ];
        for (given, want) in ok {
            assert_eq!(resolve_listen(given, &f).expect(given), want, "{given}");
        }
        assert_eq!(msg(resolve_listen("nosuch:2377", &f)), BAD_LISTEN);
        assert_eq!(
            msg(resolve_listen("none", &f)),
            "interface none has no usable IPv4 or IPv6 address"
        );
        assert_eq!(
            msg(resolve_listen("two", &f)),
            "interface two has more than one IPv4 address (10.0.0.1 and 10.0.0.2)"
        );
        assert_eq!(
            msg(resolve_listen("lo:x", &f)),
            "could not parse listen address lo:x"
        );
    }

    #[test]
    fn advertise_table() {
        let f = fake();
        let ok = [
            ("lo", "0.0.0.0:2377", "127.0.0.1:2377"),
            ("lo", "0.0.0.0:3000", "127.0.0.1:3000"),
            ("lo:4567", "0.0.0.0:2377", "127.0.0.1:4567"),
            ("127.0.0.2", "0.0.0.0:2377", "127.0.0.2:2377"),
            ("10.0.0.5:99", "0.0.0.0:2377", "10.0.0.5:99"),
        ];
        for (given, listen, want) in ok {
            assert_eq!(
                resolve_advertise(given, listen, &f).expect(given),
                Some(want.to_string()),
                "{given}"
            );
        }
        assert_eq!(resolve_advertise(" ", "0.0.0.0:2377", &f), Ok(None));
        for bad in ["nosuch", "0.0.0.0", "host.example:2377", "lo:x"] {
            assert_eq!(
                msg(resolve_advertise(bad, "0.0.0.0:2377", &f)),
                BAD_ADVERTISE,
                "{bad}"
            );
        }
        assert_eq!(
            msg(resolve_advertise("eth0", "0.0.0.0:2377", &f)),
            "interface eth0 has more than one IPv6 address (fd00::2 and fe80::1)"
        );
        assert_eq!(
            msg(resolve_advertise("none:4567", "0.0.0.0:2377", &f)),
            "interface none has no usable IPv4 or IPv6 address"
        );
    }

    #[test]
    fn data_path_table() {
        let f = fake();
        assert_eq!(resolve_data_path("lo", &f), Ok(Some("127.0.0.1".into())));
        assert_eq!(resolve_data_path("v6", &f), Ok(Some("fd00::9".into())));
        assert_eq!(resolve_data_path("", &f), Ok(None));
        for bad in ["lo:4567", "nosuch", "0.0.0.0"] {
            assert_eq!(msg(resolve_data_path(bad, &f)), BAD_DATA_PATH, "{bad}");
        }
    }

    #[test]
    fn system_loopback() {
        assert_eq!(
            resolve_listen("lo:4567", &SystemInterfaces).expect("lo"),
            "127.0.0.1:4567"
        );
        assert_eq!(SystemInterfaces.addrs("rswarm-no-such-if0"), None);
        assert_eq!(SystemInterfaces.addrs("lo:4567"), None, "not a link");
    }

    #[test]
    fn manager_addresses() {
        assert_eq!(with_port("10.1.2.3").expect("ip"), "10.1.2.3:2377");
        assert_eq!(
            with_port("10.1.2.3:4000").expect("ip:port"),
            "10.1.2.3:4000"
        );
        assert_eq!(with_port("mgr").expect("host"), "mgr:2377");
        assert!(with_port("not an address").is_err());
        assert_eq!(default_advertise("127.0.0.3:2377"), "127.0.0.3:2377");
        assert!(default_advertise("0.0.0.0:2377").ends_with(":2377"));
        assert_eq!(host_of("[::1]:2377"), "::1");
        assert_eq!(host_of("10.0.0.1:2377"), "10.0.0.1");
    }
}
