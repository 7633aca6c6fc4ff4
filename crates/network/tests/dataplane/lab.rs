//! The harness itself: hosts talk over the underlay, and nothing of a lab
//! survives it.

use std::net::SocketAddr;
use std::time::Duration;

use crate::blocking;
use crate::netlab::{Lab, TcpServer, leftovers, tcp_get_eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_talk_over_the_underlay_and_the_lab_leaves_nothing() {
    let lab = Lab::new("lab", 2);
    let h2 = lab.hosts[1].path();
    let server = TcpServer::start(&h2, SocketAddr::from(([0, 0, 0, 0], 7000)), "h2");
    let h1 = lab.hosts[0].path();
    let target = SocketAddr::from((lab.hosts[1].addr, 7000));
    let got = blocking(move || tcp_get_eventually(&h1, target, Duration::from_secs(10)))
        .await
        .expect("h1 reaches h2");
    assert_eq!(got, "h2 from 198.18.0.1");
    assert!(!leftovers("lab").is_empty());
    drop(server);
    drop(lab);
    assert_eq!(leftovers("lab"), Vec::<String>::new());
}
