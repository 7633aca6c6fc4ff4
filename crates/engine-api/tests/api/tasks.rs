//! `/tasks`.

use crate::fake::{Fake, NODE1, T_DB1, T_TOP1, T_WEB_OLD, T_WEB1, T_WEB2, WEB};
use crate::{filters, get};

fn ids(j: &serde_json::Value) -> Vec<String> {
    j.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t["ID"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

async fn list(fake: &Fake, f: &str) -> crate::Reply {
    get(fake, &format!("/v1.51/tasks?filters={}", filters(f))).await
}

#[tokio::test]
async fn service_filter_accepts_id_name_and_prefix() {
    let fake = Fake::manager();
    for v in [WEB, "web", "abc1"] {
        let j = list(&fake, &format!(r#"{{"service":{{"{v}":true}}}}"#))
            .await
            .json();
        assert_eq!(ids(&j), vec![T_WEB1, T_WEB2, T_WEB_OLD], "{v}");
    }
    list(&fake, r#"{"service":{"nope":true}}"#)
        .await
        .assert_error(404, "service nope not found");
    list(&fake, r#"{"service":{"ab":true}}"#)
        .await
        .assert_error(400, "service ab is ambiguous (2 matches found)");
    let both = list(&fake, r#"{"service":["web","db"]}"#).await.json();
    assert_eq!(ids(&both).len(), 4);
}

#[tokio::test]
async fn up_to_date_means_not_dirty() {
    let fake = Fake::manager();
    let j = list(
        &fake,
        r#"{"_up-to-date":{"true":true},"service":{"web":true}}"#,
    )
    .await
    .json();
    assert_eq!(ids(&j), vec![T_WEB1, T_WEB2]);
    let t = &j[0];
    for k in [
        "Slot",
        "NodeID",
        "DesiredState",
        "ServiceID",
        "Status",
        "Spec",
        "CreatedAt",
        "Version",
    ] {
        assert!(t.get(k).is_some(), "{k}: {t}");
    }
    assert_eq!(t["Status"]["State"], "running");
    assert_eq!(t["Spec"]["ContainerSpec"]["Image"], "nginx:latest");
    assert!(t.get("SpecVersion").is_none());
}

#[tokio::test]
async fn node_label_name_desired_state_filters() {
    let fake = Fake::manager();
    let on_a = ids(&list(&fake, r#"{"node":{"host-a":true}}"#).await.json());
    assert_eq!(on_a, vec![T_WEB1, T_WEB_OLD, T_DB1, T_TOP1]);
    assert_eq!(
        ids(&list(&fake, &format!(r#"{{"node":{{"{NODE1}":true}}}}"#))
            .await
            .json()),
        on_a
    );
    list(&fake, r#"{"node":{"host-z":true}}"#)
        .await
        .assert_error(404, "node host-z not found");
    let stack = ids(&list(
        &fake,
        r#"{"label":{"com.docker.stack.namespace=shop":true}}"#,
    )
    .await
    .json());
    assert_eq!(
        stack,
        vec![T_WEB1, T_WEB2, T_WEB_OLD],
        "label matches the service's labels"
    );
    assert!(
        ids(&list(&fake, r#"{"label":{"task-own-label":true}}"#)
            .await
            .json())
        .is_empty()
    );
    assert_eq!(
        ids(&list(&fake, r#"{"name":{"web.1.":true}}"#).await.json()),
        vec![T_WEB1, T_WEB_OLD]
    );
    assert_eq!(
        ids(&list(&fake, r#"{"id":{"task4":true}}"#).await.json()),
        vec![T_DB1]
    );
    let running = ids(&list(
        &fake,
        r#"{"desired-state":{"running":true},"service":{"web":true}}"#,
    )
    .await
    .json());
    assert_eq!(running, vec![T_WEB1, T_WEB2]);
    let shut = ids(&list(&fake, r#"{"desired-state":["Shutdown"]}"#)
        .await
        .json());
    assert_eq!(shut, vec![T_WEB_OLD]);
    list(&fake, r#"{"desired-state":{"sleeping":true}}"#)
        .await
        .assert_error(400, "Invalid desired-state filter: 'sleeping'");
    list(&fake, r#"{"slot":{"1":true}}"#)
        .await
        .assert_error(400, "Invalid filter 'slot'");
}

#[tokio::test]
async fn inspect_resolves_id_prefix_and_name() {
    let fake = Fake::manager();
    for input in [T_TOP1, "task5", &format!("top.1.{T_TOP1}")] {
        let j = get(&fake, &format!("/tasks/{input}")).await.json();
        assert_eq!(j["ID"], T_TOP1, "{input}");
        assert_eq!(j["Slot"], 1);
        assert_eq!(j["Spec"]["ContainerSpec"]["TTY"], true);
    }
    get(&fake, "/tasks/task")
        .await
        .assert_error(400, "task task is ambiguous (5 matches found)");
    get(&fake, "/tasks/zzz")
        .await
        .assert_error(404, "task zzz not found");
}
