//! The three handles of the log broker: a node's [`Listening`], a
//! reader's [`Subscription`] and a node's [`Publisher`]. Each tells the
//! broker when it is dropped.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;
use tokio::sync::mpsc;

use super::{BrokerError, ListenerMessage, LogBroker, RemoteLogLine};

/// A node's open listener: the subscriptions meant for it.
#[derive(Debug)]
pub struct Listening {
    rx: mpsc::UnboundedReceiver<ListenerMessage>,
    node_id: String,
    id: u64,
    broker: LogBroker,
}

impl Listening {
    pub(super) fn new(
        rx: mpsc::UnboundedReceiver<ListenerMessage>,
        node_id: String,
        id: u64,
        broker: LogBroker,
    ) -> Listening {
        Listening {
            rx,
            node_id,
            id,
            broker,
        }
    }

    /// The next message; `None` once a newer listener replaced this one.
    pub async fn recv(&mut self) -> Option<ListenerMessage> {
        self.rx.recv().await
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.broker.unlisten(&self.node_id, self.id);
    }
}

/// A reader's side of a subscription: batches of lines as the node
/// publishes them, until it is done.
#[derive(Debug)]
pub struct Subscription {
    id: String,
    rx: mpsc::Receiver<Vec<RemoteLogLine>>,
    broker: LogBroker,
}

impl Subscription {
    pub(super) fn new(
        id: String,
        rx: mpsc::Receiver<Vec<RemoteLogLine>>,
        broker: LogBroker,
    ) -> Subscription {
        Subscription { id, rx, broker }
    }

    /// The subscription's ID.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The next batch; `None` when the publisher is done or gone.
    pub async fn recv(&mut self) -> Option<Vec<RemoteLogLine>> {
        self.rx.recv().await
    }

    /// Every line until the publisher is done, or until `idle` passes
    /// without news (then what arrived so far).
    pub async fn collect(mut self, idle: Duration) -> Vec<RemoteLogLine> {
        let mut lines = Vec::new();
        loop {
            match tokio::time::timeout(idle, self.recv()).await {
                Ok(Some(batch)) => lines.extend(batch),
                Ok(None) => return lines,
                Err(_) => {
                    tracing::debug!(
                        "log subscription {}: no answer within {idle:?}, returning {} line(s)",
                        self.id,
                        lines.len()
                    );
                    return lines;
                }
            }
        }
    }

    /// The lines one by one; dropping the stream ends the subscription.
    pub fn into_stream(self) -> impl Stream<Item = RemoteLogLine> + Send + 'static {
        futures_util::stream::unfold(
            (self, std::collections::VecDeque::new()),
            |(mut sub, mut pending)| async move {
                loop {
                    if let Some(line) = pending.pop_front() {
                        return Some((line, (sub, pending)));
                    }
                    pending.extend(sub.recv().await?);
                }
            },
        )
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.broker.unsubscribe(&self.id);
    }
}

/// A node's side of a subscription.
#[derive(Debug)]
pub struct Publisher {
    subscription_id: String,
    task_ids: Arc<HashSet<String>>,
    tx: mpsc::Sender<Vec<RemoteLogLine>>,
    broker: LogBroker,
}

impl Publisher {
    pub(super) fn new(
        subscription_id: String,
        task_ids: Arc<HashSet<String>>,
        tx: mpsc::Sender<Vec<RemoteLogLine>>,
        broker: LogBroker,
    ) -> Publisher {
        Publisher {
            subscription_id,
            task_ids,
            tx,
            broker,
        }
    }

    /// Hands `lines` to the subscriber (waiting while it is behind). A
    /// line of a task outside the subscription refuses the whole batch.
    pub async fn publish(&self, lines: Vec<RemoteLogLine>) -> Result<(), BrokerError> {
        if let Some(foreign) = lines.iter().find(|l| !self.task_ids.contains(&l.task_id)) {
            return Err(BrokerError::ForeignTask {
                subscription: self.subscription_id.clone(),
                task_id: foreign.task_id.clone(),
            });
        }
        if lines.is_empty() {
            return Ok(());
        }
        self.tx
            .send(lines)
            .await
            .map_err(|_| BrokerError::Closed(self.subscription_id.clone()))
    }

    /// Resolves when the subscriber is gone.
    pub async fn closed(&self) {
        self.tx.closed().await;
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.broker.unpublish(&self.subscription_id);
    }
}

#[cfg(test)]
mod tests {
    use rswarm_rt::SystemClock;
    use rswarm_store::{MemoryProposer, Object, Store};
    use rswarm_types::Task;

    use super::super::{LogSelection, OutputStream};
    use super::*;

    async fn broker_with(tasks: &[(&str, &str)]) -> LogBroker {
        let store = Store::open(Arc::new(MemoryProposer), Arc::new(SystemClock)).expect("store");
        for (id, node) in tasks {
            let task = Task {
                id: (*id).into(),
                node_id: (*node).into(),
                ..Default::default()
            };
            store
                .update(|tx| tx.create(Object::Task(task)))
                .await
                .expect("task");
        }
        LogBroker::new(store)
    }

    fn line(task: &str, text: &str) -> RemoteLogLine {
        RemoteLogLine {
            task_id: task.into(),
            stream: OutputStream::Stdout,
            timestamp: chrono::Utc::now(),
            line: text.into(),
        }
    }

