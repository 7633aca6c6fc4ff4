//! East-west traffic: a task on host A reaches a task on host B by
//! address over VXLAN, and a VIP balances connections across backends on
//! both hosts (nftables numgen, no IPVS), the backend seeing the caller's
//! own address.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use rswarm_network::{DataPlane, LinuxDataPlane};

use crate::maps::{endpoint, network, snapshot, vip_service};
use crate::netlab::{Lab, TcpServer, run_in, tcp_get, tcp_get_eventually};
use crate::{blocking, req};

fn at(ip: Ipv4Addr, port: u16) -> SocketAddr {
    SocketAddr::from((ip, port))
}

async fn get(from: &Path, to: SocketAddr) -> String {
    let from = from.to_path_buf();
    blocking(move || tcp_get_eventually(&from, to, Duration::from_secs(10)))
        .await
        .unwrap_or_else(|e| panic!("connect to {to}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_reach_each_other_across_hosts_and_the_vip_balances() {
    let lab = Lab::new("xhost", 2);
    let (h1, h2) = (lab.hosts[0].addr, lab.hosts[1].addr);
    let mut app = network("app", 4097, 1, false);
    let web1 = endpoint(&mut app, 11, h1, "web1", "web");
    let web2 = endpoint(&mut app, 12, h2, "web2", "web");
    let c1 = endpoint(&mut app, 21, h1, "c1", "client");
    let c2 = endpoint(&mut app, 22, h2, "c2", "client");
    let vip = vip_service(&mut app, "web", 2, &[web1, web2]);
    let map = snapshot(1, &[&app]);

    let dp1 = LinuxDataPlane::new(lab.config(0)).expect("data plane 1");
    let dp2 = LinuxDataPlane::new(lab.config(1)).expect("data plane 2");
    dp1.cleanup_leftovers().await.expect("clean 1");
    dp2.cleanup_leftovers().await.expect("clean 2");
    dp1.apply(&map).await.expect("apply 1");
    dp2.apply(&map).await.expect("apply 2");

    let t_web1 = dp1
        .attach(&req("web1", &["app"]))
        .await
        .expect("attach web1");
    let t_c1 = dp1.attach(&req("c1", &["app"])).await.expect("attach c1");
    let t_web2 = dp2
        .attach(&req("web2", &["app"]))
        .await
        .expect("attach web2");
    let t_c2 = dp2.attach(&req("c2", &["app"])).await.expect("attach c2");
    assert_eq!(t_web1.interfaces[0].name, "eth0");
    assert_eq!(t_web1.interfaces[0].address.addr, web1);

    let s1 = TcpServer::start(&t_web1.netns, at(Ipv4Addr::UNSPECIFIED, 80), "web1");
    let s2 = TcpServer::start(&t_web2.netns, at(Ipv4Addr::UNSPECIFIED, 80), "web2");

    // By address: across hosts both ways, and on the same host.
    assert_eq!(
        get(&t_c1.netns, at(web2, 80)).await,
        format!("web2 from {c1}")
    );
    assert_eq!(
        get(&t_c2.netns, at(web1, 80)).await,
        format!("web1 from {c2}")
    );
    assert_eq!(
        get(&t_c1.netns, at(web1, 80)).await,
        format!("web1 from {c1}")
    );

    // The overlay of host 1 holds permanent peer entries for host 2's
    // endpoints only.
    let ov1 = lab.hosts[0].dir.join("netns/ov-4097");
    let fdb = run_in(&ov1, &["bridge", "fdb", "show", "dev", "rswvx0"]);
    let web2_mac = app.endpoints[1].mac.to_string();
    assert!(
        fdb.lines().any(|l| l.contains(&web2_mac)
            && l.contains("dst 198.18.0.2")
            && l.contains("permanent")),
        "{fdb}"
    );
    assert!(!fdb.contains(&app.endpoints[0].mac.to_string()), "{fdb}");
    let neigh = run_in(&ov1, &["ip", "neigh", "show", "dev", "rswvx0"]);
    assert!(
        neigh.contains(&format!("{web2} lladdr {web2_mac} PERMANENT")),
        "{neigh}"
    );

    // The VIP: 10 connections from each client alternate between the
    // backends on both hosts; each backend sees the client's address.
    for (client, from) in [(&t_c1.netns, c1), (&t_c2.netns, c2)] {
        get(client, at(vip, 80)).await;
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for _ in 0..10 {
            let c = client.clone();
            let out = blocking(move || tcp_get(&c, at(vip, 80)))
                .await
                .expect("VIP answers");
            let (name, caller) = out.split_once(" from ").expect("answer shape");
            assert_eq!(caller, from.to_string());
            *seen.entry(name.to_string()).or_default() += 1;
        }
        assert_eq!(
            seen,
            BTreeMap::from([("web1".into(), 5), ("web2".into(), 5)])
        );
    }
    assert!(s1.callers.lock().expect("lock").contains(&c2));
    assert!(s2.callers.lock().expect("lock").contains(&c1));

    drop((s1, s2));
    dp1.remove_all().await.expect("remove 1");
    dp2.remove_all().await.expect("remove 2");
}

/// A task moves: its IP is reused on the other host with a new MAC. Both
/// hosts reach the new task; neither keeps an entry for the old MAC, and
/// the new host has no neighbour entry for what is now local.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moved_address_is_reached_at_its_new_host() {
    let lab = Lab::new("move", 2);
    let (h1, h2) = (lab.hosts[0].addr, lab.hosts[1].addr);
    let mut app = network("app", 4097, 1, false);
    let web = endpoint(&mut app, 11, h2, "old", "web");
    let c1 = endpoint(&mut app, 21, h1, "c1", "client");
    let c2 = endpoint(&mut app, 22, h2, "c2", "client");
    let old_mac = app.endpoints[0].mac;
    let dp1 = LinuxDataPlane::new(lab.config(0)).expect("data plane 1");
    let dp2 = LinuxDataPlane::new(lab.config(1)).expect("data plane 2");
    for dp in [&dp1, &dp2] {
        dp.cleanup_leftovers().await.expect("clean");
        dp.apply(&snapshot(1, &[&app])).await.expect("apply");
    }
    let t_old = dp2.attach(&req("old", &["app"])).await.expect("old");
    let t_c1 = dp1.attach(&req("c1", &["app"])).await.expect("c1");
    let t_c2 = dp2.attach(&req("c2", &["app"])).await.expect("c2");
    let s_old = TcpServer::start(&t_old.netns, at(Ipv4Addr::UNSPECIFIED, 80), "old");
    assert_eq!(
        get(&t_c1.netns, at(web, 80)).await,
        format!("old from {c1}")
    );

    drop(s_old);
    dp2.detach("old").await.expect("detach old");
    app.endpoints[0].task_id = "new".into();
    app.endpoints[0].vtep = h1;
    app.endpoints[0].mac = crate::maps::mac(web, 0x43);
    let new_mac = app.endpoints[0].mac;
    let delta = rswarm_types::NetworkMapUpdate::Delta(rswarm_types::NetworkMapDelta {
        base_version: 1,
        version: 2,
        upserts: vec![app.clone()],
        removals: vec![],
    });
    dp1.apply(&delta).await.expect("apply delta 1");
    dp2.apply(&delta).await.expect("apply delta 2");
    let t_new = dp1.attach(&req("new", &["app"])).await.expect("new");
    let _s_new = TcpServer::start(&t_new.netns, at(Ipv4Addr::UNSPECIFIED, 80), "new");

    assert_eq!(
        get(&t_c1.netns, at(web, 80)).await,
        format!("new from {c1}")
    );
    assert_eq!(
        get(&t_c2.netns, at(web, 80)).await,
        format!("new from {c2}")
    );

    let ov1 = lab.hosts[0].dir.join("netns/ov-4097");
    let ov2 = lab.hosts[1].dir.join("netns/ov-4097");
    let fdb1 = run_in(&ov1, &["bridge", "fdb", "show", "dev", "rswvx0"]);
    assert!(!fdb1.contains(&old_mac.to_string()), "{fdb1}");
    let neigh1 = run_in(&ov1, &["ip", "neigh", "show", "dev", "rswvx0"]);
    assert!(!neigh1.contains(&format!("{web} ")), "{neigh1}");
    let fdb2 = run_in(&ov2, &["bridge", "fdb", "show", "dev", "rswvx0"]);
    assert!(!fdb2.contains(&old_mac.to_string()), "{fdb2}");
    assert!(fdb2.contains(&format!("{new_mac} dst {h1}")), "{fdb2}");
    // A stale delta changes nothing and says so.
    assert!(matches!(
        dp1.apply(&delta).await,
        Err(rswarm_network::NetError::StaleDelta(_))
    ));

    drop(_s_new);
    dp1.remove_all().await.expect("remove 1");
    dp2.remove_all().await.expect("remove 2");
}
