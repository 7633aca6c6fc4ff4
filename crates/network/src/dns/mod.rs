//! The embedded DNS server (127.0.0.11 in every task namespace): the
//! swarm's names from the network map, the rest forwarded upstream.

pub mod forward;
pub mod message;
pub mod records;
pub mod server;

pub use records::Records;
pub use server::{DnsContext, DnsServer};
