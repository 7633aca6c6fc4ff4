//! The node-local pool of egress addresses (one per task that has a way
//! out): the gateway is the first host address, tasks get the lowest free
//! one after it.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use rswarm_types::Ipv4Cidr;

/// Addresses on the egress bridge.
#[derive(Clone, Debug)]
pub struct EgressPool {
    cidr: Ipv4Cidr,
    used: BTreeSet<Ipv4Addr>,
}

impl EgressPool {
    /// An empty pool over `cidr`.
    pub fn new(cidr: Ipv4Cidr) -> EgressPool {
        EgressPool {
            cidr,
            used: BTreeSet::new(),
        }
    }

    /// The prefix.
    pub fn cidr(&self) -> Ipv4Cidr {
        self.cidr
    }

    /// The bridge's own address (first host address).
    pub fn gateway(&self) -> Ipv4Addr {
        self.cidr.nth(1).unwrap_or(self.cidr.addr)
    }

    /// Takes the lowest free address; `None` when the pool is full.
    pub fn allocate(&mut self) -> Option<Ipv4Addr> {
        let size = 1u64 << (32 - u32::from(self.cidr.prefix_len));
        let last = u32::try_from(size.saturating_sub(2)).unwrap_or(u32::MAX);
        let ip = (2..=last)
            .filter_map(|n| self.cidr.nth(n))
            .find(|ip| !self.used.contains(ip))?;
        self.used.insert(ip);
        Some(ip)
    }

    /// Gives an address back.
    pub fn release(&mut self, ip: Ipv4Addr) {
        self.used.remove(&ip);
    }

    /// Whether no address is taken.
    pub fn is_empty(&self) -> bool {
        self.used.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowest_free_after_the_gateway_until_full() {
        let mut p = EgressPool::new("172.30.0.0/29".parse().expect("cidr"));
        assert_eq!(p.gateway(), Ipv4Addr::new(172, 30, 0, 1));
        let got: Vec<_> = std::iter::from_fn(|| p.allocate()).collect();
        assert_eq!(got.len(), 5); // .2 .. .6 (.7 is broadcast)
        assert_eq!(got[0], Ipv4Addr::new(172, 30, 0, 2));
        p.release(Ipv4Addr::new(172, 30, 0, 4));
        assert_eq!(p.allocate(), Some(Ipv4Addr::new(172, 30, 0, 4)));
        assert_eq!(p.allocate(), None);
    }
}
