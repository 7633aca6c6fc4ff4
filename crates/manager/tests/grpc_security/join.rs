//! Joining: the worker token works; every other token is refused with a
//! clear error and no new node.

use rswarm_agent::remote;
use rswarm_agent::remote::{JoinError, join};
use rswarm_manager::control::TokenRotation;
use rswarm_manager::grpc::INVALID_TOKEN;
use rswarm_pki::{RootCa, generate_join_token};
use rswarm_types::Availability;

use rswarm_types::NodeRole;

use crate::harness::Swarm;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_records_availability_and_the_observed_address() {
    let swarm = Swarm::start().await;
    let identity = join(
        &swarm.addr.to_string(),
        &swarm.tokens().worker,
        Some(Availability::Drain),
        "",
    )
    .await
    .expect("join");
    let node = swarm.node(&identity.node_id);
    assert_eq!(node.spec.availability, Availability::Drain);
    assert_eq!(node.status.addr, "127.0.0.1");
    swarm.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_are_refused_and_change_nothing() {
    let swarm = Swarm::start().await;
    let addr = swarm.addr.to_string();
    let before = swarm.node_count();

    // Right CA, unknown secret.
    let wrong = generate_join_token(&swarm.root);
    let err = join(&addr, &wrong, None, "")
        .await
        .expect_err("wrong secret");
    assert!(
        matches!(&err, JoinError::InvalidToken(m) if m == INVALID_TOKEN),
        "{err:?}"
    );

    // A token pinning another CA: the downloaded root does not match.
    let other = RootCa::generate(chrono::Utc::now()).expect("other root");
    let err = join(&addr, &generate_join_token(&other), None, "")
        .await
        .expect_err("other CA");
    let expected = other.digest().trim_start_matches("sha256:").to_string();
    assert!(
        matches!(&err, JoinError::CaMismatch { expected: e } if *e == expected),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("remote CA does not match fingerprint. Expected: {expected}")
    );

    // Not a token at all.
    let err = join(&addr, "SWMTKN-1-abc", None, "")
        .await
        .expect_err("malformed");
    assert!(matches!(err, JoinError::MalformedToken(_)), "{err:?}");

    assert_eq!(swarm.node_count(), before);

    // The manager token grants a manager certificate and a manager node.
    let manager = join(&addr, &swarm.tokens().manager, None, "")
        .await
        .expect("manager token");
    assert_eq!(manager.role, NodeRole::Manager);
    let node = swarm.node(&manager.node_id);
    assert_eq!(
        (node.role, node.spec.role),
        (NodeRole::Manager, NodeRole::Manager)
    );
    assert_eq!(swarm.node_count(), before + 1);
    swarm.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_away_token_stops_working() {
    let swarm = Swarm::start().await;
    let addr = swarm.addr.to_string();
    let old = swarm.tokens().worker;
    let cluster = swarm.manager.control.cluster().expect("cluster");
    swarm
        .manager
        .control
        .update_cluster(
            cluster.meta.version.index,
            cluster.spec.clone(),
            TokenRotation {
                worker: true,
                manager: false,
            },
        )
        .await
        .expect("rotate");
    let new = swarm.tokens().worker;
    assert_ne!(old, new);
    let before = swarm.node_count();
    let err = join(&addr, &old, None, "").await.expect_err("old token");
    assert!(
        matches!(&err, JoinError::InvalidToken(m) if m == INVALID_TOKEN),
        "{err:?}"
    );
    assert_eq!(swarm.node_count(), before);
    join(&addr, &new, None, "").await.expect("new token works");
    assert_eq!(swarm.node_count(), before + 1);
    swarm.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_manager_is_reported_after_retries() {
    // A port nobody listens on.
    let addr = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        l.local_addr().expect("addr").to_string()
    };
    let root = RootCa::generate(chrono::Utc::now()).expect("root");
    let started = std::time::Instant::now();
    let err = join(&addr, &generate_join_token(&root), None, "")
        .await
        .expect_err("nobody there");
    assert!(
        err.to_string()
            .starts_with(&format!("could not connect to {addr}: ")),
        "{err}"
    );
    // Five attempts, one second apart.
    assert!(started.elapsed() >= remote::FETCH_RETRY_DELAY * (remote::FETCH_ATTEMPTS - 1));
}
