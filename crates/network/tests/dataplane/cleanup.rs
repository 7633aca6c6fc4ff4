//! Nothing stays behind: detaching a task removes its namespace (or, for
//! a namespace we did not create, our links, table and DNS sockets in
//! it), its veths and, when unused, the egress bridge and host table;
//! removing a network removes its namespace; a data plane started after a
//! crashed one removes what it left, by our names only. Every namespace
//! gets its sysctls set explicitly.

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::time::{Duration, Instant};

use rswarm_network::{AttachRequest, DataPlane, DnsSettings, LinuxDataPlane, TaskNetns};

use crate::maps::{endpoint, network, snapshot, vip_service};
use crate::netlab::{Lab, in_netns, ip, links, run_in, tables};
use crate::req;

fn ours(links: &[String]) -> Vec<String> {
    links
        .iter()
        .filter(|l| l.starts_with("rsw") && *l != "rswtest_gw")
        .cloned()
        .collect()
}

fn dns_port_taken(netns: &Path) -> bool {
    in_netns(netns, || {
        UdpSocket::bind(SocketAddr::from((rswarm_network::DNS_ADDR, 53))).is_err()
    })
}

fn files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detach_and_network_removal_leave_nothing() {
    let lab = Lab::new("rm", 1);
    let h = &lab.hosts[0];
    let host = h.path();
    let mut app = network("app", 4097, 1, false);
    let t1 = endpoint(&mut app, 11, h.addr, "t1", "web");
    endpoint(&mut app, 12, h.addr, "c1", "web");
    vip_service(&mut app, "web", 2, &[t1]);
    let cfg = lab.config(0);
    let (root, state) = (cfg.netns_root.clone(), cfg.state_dir.clone());
    let dp = LinuxDataPlane::new(cfg).expect("data plane");
    dp.cleanup_leftovers().await.expect("clean");
    dp.apply(&snapshot(1, &[&app])).await.expect("apply");

    // A "container" namespace the data plane did not create.
    let ctr = lab.ns("ctr");
    ip(&["netns", "add", &ctr]);
    let ctr_path = Path::new("/run/netns").join(&ctr);
    let a_t1 = dp.attach(&req("t1", &["app"])).await.expect("attach t1");
    let a_c1 = dp
        .attach(&AttachRequest {
            task_id: "c1".into(),
            netns: TaskNetns::Existing(ctr_path.clone()),
            networks: vec!["app".into()],
            dns: DnsSettings::default(),
        })
        .await
        .expect("attach c1");
    assert_eq!(a_c1.netns, ctr_path);
    let again = dp.attach(&req("t1", &["app"])).await.expect("attach again");
    assert_eq!(again, a_t1, "attach is idempotent");

    let ov = root.join("ov-4097");
    assert_eq!(files(&root).len(), 2, "{:?}", files(&root));
    // The VXLAN device and the gateway's macvlan; the tasks' macvlans
    // on it live in their own namespaces.
    assert_eq!(ours(&links(&ov)).len(), 2, "{:?}", links(&ov));
    assert!(
        run_in(&ctr_path, &["ip", "-d", "link", "show", "eth0"]).contains("macvlan mode bridge"),
        "the task's interface is a macvlan"
    );
    assert_eq!(ours(&links(&host)).len(), 3, "{:?}", links(&host)); // gw, 2 ports
    assert_eq!(links(&ctr_path), ["lo", "eth0", "eth1"]);
    assert!(tables(&ctr_path).contains(&"table ip rswarm".to_string()));
    assert!(tables(&host).contains(&"table ip rswarm".to_string()));
    assert!(dns_port_taken(&ctr_path));

    // Sysctls are set, not inherited: a new namespace copies IPv4
    // settings (ip_forward=1 where Docker runs) from the root namespace.
    let sysctl = |ns: &Path, key: &str| -> String {
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        run_in(ns, &["cat", &path]).trim().to_string()
    };
    assert_eq!(sysctl(&a_t1.netns, "net.ipv4.ip_forward"), "0");
    assert_eq!(sysctl(&a_t1.netns, "net.ipv4.conf.all.arp_notify"), "1");
    assert_eq!(
        sysctl(&a_t1.netns, "net.ipv6.conf.default.disable_ipv6"),
        "1"
    );
    assert_eq!(sysctl(&ctr_path, "net.ipv4.ip_forward"), "0");
    assert_eq!(sysctl(&ov, "net.ipv4.ip_forward"), "0");
    assert_eq!(sysctl(&host, "net.ipv4.ip_forward"), "1");

    dp.detach("t1").await.expect("detach t1");
    assert!(!a_t1.netns.exists());
    assert!(!a_t1.resolv_conf.exists());
    assert_eq!(ours(&links(&ov)).len(), 2, "{:?}", links(&ov));
    assert_eq!(ours(&links(&host)).len(), 2, "{:?}", links(&host));

    dp.detach("c1").await.expect("detach c1");
    assert_eq!(
        links(&ctr_path),
        ["lo"],
        "our links are gone, the namespace stays"
    );
    assert!(!tables(&ctr_path).iter().any(|t| t.contains("rswarm")));
    assert!(!dns_port_taken(&ctr_path), "DNS sockets closed");
    assert_eq!(
        ours(&links(&host)),
        Vec::<String>::new(),
        "egress bridge gone when unused"
    );
    // The network is still there: only the table untracking its VXLAN.
    assert_eq!(
        tables(&host)
            .into_iter()
            .filter(|t| t.contains("rswarm"))
            .collect::<Vec<_>>(),
        ["table ip rswarm_vxlan"]
    );
    dp.detach("c1").await.expect("detaching twice is fine");

    assert!(!vxlan_sockets(&host).is_empty());
    dp.apply(&snapshot(2, &[]))
        .await
        .expect("remove the network");
    assert_eq!(files(&root), Vec::<String>::new());
    assert_eq!(files(&state), Vec::<String>::new());
    assert!(!tables(&host).iter().any(|t| t.contains("rswarm")));
    // The overlay namespace is really gone (not just unpinned): its VXLAN
    // device and so the device's UDP socket in the host namespace go with
    // it. Namespaces die asynchronously: poll, bounded.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !vxlan_sockets(&host).is_empty() {
        assert!(Instant::now() < deadline, "{:?}", vxlan_sockets(&host));
        std::thread::sleep(Duration::from_millis(50));
    }
    dp.remove_all().await.expect("remove all");
}

