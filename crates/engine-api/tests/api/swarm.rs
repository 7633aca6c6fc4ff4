//! `/swarm/*`.

use crate::fake::{Call, Fake, NODE1};
use crate::{get, post};

#[tokio::test]
async fn init_returns_a_json_string() {
    let fake = Fake::inactive();
    let body = r#"{"ListenAddr":"0.0.0.0:2377","AdvertiseAddr":"","DataPathAddr":"","DataPathPort":0,"DefaultAddrPool":[],"ForceNewCluster":false,"Spec":{"Labels":null,"Orchestration":{},"Raft":{"ElectionTick":0,"HeartbeatTick":0},"Dispatcher":{},"CAConfig":{},"TaskDefaults":{},"EncryptionConfig":{"AutoLockManagers":false}},"AutoLockManagers":false,"SubnetSize":24}"#;
    let r = post(&fake, "/v1.51/swarm/init", body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(r.text().trim_end(), format!("\"{NODE1}\""));
    assert_eq!(r.json(), serde_json::json!(NODE1));
    match fake.calls().as_slice() {
        [Call::Init(req)] => assert_eq!(
            (req.listen_addr.as_str(), req.subnet_size),
            ("0.0.0.0:2377", 24)
        ),
        other => panic!("{other:?}"),
    }
    post(&Fake::manager(), "/swarm/init", "{}")
        .await
        .assert_error(503, &rswarm_types::ControlError::AlreadyInSwarm.to_string());
}

#[tokio::test]
async fn init_ignores_fields_older_apis_lack() {
    let fake = Fake::inactive();
    let r = post(
        &fake,
        "/v1.38/swarm/init",
        r#"{"DefaultAddrPool":["10.20.0.0/16"],"SubnetSize":26,"DataPathPort":7777}"#,
    )
    .await;
    assert_eq!(r.status, 200);
    match fake.calls().as_slice() {
        [Call::Init(req)] => assert_eq!(
            (
                req.default_addr_pool.clone(),
                req.subnet_size,
                req.data_path_port
            ),
            (None, 0, 0)
        ),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn join_and_leave() {
    let fake = Fake::inactive();
    let r = post(
        &fake,
        "/swarm/join",
        r#"{"ListenAddr":"0.0.0.0:2377","RemoteAddrs":["10.0.0.1:2377"],"JoinToken":"SWMTKN-1-x"}"#,
    )
    .await;
    assert_eq!((r.status.as_u16(), r.body.len()), (200, 0));
    let fake = Fake::manager();
    let r = post(&fake, "/swarm/leave?force=1", "").await;
    assert_eq!(r.status, 200);
    assert!(matches!(fake.calls().as_slice(), [Call::Leave(true)]));
}

#[tokio::test]
async fn inspect_has_cluster_info_and_tokens_but_no_key() {
    let ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = ca.self_signed(&key).expect("cert");
    let fake = Fake::manager();
    fake.state().cluster.ca_cert_pem = cert.pem();
    fake.state().cluster.ca_key_pem = key.serialize_pem();
    let r = get(&fake, "/v1.51/swarm").await;
    assert_eq!(r.status, 200);
    let j = r.json();
    assert_eq!(j["ID"], "cluster1xxxxxxxxxxxxxxxxx");
    assert_eq!(j["Version"]["Index"], 2);
    assert_eq!(j["JoinTokens"]["Worker"], "SWMTKN-1-abc-worker");
    assert_eq!(j["JoinTokens"]["Manager"], "SWMTKN-1-abc-manager");
    assert_eq!(j["Spec"]["Name"], "default");
    assert_eq!(j["TLSInfo"]["TrustRoot"], cert.pem());
    assert!(
        j["TLSInfo"]["CertIssuerSubject"]
            .as_str()
            .is_some_and(|s| s.len() > 4)
    );
    assert!(
        j["TLSInfo"]["CertIssuerPublicKey"]
            .as_str()
            .is_some_and(|s| s.starts_with("MF")),
        "{j}"
    );
    let text = r.text();
    assert!(
        !text.contains("PRIVATE KEY") && !text.contains("CaKeyPem") && !text.contains("CaCertPem"),
        "{text}"
    );
}

#[tokio::test]
async fn update_checks_version_and_strict_rotate_flags() {
    let fake = Fake::manager();
    let spec = get(&fake, "/swarm").await.json()["Spec"].to_string();
    post(&fake, "/swarm/update", &spec).await.assert_error(
        400,
        "invalid swarm version '': strconv.ParseUint: parsing \"\": invalid syntax",
    );
    post(&fake, "/swarm/update?version=abc", &spec)
        .await
        .assert_error(
            400,
            "invalid swarm version 'abc': strconv.ParseUint: parsing \"abc\": invalid syntax",
        );
    post(
        &fake,
        "/swarm/update?version=2&rotateWorkerToken=yes",
        &spec,
    )
    .await
    .assert_error(400, "invalid value for rotateWorkerToken: yes");
    post(
        &fake,
        "/swarm/update?version=1&rotateWorkerToken=false",
        &spec,
    )
    .await
    .assert_error(
        500,
        "rpc error: code = Unknown desc = update out of sequence",
    );
    let r = post(
        &fake,
        "/v1.51/swarm/update?version=2&rotateWorkerToken=true&rotateManagerToken=False&rotateManagerUnlockKey=0",
        &spec,
    )
    .await;
    assert_eq!((r.status.as_u16(), r.body.len()), (200, 0));
    match fake.calls().as_slice() {
        [Call::SwarmUpdate(2, rot)] => {
            assert!(rot.worker_token && !rot.manager_token && !rot.unlock_key)
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn unlock_key_and_unlock() {
    let fake = Fake::manager();
    assert_eq!(
        get(&fake, "/swarm/unlockkey").await.json(),
        serde_json::json!({ "UnlockKey": "" })
    );
    post(&fake, "/swarm/unlock", r#"{"UnlockKey":"SWMKEY-1-x"}"#)
        .await
        .assert_error(400, "swarm is not locked");
    fake.state()
        .cluster
        .spec
        .encryption_config
        .auto_lock_managers = true;
    assert_eq!(get(&fake, "/swarm/unlockkey").await.status, 501);
    fake.state().info.state = rswarm_engine_api::LocalNodeState::Locked;
    assert_eq!(
        post(&fake, "/swarm/unlock", r#"{"UnlockKey":"SWMKEY-1-x"}"#)
            .await
            .status,
        501
    );
}