    fn subscribed(m: Option<ListenerMessage>) -> super::super::SubscriptionRequest {
        match m {
            Some(ListenerMessage::Subscribe(r)) => r,
            other => panic!("expected a subscription, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn lines_flow_from_the_right_node_only() {
        let broker = broker_with(&[("t1", "n1"), ("t2", "n1"), ("t3", "n2")]).await;
        assert_eq!(
            broker
                .subscribe("n1", vec!["t1".into()], LogSelection::default())
                .expect_err("no listener"),
            BrokerError::NotListening("n1".into())
        );
        let mut listening = broker.listen("n1");
        let _n2 = broker.listen("n2");
        let selection = LogSelection {
            tail: Some(1),
            stdout: true,
            ..Default::default()
        };
        let sub = broker
            .subscribe(
                "n1",
                vec!["t1".into(), "t3".into(), "t2".into()],
                selection.clone(),
            )
            .expect("subscribe");
        let request = subscribed(listening.recv().await);
        assert_eq!(request.id, sub.id());
        assert_eq!(request.task_ids, ["t1", "t2"], "t3 is on another node");
        assert_eq!(request.selection, selection);

        assert!(matches!(
            broker.publisher("n2", sub.id()),
            Err(BrokerError::WrongNode { .. })
        ));
        assert!(matches!(
            broker.publisher("n1", "nope"),
            Err(BrokerError::UnknownSubscription(_))
        ));
        let publisher = broker.publisher("n1", sub.id()).expect("publisher");
        assert_eq!(
            broker.publisher("n1", sub.id()).expect_err("second"),
            BrokerError::AlreadyPublishing(sub.id().into())
        );
        assert!(matches!(
            publisher.publish(vec![line("t1", "ok"), line("t3", "no")]).await,
            Err(BrokerError::ForeignTask { task_id, .. }) if task_id == "t3"
        ));
        publisher
            .publish(vec![line("t1", "a"), line("t2", "b")])
            .await
            .expect("publish");
        drop(publisher);
        let lines = sub.collect(Duration::from_secs(5)).await;
        let texts: Vec<&str> = lines.iter().map(|l| l.line.as_str()).collect();
        assert_eq!(texts, ["a", "b"]);
    }

    #[tokio::test]
    async fn a_dropped_subscription_closes_on_the_node_and_fails_the_publisher() {
        let broker = broker_with(&[("t1", "n1")]).await;
        let mut listening = broker.listen("n1");
        let sub = broker
            .subscribe("n1", vec!["t1".into()], LogSelection::default())
            .expect("subscribe");
        let id = subscribed(listening.recv().await).id;
        let publisher = broker.publisher("n1", &id).expect("publisher");
        drop(sub);
        assert_eq!(
            listening.recv().await,
            Some(ListenerMessage::Close(id.clone()))
        );
        tokio::time::timeout(Duration::from_secs(5), publisher.closed())
            .await
            .expect("publisher sees the close");
        assert_eq!(
            publisher.publish(vec![line("t1", "late")]).await,
            Err(BrokerError::Closed(id))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn silent_nodes_and_lost_listeners_do_not_hold_readers() {
        let broker = broker_with(&[("t1", "n1")]).await;
        let mut listening = broker.listen("n1");
        // A node that never answers: the reader gets nothing after the timeout.
        let sub = broker
            .subscribe("n1", vec!["t1".into()], LogSelection::default())
            .expect("subscribe");
        let id = subscribed(listening.recv().await).id;
        let started = tokio::time::Instant::now();
        assert!(sub.collect(Duration::from_secs(3)).await.is_empty());
        assert!(started.elapsed() >= Duration::from_secs(3));
        // Giving up tells the node to stop.
        assert_eq!(listening.recv().await, Some(ListenerMessage::Close(id)));

        // A node whose listener goes away before publishing: the follow
        // reader's stream ends.
        let sub = broker
            .subscribe(
                "n1",
                vec!["t1".into()],
                LogSelection {
                    follow: true,
                    ..Default::default()
                },
            )
            .expect("subscribe");
        subscribed(listening.recv().await);
        drop(listening);
        assert!(!broker.is_listening("n1"));
        let mut lines = Box::pin(sub.into_stream());
        assert!(futures_util::StreamExt::next(&mut lines).await.is_none());

        // A replaced listener ends; the new one gets the requests.
        let mut old = broker.listen("n1");
        let mut new = broker.listen("n1");
        assert_eq!(old.recv().await, None);
        drop(old);
        assert!(
            broker.is_listening("n1"),
            "the old one does not unregister the new"
        );
        let _sub = broker
            .subscribe("n1", vec!["t1".into()], LogSelection::default())
            .expect("subscribe");
        subscribed(new.recv().await);
    }

    #[tokio::test]
    async fn tasks_not_on_the_node_give_an_empty_subscription() {
        let broker = broker_with(&[("t1", "n1")]).await;
        let _listening = broker.listen("n2");
        let sub = broker
            .subscribe(
                "n2",
                vec!["t1".into(), "ghost".into()],
                LogSelection::default(),
            )
            .expect("subscribe");
        assert!(sub.collect(Duration::from_secs(5)).await.is_empty());
    }
}
