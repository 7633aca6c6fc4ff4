//! The log broker over the swarm port: a worker's agent serves the
//! manager's log subscriptions from its own log files; nodes may only
//! publish for their own subscriptions and tasks; silent or absent nodes
//! do not hold readers.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use rswarm_agent::DispatcherClient;
use rswarm_exec::{LogLine, LogStore, LogStream};
use rswarm_manager::logbroker::{
    ANSWER_TIMEOUT, BrokerError, LogSelection, OutputStream, RemoteLogLine,
};
use rswarm_pki::NodeIdentity;
use rswarm_proto::logbroker::log_broker_client::LogBrokerClient;
use rswarm_proto::logbroker::{
    ListenSubscriptionsRequest, LogMessage, LogStream as WireStream, PublishLogsMessage,
    SubscriptionMessage,
};
use rswarm_store::Object;
use rswarm_types::NodeDescription;
use tonic::Code;
use tonic::transport::Channel;

use crate::harness::{Swarm, task_on, wait_for};

const T: Duration = Duration::from_secs(10);

async fn channel(swarm: &Swarm, identity: &NodeIdentity) -> Channel {
    let config = rswarm_tls::client_config(identity).expect("config");
    rswarm_tls::connect(&swarm.addr.to_string(), config)
        .await
        .expect("connect")
}

async fn create_task_on(swarm: &Swarm, node_id: &str) -> String {
    let task = task_on(node_id);
    let id = task.id.clone();
    swarm
        .manager
        .store
        .update(|tx| tx.create(Object::Task(task)))
        .await
        .expect("create task");
    id
}

fn write(logs: &LogStore, task_id: &str, stream: LogStream, line: &str) {
    logs.append(
        task_id,
        LogLine {
            timestamp: chrono::Utc::now(),
            stream,
            line: line.into(),
        },
    )
    .expect("append");
}

fn texts(lines: &[RemoteLogLine]) -> Vec<(String, OutputStream)> {
    lines.iter().map(|l| (l.line.clone(), l.stream)).collect()
}

