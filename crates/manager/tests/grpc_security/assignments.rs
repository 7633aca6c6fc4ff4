//! Assignments on the wire: a COMPLETE set, then INCREMENTAL changes
//! chained by `applies_to` / `results_in`, with close changes coalesced.

use std::time::Duration;

use rswarm_proto::dispatcher::assignment_change::Action;
use rswarm_proto::dispatcher::assignments_message::Type;
use rswarm_proto::dispatcher::dispatcher_client::DispatcherClient as GrpcDispatcher;
use rswarm_proto::dispatcher::{AssignmentsMessage, AssignmentsRequest};
use rswarm_store::{Kind, Object};
use rswarm_types::Task;

use crate::harness::{Swarm, open_session, task_on};

async fn next(stream: &mut tonic::Streaming<AssignmentsMessage>) -> AssignmentsMessage {
    tokio::time::timeout(Duration::from_secs(10), stream.message())
        .await
        .expect("in time")
        .expect("stream")
        .expect("message")
}

fn changes(m: &AssignmentsMessage) -> Vec<(Action, String)> {
    let mut v: Vec<(Action, String)> = m
        .changes
        .iter()
        .map(|c| {
            if c.action() == Action::Update {
                let t: Task = serde_json::from_slice(&c.task).expect("task json");
                assert_eq!(t.id, c.task_id);
            }
            (c.action(), c.task_id.clone())
        })
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_complete_set_then_chained_increments() {
    let swarm = Swarm::start().await;
    let identity = swarm.join_worker().await;
    let node = identity.node_id.clone();
    let store = swarm.manager.store.clone();
    let before = task_on(&node);
    let before_id = before.id.clone();
    store
        .update(|tx| tx.create(Object::Task(before)))
        .await
        .expect("task");

    let config = rswarm_tls::client_config(&identity).expect("config");
    let channel = rswarm_tls::connect(&swarm.addr.to_string(), config)
        .await
        .expect("connect");
    let session_id = open_session(channel.clone()).await.expect("session");
    let mut stream = GrpcDispatcher::new(channel)
        .assignments(AssignmentsRequest { session_id })
        .await
        .expect("assignments")
        .into_inner();
    let first = next(&mut stream).await;
    assert_eq!(first.r#type(), Type::Complete);
    assert_eq!(
        (first.applies_to.as_str(), first.results_in.as_str()),
        ("", "1")
    );
    assert_eq!(changes(&first), [(Action::Update, before_id.clone())]);

    // Two tasks in one go and one for another node: one increment.
    let (a, b) = (task_on(&node), task_on(&node));
    let mut expected = vec![
        (Action::Update, a.id.clone()),
        (Action::Update, b.id.clone()),
    ];
    expected.sort();
    store
        .update(|tx| {
            tx.create(Object::Task(a))?;
            tx.create(Object::Task(task_on("elsewhere")))?;
            tx.create(Object::Task(b))
        })
        .await
        .expect("tasks");
    let second = next(&mut stream).await;
    assert_eq!(second.r#type(), Type::Incremental);
    assert_eq!(
        (second.applies_to.as_str(), second.results_in.as_str()),
        ("1", "2")
    );
    assert_eq!(changes(&second), expected);

    store
        .update(|tx| tx.delete(Kind::Task, &before_id))
        .await
        .expect("delete");
    let third = next(&mut stream).await;
    assert_eq!(
        (third.applies_to.as_str(), third.results_in.as_str()),
        ("2", "3")
    );
    assert_eq!(changes(&third), [(Action::Remove, before_id)]);
    swarm.stop().await;
}