/// UDP sockets on the VXLAN port in `netns`.
fn vxlan_sockets(netns: &Path) -> Vec<String> {
    run_in(netns, &["ss", "-Huan", "sport = :4789"])
        .lines()
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_cleans_what_a_crashed_run_left_and_nothing_else() {
    let lab = Lab::new("crash", 1);
    let h = &lab.hosts[0];
    let host = h.path();
    let hn = h.name.clone();
    // Things that are not ours, named like ours or where ours live.
    ip(&["-n", &hn, "link", "add", "rswtest_gw", "type", "bridge"]);
    run_in(&host, &["nft", "add", "table", "ip", "filter"]);
    run_in(&host, &["nft", "add", "table", "ip", "docker-dns"]);
    // Something of ours a crash could leave half made.
    ip(&[
        "-n",
        &hn,
        "link",
        "add",
        "rswe0123456789a",
        "type",
        "bridge",
    ]);

    let mut app = network("app", 4097, 1, false);
    let t1 = endpoint(&mut app, 11, h.addr, "t1", "web");
    endpoint(&mut app, 12, h.addr, "t2", "web");
    vip_service(&mut app, "web", 2, &[t1]);
    let cfg = lab.config(0);
    let (root, state) = (cfg.netns_root.clone(), cfg.state_dir.clone());
    {
        let crashed = LinuxDataPlane::new(cfg.clone()).expect("data plane");
        crashed.apply(&snapshot(1, &[&app])).await.expect("apply");
        crashed.attach(&req("t1", &["app"])).await.expect("t1");
        crashed.attach(&req("t2", &["app"])).await.expect("t2");
        // Dropped without cleaning up, as a crash would.
    }
    assert_eq!(files(&root).len(), 3);
    assert!(!ours(&links(&host)).is_empty());

    let dp = LinuxDataPlane::new(cfg).expect("restarted data plane");
    let swept = dp.cleanup_leftovers().await.expect("cleanup");
    assert_eq!(swept.namespaces, 3, "{swept:?}");
    // The egress table and the one untracking VXLAN.
    assert_eq!(swept.tables, 2, "{swept:?}");
    assert!(swept.links >= 2, "bridge and the stray port: {swept:?}");
    assert_eq!(files(&root), Vec::<String>::new());
    assert_eq!(files(&state), Vec::<String>::new());
    let host_links = links(&host);
    assert_eq!(ours(&host_links), Vec::<String>::new(), "{host_links:?}");
    assert!(
        host_links.contains(&"rswtest_gw".to_string()),
        "{host_links:?}"
    );
    assert_eq!(
        tables(&host),
        [
            "table ip filter".to_string(),
            "table ip docker-dns".to_string()
        ]
    );

    // And it works again from there.
    dp.apply(&snapshot(2, &[&app])).await.expect("apply again");
    dp.attach(&req("t1", &["app"])).await.expect("attach again");
    dp.remove_all().await.expect("remove all");
    assert_eq!(files(&root), Vec::<String>::new());
}