fn all_streams() -> LogSelection {
    LogSelection {
        stdout: true,
        stderr: true,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workers_agent_serves_log_subscriptions_from_its_files() {
    let swarm = Swarm::start().await;
    let identity = swarm.join_worker().await;
    let worker = identity.node_id.clone();
    let dir = tempfile::tempdir().expect("tempdir");
    let logs = LogStore::new(dir.path());
    let task = create_task_on(&swarm, &worker).await;
    let other = create_task_on(&swarm, &worker).await;
    write(&logs, &task, LogStream::Stdout, "one");
    write(&logs, &task, LogStream::Stderr, "two");
    write(&logs, &task, LogStream::Stdout, "three");
    write(&logs, &other, LogStream::Stdout, "other");

    let client = swarm.client(identity).with_logs(logs.clone());
    client
        .register(NodeDescription::default())
        .await
        .expect("register");
    let broker = swarm.manager.log_broker.clone();
    wait_for("the worker listens", || broker.is_listening(&worker)).await;

    // Everything of one task, both streams, in order.
    let sub = broker
        .subscribe(&worker, vec![task.clone()], all_streams())
        .expect("subscribe");
    let lines = sub.collect(ANSWER_TIMEOUT).await;
    assert_eq!(
        texts(&lines),
        [
            ("one".into(), OutputStream::Stdout),
            ("two".into(), OutputStream::Stderr),
            ("three".into(), OutputStream::Stdout)
        ]
    );
    assert!(lines.iter().all(|l| l.task_id == task));

    // tail applies per task, before the stream selection (like local logs).
    let started = Instant::now();
    let sub = broker
        .subscribe(
            &worker,
            vec![task.clone(), other.clone()],
            LogSelection {
                tail: Some(2),
                stdout: false,
                stderr: true,
                ..Default::default()
            },
        )
        .expect("subscribe");
    let lines = sub.collect(ANSWER_TIMEOUT).await;
    assert_eq!(texts(&lines), [("two".into(), OutputStream::Stderr)]);
    assert!(
        started.elapsed() < ANSWER_TIMEOUT,
        "a non-follow answer ends with the publisher's close, not the timeout"
    );

    // Follow: the tail, then new lines as they are written, then the end
    // when the task's log is closed.
    let sub = broker
        .subscribe(
            &worker,
            vec![task.clone()],
            LogSelection {
                follow: true,
                tail: Some(1),
                ..all_streams()
            },
        )
        .expect("subscribe");
    let mut stream = Box::pin(sub.into_stream());
    let mut next = async || {
        tokio::time::timeout(T, stream.next())
            .await
            .expect("in time")
            .map(|l| l.line)
    };
    assert_eq!(next().await.as_deref(), Some("three"));
    write(&logs, &task, LogStream::Stdout, "four");
    assert_eq!(next().await.as_deref(), Some("four"));
    logs.close(&task).expect("close log");
    assert_eq!(next().await, None, "the followed log ended");

    // A follow reader that goes away: the worker can take new ones.
    let sub = broker
        .subscribe(
            &worker,
            vec![other.clone()],
            LogSelection {
                follow: true,
                ..all_streams()
            },
        )
        .expect("subscribe");
    let mut stream = Box::pin(sub.into_stream());
    let first = tokio::time::timeout(T, stream.next())
        .await
        .expect("in time");
    assert_eq!(first.map(|l| l.line).as_deref(), Some("other"));
    drop(stream);
    let sub = broker
        .subscribe(&worker, vec![other], all_streams())
        .expect("subscribe");
    assert_eq!(sub.collect(ANSWER_TIMEOUT).await.len(), 1);

    drop(client);
    wait_for("the listener is gone", || !broker.is_listening(&worker)).await;
    assert_eq!(
        broker
            .subscribe(&worker, vec![task], all_streams())
            .expect_err("not listening"),
        BrokerError::NotListening(worker)
    );
    swarm.stop().await;
}

/// A raw listener for `identity`: the subscriptions it receives.
async fn listen(swarm: &Swarm, identity: &NodeIdentity) -> tonic::Streaming<SubscriptionMessage> {
    let broker = swarm.manager.log_broker.clone();
    let stream = LogBrokerClient::new(channel(swarm, identity).await)
        .listen_subscriptions(ListenSubscriptionsRequest {})
        .await
        .expect("listen")
        .into_inner();
    let node = identity.node_id.clone();
    wait_for("the listener registers", || broker.is_listening(&node)).await;
    stream
}

async fn raw_publish(
    swarm: &Swarm,
    identity: &NodeIdentity,
    subscription_id: &str,
    task_id: &str,
) -> Result<(), tonic::Status> {
    let message = PublishLogsMessage {
        subscription_id: subscription_id.into(),
        messages: vec![LogMessage {
            task_id: task_id.into(),
            stream: WireStream::Stdout.into(),
            timestamp_unix_nano: 1,
            line: "forged".into(),
        }],
        close: true,
    };
    LogBrokerClient::new(channel(swarm, identity).await)
        .publish_logs(futures_util::stream::iter(vec![message]))
        .await
        .map(|_| ())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_publish_only_for_their_own_subscriptions_and_tasks() {
    let swarm = Swarm::start().await;
    let a = swarm.join_worker().await;
    let b = swarm.join_worker().await;
    let a_task = create_task_on(&swarm, &a.node_id).await;
    let b_task = create_task_on(&swarm, &b.node_id).await;
    let mut a_listen = listen(&swarm, &a).await;
    let broker = swarm.manager.log_broker.clone();

    // The broker only asks A about A's tasks.
    let sub = broker
        .subscribe(
            &a.node_id,
            vec![a_task.clone(), b_task.clone()],
            all_streams(),
        )
        .expect("subscribe");
    let request = tokio::time::timeout(T, a_listen.message())
        .await
        .expect("in time")
        .expect("stream")
        .expect("subscription");
    assert_eq!(request.id, sub.id());
    assert_eq!(request.task_ids, std::slice::from_ref(&a_task));
    assert!(request.stdout && request.stderr && !request.follow && !request.close);

    let status = raw_publish(&swarm, &a, "no-such-subscription", &a_task)
        .await
        .expect_err("unknown");
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    let status = raw_publish(&swarm, &b, sub.id(), &b_task)
        .await
        .expect_err("B publishing for A");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(status.message().contains("is not for node"), "{status:?}");
    let status = raw_publish(&swarm, &a, sub.id(), &b_task)
        .await
        .expect_err("A publishing B's task");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(status.message().contains("is not part of"), "{status:?}");
    assert!(
        sub.collect(ANSWER_TIMEOUT).await.is_empty(),
        "nothing forged reached the reader"
    );
    swarm.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_absent_nodes_do_not_hold_readers() {
    let swarm = Swarm::start().await;
    let silent = swarm.join_worker().await;
    let absent = swarm.join_worker().await;
    let silent_task = create_task_on(&swarm, &silent.node_id).await;
    let absent_task = create_task_on(&swarm, &absent.node_id).await;
    let broker = swarm.manager.log_broker.clone();

    // Never connected: refused at once.
    assert_eq!(
        broker
            .subscribe(&absent.node_id, vec![absent_task], all_streams())
            .expect_err("absent"),
        BrokerError::NotListening(absent.node_id.clone())
    );

    // Connected but never answering: the reader gets what arrived (nothing)
    // after the answer timeout, and the node is told to stop.
    let mut listening = listen(&swarm, &silent).await;
    let started = Instant::now();
    let sub = broker
        .subscribe(&silent.node_id, vec![silent_task], all_streams())
        .expect("subscribe");
    let id = sub.id().to_string();
    assert!(sub.collect(ANSWER_TIMEOUT).await.is_empty());
    let waited = started.elapsed();
    assert!(
        waited >= ANSWER_TIMEOUT && waited < ANSWER_TIMEOUT + T,
        "{waited:?}"
    );
    let mut messages = Vec::new();
    while messages.len() < 2 {
        let m = tokio::time::timeout(T, listening.message())
            .await
            .expect("in time")
            .expect("stream")
            .expect("message");
        messages.push((m.id, m.close));
    }
    assert_eq!(messages, [(id.clone(), false), (id, true)]);
    swarm.stop().await;
}
