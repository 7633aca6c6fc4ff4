//! `/nodes`.

use axum::http::Method;

use crate::fake::{Call, Fake, NODE1, NODE2};
use crate::{filters, get, post, send};

fn ids(j: &serde_json::Value) -> Vec<String> {
    j.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|n| n["ID"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn list_has_the_keys_node_ls_reads() {
    let j = get(&Fake::manager(), "/v1.51/nodes").await.json();
    assert_eq!(ids(&j), vec![NODE1, NODE2]);
    let n = &j[0];
    assert_eq!(n["Description"]["Hostname"], "host-a");
    assert_eq!(n["Status"]["State"], "ready");
    assert_eq!(n["Spec"]["Availability"], "active");
    assert_eq!(n["Spec"]["Role"], "manager");
    assert_eq!(n["ManagerStatus"]["Leader"], true);
    assert_eq!(n["ManagerStatus"]["Addr"], "127.0.0.1:2377");
    assert_eq!(n["Description"]["Engine"]["EngineVersion"], "28.5.2-rswarm");
    assert!(
        j[1].get("ManagerStatus").is_none(),
        "workers have no ManagerStatus"
    );
    assert_eq!(j[1]["Status"]["State"], "down");
}

#[tokio::test]
async fn filters_match_like_swarmkit() {
    let fake = Fake::manager();
    let q = |f: &str| format!("/nodes?filters={}", filters(f));
    assert_eq!(
        ids(&get(&fake, &q(r#"{"role":{"manager":true}}"#)).await.json()),
        vec![NODE1]
    );
    assert_eq!(
        ids(&get(&fake, &q(r#"{"role":["worker"]}"#)).await.json()),
        vec![NODE2]
    );
    assert_eq!(
        ids(&get(&fake, &q(r#"{"name":{"host-":true}}"#)).await.json()),
        vec![NODE1, NODE2]
    );
    assert_eq!(
        ids(&get(&fake, &q(r#"{"name":{"host-b":true}}"#)).await.json()),
        vec![NODE2]
    );
    assert_eq!(
        ids(&get(&fake, &q(r#"{"id":{"node2":true}}"#)).await.json()),
        vec![NODE2]
    );
    assert_eq!(
        ids(&get(&fake, &q(r#"{"node.label":{"zone=east":true}}"#))
            .await
            .json()),
        vec![NODE1]
    );
    assert_eq!(
        ids(&get(&fake, &q(r#"{"label":{"engine-kind":true}}"#))
            .await
            .json()),
        vec![NODE1]
    );
    assert!(
        ids(&get(&fake, &q(r#"{"membership":{"pending":true}}"#))
            .await
            .json())
        .is_empty()
    );
    get(&fake, &q(r#"{"colour":{"red":true}}"#))
        .await
        .assert_error(400, "Invalid filter 'colour'");
    get(&fake, &q(r#"{"role":{"boss":true}}"#))
        .await
        .assert_error(400, "Invalid role filter: 'boss'");
}

#[tokio::test]
async fn inspect_resolves_id_hostname_and_prefix() {
    let fake = Fake::manager();
    for input in [NODE1, "host-a", "node1"] {
        let r = get(&fake, &format!("/v1.41/nodes/{input}")).await;
        assert_eq!(r.json()["ID"], NODE1, "{input}");
    }
    get(&fake, "/nodes/node")
        .await
        .assert_error(400, "node node is ambiguous (2 matches found)");
    get(&fake, "/nodes/host-z")
        .await
        .assert_error(404, "node host-z not found");
}

#[tokio::test]
async fn update_and_remove_pass_full_ids() {
    let fake = Fake::manager();
    let body = r#"{"Labels":{"zone":"west"},"Role":"worker","Availability":"drain"}"#;
    let r = post(&fake, "/v1.51/nodes/host-b/update?version=3", body).await;
    assert_eq!((r.status.as_u16(), r.body.len()), (200, 0), "{}", r.text());
    post(&fake, "/nodes/host-b/update", body)
        .await
        .assert_error(
            400,
            "invalid node version '': strconv.ParseUint: parsing \"\": invalid syntax",
        );
    post(&fake, "/nodes/host-b/update?version=1", body)
        .await
        .assert_error(
            500,
            "rpc error: code = Unknown desc = update out of sequence",
        );
    post(
        &fake,
        "/nodes/host-b/update?version=3",
        r#"{"Availability":"sleepy"}"#,
    )
    .await
    .assert_error(400, r#"invalid Availability: "sleepy""#);
    let r = send(&fake, Method::DELETE, "/nodes/node2?force=1", None).await;
    assert_eq!(r.status, 200);
    match fake.calls().as_slice() {
        [Call::UpdateNode(id, 3, spec), Call::RemoveNode(rid, true)] => {
            assert_eq!((id.as_str(), rid.as_str()), (NODE2, NODE2));
            assert_eq!(spec.availability, rswarm_types::Availability::Drain);
        }
        other => panic!("{other:?}"),
    }
}
