//! The embedded DNS server inside task namespaces: swarm names from the
//! map (service → VIP, `tasks.<service>` → task addresses, aliases, task
//! names, `name.network`, PTR) over UDP and TCP, other names forwarded
//! from the host namespace, nothing forwarded for internal-only tasks;
//! records follow the map; a real process (busybox) resolves through the
//! generated resolv.conf.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use rswarm_network::{DNS_ADDR, DataPlane, LinuxDataPlane};
use rswarm_types::{MapService, ResolutionMode};

use crate::dnslab::{FakeDns, dns_answer, dns_query, tcp_exchange, udp_exchange};
use crate::maps::{endpoint, network, snapshot, vip_service};
use crate::netlab::{Lab, OUTSIDE};
use crate::{blocking, req};

const UPSTREAM_ANSWER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

async fn lookup(netns: &Path, name: &str, tcp: bool) -> (ResponseCode, Vec<Ipv4Addr>) {
    let (ns, q) = (netns.to_path_buf(), dns_query(name, RecordType::A));
    let server = SocketAddr::from((DNS_ADDR, 53));
    let bytes = blocking(move || {
        if tcp {
            tcp_exchange(&ns, server, q)
        } else {
            udp_exchange(&ns, server, q)
        }
    })
    .await
    .unwrap_or_else(|e| panic!("query {name}: {e}"));
    dns_answer(&bytes)
}

