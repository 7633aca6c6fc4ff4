//! Log streams, byte for byte.

use rswarm_engine_api::LogTarget;

use crate::fake::{Call, Fake, NODE1, T_TOP1, T_WEB1, TOP, WEB};
use crate::get;

fn frame(stream: u8, payload: &str) -> Vec<u8> {
    let mut v = vec![stream, 0, 0, 0];
    v.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    v.extend_from_slice(payload.as_bytes());
    v
}

#[tokio::test]
async fn service_logs_are_framed_with_details_and_timestamps() {
    let fake = Fake::manager();
    let r = get(
        &fake,
        "/v1.51/services/web/logs?details=1&follow=0&stderr=1&stdout=1&tail=all&timestamps=1",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        "application/vnd.docker.multiplexed-stream"
    );
    let details = format!(
        "com.docker.swarm.node.id={NODE1},com.docker.swarm.service.id={WEB},com.docker.swarm.task.id={T_WEB1}"
    );
    let mut want = frame(
        1,
        &format!("2025-01-02T03:04:05.000000007Z {details} hello from web\n"),
    );
    want.extend(frame(
        2,
        &format!("2025-01-02T03:04:06.000000007Z {details} warning: disk\n"),
    ));
    assert_eq!(r.body.to_vec(), want, "{:?}", r.text());
    match fake.calls().as_slice() {
        [Call::Logs(LogTarget::Service(id), seen)] => {
            assert_eq!(id, WEB);
            assert!(
                seen.stdout
                    && seen.stderr
                    && !seen.follow
                    && seen.tail.is_none()
                    && seen.since.is_none()
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn old_clients_get_raw_stream_type_but_framed_body() {
    let r = get(
        &Fake::manager(),
        "/v1.41/services/abc/logs?stdout=1&stderr=1",
    )
    .await;
    assert_eq!(
        r.header("content-type"),
        "application/vnd.docker.raw-stream"
    );
    let mut want = frame(1, "hello from web\n");
    want.extend(frame(2, "warning: disk\n"));
    assert_eq!(r.body.to_vec(), want);
}

#[tokio::test]
async fn streams_are_selected_and_one_is_required() {
    let fake = Fake::manager();
    let r = get(&fake, "/services/web/logs?stdout=1&stderr=0").await;
    assert_eq!(r.body.to_vec(), frame(1, "hello from web\n"));
    get(&fake, "/services/web/logs?stdout=0")
        .await
        .assert_error(400, "Bad parameters: you must choose at least one stream");
    get(&fake, "/services/web/logs?stdout=1&tail=-3")
        .await
        .assert_error(400, "negative tail values not supported");
    get(&fake, "/services/nope/logs?stdout=1")
        .await
        .assert_error(404, "service nope not found");
}

#[tokio::test]
async fn tty_service_logs_are_raw() {
    let r = get(
        &Fake::manager(),
        "/v1.51/services/top/logs?stdout=1&stderr=1&details=1",
    )
    .await;
    assert_eq!(
        r.header("content-type"),
        "application/vnd.docker.raw-stream"
    );
    let details = format!(
        "com.docker.swarm.node.id={NODE1},com.docker.swarm.service.id={TOP},com.docker.swarm.task.id={T_TOP1}"
    );
    assert_eq!(r.text(), format!("{details} top output\n"));
}

#[tokio::test]
async fn task_logs_with_tail_and_since() {
    let fake = Fake::manager();
    let r = get(
        &fake,
        "/v1.51/tasks/task1/logs?stdout=1&stderr=1&tail=2&since=1735787045.5",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        "application/vnd.docker.multiplexed-stream"
    );
    match fake.calls().as_slice() {
        [Call::Logs(LogTarget::Task(id), seen)] => {
            assert_eq!(id, T_WEB1);
            assert_eq!(seen.tail, Some(2));
            assert_eq!(seen.since, Some(1_735_787_045_500_000_000));
            assert!(!seen.follow);
        }
        other => panic!("{other:?}"),
    }
    get(&fake, "/tasks/nope/logs?stdout=1")
        .await
        .assert_error(404, "task nope not found");
}

#[tokio::test]
async fn follow_streams_each_frame_before_the_stream_ends() {
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    let fake = Fake::manager();
    let app = rswarm_engine_api::router(std::sync::Arc::new(fake.clone()));
    let req = Request::get("/v1.51/services/web/logs?stdout=1&stderr=1&follow=1")
        .body(Body::empty())
        .expect("req");
    let resp = app.oneshot(req).await.expect("infallible");
    assert_eq!(resp.status(), 200);
    let mut body = resp.into_body();
    let mut got = Vec::new();
    let want_len = frame(1, "hello from web\n").len() + frame(2, "warning: disk\n").len();
    while got.len() < want_len {
        let next = tokio::time::timeout(std::time::Duration::from_secs(5), body.frame()).await;
        let frame = next
            .expect("a frame arrives without waiting for the end")
            .expect("open")
            .expect("ok");
        got.extend_from_slice(&frame.into_data().expect("data"));
    }
    assert_eq!(&got[..8], &[1, 0, 0, 0, 0, 0, 0, 15]);
    let pending = tokio::time::timeout(std::time::Duration::from_millis(50), body.frame()).await;
    assert!(pending.is_err(), "a follow stream stays open");
    assert!(matches!(fake.calls().as_slice(), [Call::Logs(_, seen)] if seen.follow));
}
