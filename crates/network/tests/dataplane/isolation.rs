//! Isolation: a task on network A cannot reach a task on network B (not
//! over the overlay, not through the egress bridge); an internal network
//! works across hosts but has no way out; a non-internal one goes out
//! masqueraded as its host.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use rswarm_network::{DataPlane, LinuxDataPlane};

use crate::maps::{endpoint, network, snapshot};
use crate::netlab::{Lab, OUTSIDE, TcpServer, run_in, tcp_get, tcp_get_eventually};
use crate::{blocking, req};

async fn reach(from: &Path, to: Ipv4Addr, port: u16) -> String {
    let (from, to) = (from.to_path_buf(), SocketAddr::from((to, port)));
    blocking(move || tcp_get_eventually(&from, to, Duration::from_secs(10)))
        .await
        .unwrap_or_else(|e| panic!("connect to {to}: {e}"))
}

async fn unreachable(from: &Path, to: Ipv4Addr, port: u16) {
    let (from, to) = (from.to_path_buf(), SocketAddr::from((to, port)));
    let r = blocking(move || tcp_get(&from, to)).await;
    assert!(r.is_err(), "{to} answered: {r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn networks_are_isolated_and_internal_networks_have_no_way_out() {
    let lab = Lab::new("iso", 2);
    let _outside = TcpServer::start(&lab.outside(), SocketAddr::from((OUTSIDE, 8080)), "outside");
    let (h1, h2) = (lab.hosts[0].addr, lab.hosts[1].addr);
    let mut front = network("front", 4097, 1, false);
    let mut back = network("back", 4098, 2, true);
    let a1 = endpoint(&mut front, 11, h1, "a1", "fe");
    let a2 = endpoint(&mut front, 12, h2, "a2", "fe");
    let b1 = endpoint(&mut back, 11, h1, "b1", "be");
    let b2 = endpoint(&mut back, 12, h2, "b2", "be");
    let m1_back = endpoint(&mut back, 21, h1, "m1", "mixed");
    let m1_front = endpoint(&mut front, 21, h1, "m1", "mixed");
    let map = snapshot(1, &[&front, &back]);
    let dp1 = LinuxDataPlane::new(lab.config(0)).expect("data plane 1");
    let dp2 = LinuxDataPlane::new(lab.config(1)).expect("data plane 2");
    for dp in [&dp1, &dp2] {
        dp.cleanup_leftovers().await.expect("clean");
        dp.apply(&map).await.expect("apply");
    }
    let t_a1 = dp1.attach(&req("a1", &["front"])).await.expect("a1");
    let t_b1 = dp1.attach(&req("b1", &["back"])).await.expect("b1");
    let t_m1 = dp1
        .attach(&req("m1", &["back", "front"]))
        .await
        .expect("m1");
    let t_a2 = dp2.attach(&req("a2", &["front"])).await.expect("a2");
    let t_b2 = dp2.attach(&req("b2", &["back"])).await.expect("b2");
    let any = |p| SocketAddr::from((Ipv4Addr::UNSPECIFIED, p));
    let _servers = [
        TcpServer::start(&t_a1.netns, any(80), "a1"),
        TcpServer::start(&t_b1.netns, any(80), "b1"),
        TcpServer::start(&t_m1.netns, any(80), "m1"),
    ];

    // Interfaces: overlays in order, then the way out if any network has one.
    let names = |a: &rswarm_network::Attached| -> Vec<String> {
        a.interfaces.iter().map(|i| i.name.clone()).collect()
    };
    assert_eq!(names(&t_a1), ["eth0", "eth1"]);
    assert_eq!(names(&t_b1), ["eth0"]);
    assert_eq!(names(&t_m1), ["eth0", "eth1", "eth2"]);
    let routes = run_in(&t_b1.netns, &["ip", "route", "show"]);
    assert!(!routes.contains("default"), "{routes}");

    // Same network, across hosts: fine, internal or not.
    assert_eq!(reach(&t_a2.netns, a1, 80).await, format!("a1 from {a2}"));
    assert_eq!(reach(&t_b2.netns, b1, 80).await, format!("b1 from {b2}"));
    // A task on both networks reaches both, from its address on each.
    assert_eq!(
        reach(&t_m1.netns, a1, 80).await,
        format!("a1 from {m1_front}")
    );
    assert_eq!(
        reach(&t_m1.netns, b1, 80).await,
        format!("b1 from {m1_back}")
    );

    // Across networks: never, on the same host or another.
    unreachable(&t_a1.netns, b1, 80).await;
    unreachable(&t_a2.netns, b1, 80).await;
    unreachable(&t_b1.netns, a1, 80).await;
    unreachable(&t_b2.netns, m1_front, 80).await;
    // Not through the egress bridge either (ports are isolated).
    let m1_egress = t_m1.interfaces[2].address.addr;
    unreachable(&t_a1.netns, m1_egress, 80).await;

    // The way out: masqueraded as host 1; none from an internal network.
    assert_eq!(
        reach(&t_a1.netns, OUTSIDE, 8080).await,
        format!("outside from {h1}")
    );
    assert_eq!(
        reach(&t_a2.netns, OUTSIDE, 8080).await,
        format!("outside from {h2}")
    );
    assert_eq!(
        reach(&t_m1.netns, OUTSIDE, 8080).await,
        format!("outside from {h1}")
    );
    unreachable(&t_b1.netns, OUTSIDE, 8080).await;
    unreachable(&t_b2.netns, OUTSIDE, 8080).await;
    unreachable(&t_b1.netns, h1, 22).await;

    drop(_servers);
    dp1.remove_all().await.expect("remove 1");
    dp2.remove_all().await.expect("remove 2");
}