fn set(ips: &[Ipv4Addr]) -> BTreeSet<Ipv4Addr> {
    ips.iter().copied().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_answers_swarm_names_and_forwards_the_rest() {
    let lab = Lab::new("dns", 2);
    let upstream = FakeDns::start(&lab.outside(), OUTSIDE, UPSTREAM_ANSWER);
    let (h1, h2) = (lab.hosts[0].addr, lab.hosts[1].addr);
    let mut app = network("app", 4097, 1, false);
    let web1 = endpoint(&mut app, 11, h1, "web1", "web");
    let web2 = endpoint(&mut app, 12, h2, "web2", "web");
    endpoint(&mut app, 21, h1, "c1", "client");
    let db1 = endpoint(&mut app, 31, h2, "db1", "db");
    let vip = vip_service(&mut app, "web", 2, &[web1, web2]);
    app.services.push(MapService {
        id: "svc-db".into(),
        name: "db".into(),
        aliases: vec![],
        mode: ResolutionMode::Dnsrr,
        vip: None,
        backends: vec![db1],
    });
    let mut private = network("private", 4098, 2, true);
    let i1_ip = endpoint(&mut private, 11, h1, "i1", "inner");
    let inner_vip = vip_service(&mut private, "inner", 2, &[i1_ip]);

    let dp = LinuxDataPlane::new(lab.config(0)).expect("data plane");
    dp.cleanup_leftovers().await.expect("clean");
    dp.apply(&snapshot(1, &[&app, &private]))
        .await
        .expect("apply");
    let c1 = dp.attach(&req("c1", &["app"])).await.expect("attach c1");
    let i1 = dp
        .attach(&req("i1", &["private"]))
        .await
        .expect("attach i1");

    assert_eq!(
        std::fs::read_to_string(&c1.resolv_conf).expect("resolv.conf"),
        "search lab.test\nnameserver 127.0.0.11\noptions ndots:0\n"
    );

    let c = &c1.netns;
    assert_eq!(
        lookup(c, "web", false).await,
        (ResponseCode::NoError, vec![vip])
    );
    assert_eq!(lookup(c, "web-alias.", false).await.1, vec![vip]);
    assert_eq!(lookup(c, "web.app", false).await.1, vec![vip]);
    assert_eq!(
        set(&lookup(c, "tasks.web", false).await.1),
        set(&[web1, web2])
    );
    assert_eq!(
        set(&lookup(c, "tasks.web", true).await.1),
        set(&[web1, web2]),
        "over TCP"
    );
    assert_eq!(
        lookup(c, "web.12.web2", false).await.1,
        vec![web2],
        "task name"
    );
    assert_eq!(lookup(c, "db", false).await.1, vec![db1], "dnsrr");
    assert_eq!(
        lookup(c, "inner", false).await.1,
        vec![UPSTREAM_ANSWER],
        "not c1's network"
    );

    // Other names go upstream, asked from host 1's namespace (UDP and TCP).
    assert_eq!(
        lookup(c, "example.com", false).await,
        (ResponseCode::NoError, vec![UPSTREAM_ANSWER])
    );
    assert_eq!(
        lookup(c, "example.com", true).await.1,
        vec![UPSTREAM_ANSWER]
    );
    let clients = upstream.clients.lock().expect("lock").clone();
    assert!(!clients.is_empty());
    assert!(
        clients.iter().all(|a| a.ip() == std::net::IpAddr::V4(h1)),
        "{clients:?}"
    );

    // An internal-only task: its own names, nothing forwarded.
    let i = &i1.netns;
    assert_eq!(lookup(i, "inner", false).await.1, vec![inner_vip]);
    assert_eq!(
        lookup(i, "example.com", false).await.0,
        ResponseCode::Refused
    );
    assert_eq!(lookup(i, "web", false).await.0, ResponseCode::Refused);

    // Records follow the map: a third backend appears in tasks.web.
    let web3 = endpoint(&mut app, 13, h2, "web3", "web");
    app.services[0].backends.push(web3);
    dp.apply(&snapshot(2, &[&app, &private]))
        .await
        .expect("apply v2");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = set(&lookup(c, "tasks.web", false).await.1);
        if got == set(&[web1, web2, web3]) {
            break;
        }
        assert!(Instant::now() < deadline, "tasks.web stayed {got:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    dp.remove_all().await.expect("remove");
}

/// A real process resolves `web` through the task's resolv.conf (bind
/// mounted in a private mount namespace, as the process runtime will) and
/// fetches from busybox httpd backends on both hosts through the VIP
/// (with `nc`: Debian's static busybox `wget` crashes in its NSS lookup).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busybox_resolves_the_service_and_fetches_through_the_vip() {
    let lab = Lab::new("bbox", 2);
    let (h1, h2) = (lab.hosts[0].addr, lab.hosts[1].addr);
    let mut app = network("app", 4097, 1, false);
    let web1 = endpoint(&mut app, 11, h1, "web1", "web");
    let web2 = endpoint(&mut app, 12, h2, "web2", "web");
    endpoint(&mut app, 21, h1, "c1", "client");
    let vip = vip_service(&mut app, "web", 2, &[web1, web2]);
    let map = snapshot(1, &[&app]);
    // busybox nslookup tries search domains even with ndots:0: none here.
    let cfg = |i: usize| {
        let mut c = lab.config(i);
        c.dns.search.clear();
        c
    };
    let dp1 = LinuxDataPlane::new(cfg(0)).expect("data plane 1");
    let dp2 = LinuxDataPlane::new(cfg(1)).expect("data plane 2");
    for dp in [&dp1, &dp2] {
        dp.cleanup_leftovers().await.expect("clean");
        dp.apply(&map).await.expect("apply");
    }
    let t1 = dp1
        .attach(&req("web1", &["app"]))
        .await
        .expect("attach web1");
    let t2 = dp2
        .attach(&req("web2", &["app"]))
        .await
        .expect("attach web2");
    let c1 = dp1.attach(&req("c1", &["app"])).await.expect("attach c1");
    for (t, name) in [(&t1, "web1"), (&t2, "web2")] {
        let root = lab.hosts[0].dir.join(format!("www-{name}"));
        std::fs::create_dir_all(&root).expect("www");
        std::fs::write(root.join("index.html"), format!("{name}\n")).expect("index");
        let root = root.display().to_string();
        lab.spawn_in(
            &t.netns,
            &["busybox", "httpd", "-f", "-p", "80", "-h", &root],
        );
    }
    let script = format!(
        "mount --bind {} /etc/resolv.conf && busybox nslookup web && printf 'GET / HTTP/1.0\\r\\n\\r\\n' | busybox nc {vip} 80",
        c1.resolv_conf.display()
    );
    let ns = c1.netns.clone();
    let mut seen = BTreeSet::new();
    let mut last = String::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    while seen.len() < 2 {
        assert!(
            Instant::now() < deadline,
            "saw only {seen:?}; last run: {last}"
        );
        let (ns, script) = (ns.clone(), script.clone());
        let out = blocking(move || {
            std::process::Command::new("nsenter")
                .arg(format!("--net={}", ns.display()))
                .args(["unshare", "-m", "sh", "-c", &script])
                .output()
                .expect("run client")
        })
        .await;
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        last = format!(
            "{}: {text} {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        if !out.status.success() {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        assert!(text.contains("Server:\t\t127.0.0.11"), "{text}");
        assert!(text.contains(&format!("Address: {vip}")), "{text}");
        seen.insert(text.lines().last().unwrap_or("").to_string());
    }
    assert_eq!(
        seen,
        BTreeSet::from(["web1".to_string(), "web2".to_string()])
    );
    lab.kill_all();
    dp1.remove_all().await.expect("remove 1");
    dp2.remove_all().await.expect("remove 2");
}
