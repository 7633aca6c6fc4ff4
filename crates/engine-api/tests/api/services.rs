//! `/services`.

use axum::http::Method;

use crate::fake::{Call, DB, Fake, TOP, WEB};
use crate::{filters, get, post, send};

fn names(j: &serde_json::Value) -> Vec<String> {
    j.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s["Spec"]["Name"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn list_filters() {
    let fake = Fake::manager();
    let q = |f: &str| format!("/v1.51/services?filters={}", filters(f));
    assert_eq!(
        names(&get(&fake, "/services").await.json()),
        vec!["web", "db", "top"]
    );
    assert_eq!(
        names(
            &get(
                &fake,
                &q(r#"{"label":{"com.docker.stack.namespace=shop":true}}"#)
            )
            .await
            .json()
        ),
        vec!["web"]
    );
    assert_eq!(
        names(
            &get(
                &fake,
                &q(r#"{"label":{"com.docker.stack.namespace":true}}"#)
            )
            .await
            .json()
        ),
        vec!["web"]
    );
    assert_eq!(
        names(
            &get(
                &fake,
                &q(r#"{"label":["com.docker.stack.namespace=other"]}"#)
            )
            .await
            .json()
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        names(
            &get(&fake, &q(r#"{"name":{"w":true,"d":true}}"#))
                .await
                .json()
        ),
        vec!["web", "db"]
    );
    assert_eq!(
        names(&get(&fake, &q(r#"{"id":{"ab":true}}"#)).await.json()),
        vec!["web", "db"]
    );
    assert_eq!(
        names(&get(&fake, &q(r#"{"mode":{"global":true}}"#)).await.json()),
        vec!["db"]
    );
    assert_eq!(
        names(
            &get(&fake, &q(r#"{"runtime":{"container":true}}"#))
                .await
                .json()
        )
        .len(),
        3
    );
    get(&fake, &q(r#"{"nmae":{"web":true}}"#))
        .await
        .assert_error(400, "Invalid filter 'nmae'");
}

#[tokio::test]
async fn status_true_adds_service_status() {
    let fake = Fake::manager();
    let j = get(&fake, "/v1.51/services?status=true").await.json();
    let status = |name: &str| {
        let s = j
            .as_array()
            .and_then(|a| a.iter().find(|s| s["Spec"]["Name"] == name))
            .expect("service");
        (
            s["ServiceStatus"]["RunningTasks"].as_u64(),
            s["ServiceStatus"]["DesiredTasks"].as_u64(),
            s["ServiceStatus"]["CompletedTasks"].as_u64(),
        )
    };
    assert_eq!(
        status("web"),
        (Some(1), Some(2), Some(0)),
        "the task on the down node does not count"
    );
    assert_eq!(status("db"), (Some(1), Some(1), Some(0)));
    assert_eq!(status("top"), (Some(0), Some(1), Some(0)));
    let plain = get(&fake, "/services").await.json();
    assert!(plain[0].get("ServiceStatus").is_none());
    let old = get(&fake, "/v1.40/services?status=true").await.json();
    assert!(
        old[0].get("ServiceStatus").is_none(),
        "moby ignores status below 1.41"
    );
    get(&fake, "/services?status=maybe")
        .await
        .assert_error(400, "invalid value for status: maybe");
}

#[tokio::test]
async fn inspect_resolves_and_never_returns_null_pointers() {
    let fake = Fake::manager();
    for input in [TOP, "top", "xyz"] {
        let j = get(
            &fake,
            &format!("/v1.51/services/{input}?insertDefaults=false"),
        )
        .await
        .json();
        assert_eq!(j["ID"], TOP, "{input}");
        assert_eq!(
            j["Spec"]["Mode"]["Replicated"]["Replicas"], 1,
            "default replicas"
        );
        assert_eq!(j["Spec"]["TaskTemplate"]["ContainerSpec"]["TTY"], true);
        assert!(j.get("UpdateStatus").is_none() && j.get("PreviousSpec").is_none());
        assert!(j["Spec"].get("UpdateConfig").is_none());
        assert!(j["Endpoint"]["Spec"].is_object());
        assert_eq!(j["Version"]["Index"], 10);
    }
    get(&fake, "/services/ab")
        .await
        .assert_error(400, "service ab is ambiguous (2 matches found)");
    get(&fake, "/services/nope")
        .await
        .assert_error(404, "service nope not found");
    get(&fake, "/services/web?insertDefaults=yes")
        .await
        .assert_error(400, "invalid value for insertDefaults: yes");
}

#[tokio::test]
async fn insert_defaults_fills_swarmkit_defaults() {
    let j = get(&Fake::manager(), "/v1.51/services/web?insertDefaults=true")
        .await
        .json();
    let spec = &j["Spec"];
    for cfg in ["UpdateConfig", "RollbackConfig"] {
        assert_eq!(
            spec[cfg],
            serde_json::json!({"Parallelism":1,"FailureAction":"pause","Monitor":5_000_000_000_i64,"MaxFailureRatio":0,"Order":"stop-first"}),
            "{cfg}"
        );
    }
    assert_eq!(
        spec["TaskTemplate"]["RestartPolicy"],
        serde_json::json!({"Condition":"any","Delay":5_000_000_000_i64,"MaxAttempts":0})
    );
    assert_eq!(
        spec["TaskTemplate"]["ContainerSpec"]["StopGracePeriod"],
        10_000_000_000_i64
    );
    assert_eq!(
        spec["TaskTemplate"]["ContainerSpec"]["DNSConfig"],
        serde_json::json!({})
    );
    assert_eq!(spec["TaskTemplate"]["Placement"], serde_json::json!({}));
    assert_eq!(spec["TaskTemplate"]["Resources"], serde_json::json!({}));
}

#[tokio::test]
async fn create_returns_201_and_generates_names() {
    let fake = Fake::manager();
    let body = r#"{"Name":"","Labels":{},"TaskTemplate":{"ContainerSpec":{"Image":"busybox:latest","Init":false,"DNSConfig":{},"Args":["sleep","1000"]},"Resources":{"Limits":{},"Reservations":{}},"Placement":{},"ForceUpdate":0},"Mode":{"Replicated":{}},"EndpointSpec":{"Mode":"vip"}}"#;
    let r = post(&fake, "/v1.51/services/create", body).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(
        r.json(),
        serde_json::json!({"ID":"new000000000000000000000s","Warnings":null})
    );
    match fake.calls().as_slice() {
        [Call::CreateService(spec)] => {
            let (adj, surname) = spec.name.split_once('_').expect("adjective_surname");
            assert!(
                !adj.is_empty() && !surname.is_empty() && !surname.contains('_'),
                "{}",
                spec.name
            );
            assert_eq!(spec.mode.replicas(), Some(1));
        }
        other => panic!("{other:?}"),
    }
    post(
        &fake,
        "/services/create",
        &body.replace(r#""Name":"""#, r#""Name":"WEB""#),
    )
    .await
    .assert_error(
        409,
        "rpc error: code = AlreadyExists desc = name conflicts with an existing object: service WEB already exists",
    );
    post(
        &fake,
        "/services/create",
        r#"{"Name":"x","Mode":{"Replicated":{}}}"#,
    )
    .await
    .assert_error(
        400,
        "rpc error: code = InvalidArgument desc = TaskTemplate.ContainerSpec is required",
    );
}

#[tokio::test]
async fn update_rollback_and_remove() {
    let fake = Fake::manager();
    let spec = get(&fake, "/services/web").await.json()["Spec"].to_string();
    let r = post(
        &fake,
        "/v1.51/services/web/update?version=10&registryAuthFrom=spec",
        &spec,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), serde_json::json!({"Warnings":null}));
    let r = post(
        &fake,
        "/services/abc/update?version=10&rollback=previous",
        &spec,
    )
    .await;
    assert_eq!(r.status, 200);
    post(&fake, "/services/web/update?version=x", &spec)
        .await
        .assert_error(
            400,
            "invalid service version 'x': strconv.ParseUint: parsing \"x\": invalid syntax",
        );
    post(&fake, "/services/web/update?version=9", &spec)
        .await
        .assert_error(
            500,
            "rpc error: code = Unknown desc = update out of sequence",
        );
    post(
        &fake,
        "/services/web/update?version=10&rollback=later",
        &spec,
    )
    .await
    .assert_error(400, "unrecognized rollback option later");
    let r = send(&fake, Method::DELETE, "/v1.51/services/abd", None).await;
    assert_eq!((r.status.as_u16(), r.body.len()), (200, 0));
    send(&fake, Method::DELETE, "/services/gone", None)
        .await
        .assert_error(404, "service gone not found");
    match fake.calls().as_slice() {
        [
            Call::UpdateService(a, 10, s, false),
            Call::UpdateService(b, 10, _, true),
            Call::RemoveService(c),
        ] => {
            assert_eq!((a.as_str(), b.as_str(), c.as_str()), (WEB, WEB, DB));
            assert_eq!(s.name, "web");
        }
        other => panic!("{other:?}"),
    }
}

/// The keys `service ls`, `service ps`, `service update` and the progress
/// loop read, with the JSON types Go decodes them into.
#[tokio::test]
async fn golden_keys_the_cli_reads() {
    let j = get(&Fake::manager(), "/v1.51/services?status=true")
        .await
        .json();
    let web = &j[0];
    assert_eq!(web["ID"], WEB);
    assert!(web["Version"]["Index"].is_u64());
    for k in ["CreatedAt", "UpdatedAt"] {
        let t = web[k].as_str().expect("time string");
        assert!(chrono::DateTime::parse_from_rfc3339(t).is_ok(), "{k}: {t}");
    }
    let spec = &web["Spec"];
    assert!(spec["Name"].is_string() && spec["Labels"].is_object());
    assert!(spec["Mode"]["Replicated"]["Replicas"].is_u64());
    assert_eq!(
        spec["TaskTemplate"]["ContainerSpec"]["Image"],
        "nginx:latest"
    );
    assert!(spec["TaskTemplate"]["ForceUpdate"].is_u64());
    assert!(web["Endpoint"].is_object());
    for k in ["RunningTasks", "DesiredTasks", "CompletedTasks"] {
        assert!(web["ServiceStatus"][k].is_u64(), "{k}");
    }
    let db = &j[1];
    assert_eq!(db["Spec"]["Mode"], serde_json::json!({"Global":{}}));
    let tasks = get(&Fake::manager(), "/v1.51/tasks").await.json();
    let t = &tasks[0];
    assert!(t["Slot"].is_u64() && t["NodeID"].is_string() && t["ServiceID"].is_string());
    assert!(t["Status"]["Timestamp"].is_string() && t["Status"]["State"].is_string());
    assert!(t["DesiredState"].is_string());
    assert!(t["Spec"]["ContainerSpec"]["Image"].is_string());
}
