//! The `LogBroker` service: nodes listen for log subscriptions and publish
//! the lines, through the manager's [`crate::LogBroker`]. The node is
//! always the caller's certificate CN; the broker checks the rest (the
//! subscription is for this node, the lines are of its tasks).

use std::pin::Pin;

use futures_util::{Stream, StreamExt, stream};
use rswarm_proto::logbroker::log_broker_server::LogBroker as LogBrokerRpc;
use rswarm_proto::logbroker::{
    ListenSubscriptionsRequest, LogMessage, LogStream, PublishLogsMessage, PublishLogsResponse,
    SubscriptionMessage,
};
use tonic::{Request, Response, Status, Streaming};

use super::Shared;
use super::auth::{Rpc, authorize};
use crate::logbroker::{
    BrokerError, ListenerMessage, OutputStream, Publisher, RemoteLogLine, SubscriptionRequest,
};

/// `LogBroker` on the swarm port.
#[derive(Debug)]
pub(super) struct LogBrokerService {
    shared: Shared,
}

impl LogBrokerService {
    pub(super) fn new(shared: Shared) -> Self {
        LogBrokerService { shared }
    }

    fn node_id<T>(&self, rpc: Rpc, request: &Request<T>) -> Result<String, Status> {
        let caller = authorize(&self.shared.manager.store, rpc, request)?;
        Ok(caller.node_id()?.to_string())
    }
}

#[tonic::async_trait]
impl LogBrokerRpc for LogBrokerService {
    type ListenSubscriptionsStream =
        Pin<Box<dyn Stream<Item = Result<SubscriptionMessage, Status>> + Send>>;

    /// The node's subscriptions, until it goes away, a newer listener of
    /// the same node replaces this one, or the server stops.
    async fn listen_subscriptions(
        &self,
        request: Request<ListenSubscriptionsRequest>,
    ) -> Result<Response<Self::ListenSubscriptionsStream>, Status> {
        let node_id = self.node_id(Rpc::ListenSubscriptions, &request)?;
        tracing::debug!("node {node_id} listens for log subscriptions");
        let listening = self.shared.manager.log_broker.listen(&node_id);
        let messages = stream::unfold(listening, |mut l| async move {
            let m = l.recv().await?;
            Some((Ok(to_wire(m)), l))
        });
        let shutdown = self.shared.shutdown.clone();
        Ok(Response::new(Box::pin(
            messages.take_until(async move { shutdown.wait().await }),
        )))
    }

    /// Takes the lines of one subscription until the node closes it; ends
    /// with `Cancelled` when the subscriber went away first.
    async fn publish_logs(
        &self,
        request: Request<Streaming<PublishLogsMessage>>,
    ) -> Result<Response<PublishLogsResponse>, Status> {
        let node_id = self.node_id(Rpc::PublishLogs, &request)?;
        let mut messages = request.into_inner();
        let Some(first) = messages.message().await? else {
            return Ok(Response::new(PublishLogsResponse {}));
        };
        let publisher = self
            .shared
            .manager
            .log_broker
            .publisher(&node_id, &first.subscription_id)
            .map_err(refused)?;
        let bound = first.subscription_id.clone();
        let mut next = Some(first);
        while let Some(message) = next.take() {
            if !message.subscription_id.is_empty() && message.subscription_id != bound {
                return Err(Status::invalid_argument(
                    "a PublishLogs call serves a single subscription",
                ));
            }
            let close = message.close;
            publish(&publisher, message.messages).await?;
            if close {
                return Ok(Response::new(PublishLogsResponse {}));
            }
            next = tokio::select! {
                m = messages.message() => m?,
                _ = publisher.closed() => {
                    return Err(Status::cancelled("the log subscription was closed"));
                }
                _ = self.shared.shutdown.wait() => {
                    return Err(Status::unavailable("the manager is shutting down"));
                }
            };
        }
        // The node ended the call without `close`: done all the same.
        Ok(Response::new(PublishLogsResponse {}))
    }
}

async fn publish(publisher: &Publisher, messages: Vec<LogMessage>) -> Result<(), Status> {
    let lines = messages
        .into_iter()
        .map(from_wire)
        .collect::<Result<Vec<_>, Status>>()?;
    publisher.publish(lines).await.map_err(refused)
}

fn refused(e: BrokerError) -> Status {
    let message = e.to_string();
    match e {
        BrokerError::WrongNode { .. } | BrokerError::ForeignTask { .. } => {
            Status::permission_denied(message)
        }
        BrokerError::UnknownSubscription(_) => Status::not_found(message),
        BrokerError::AlreadyPublishing(_) => Status::already_exists(message),
        BrokerError::Closed(_) => Status::cancelled(message),
        BrokerError::NotListening(_) => Status::unavailable(message),
    }
}

fn to_wire(m: ListenerMessage) -> SubscriptionMessage {
    match m {
        ListenerMessage::Close(id) => SubscriptionMessage {
            id,
            close: true,
            ..Default::default()
        },
        ListenerMessage::Subscribe(SubscriptionRequest {
            id,
            task_ids,
            selection,
        }) => SubscriptionMessage {
            id,
            task_ids,
            follow: selection.follow,
            tail: selection.tail.map(|n| n as u64),
            since_unix_nano: selection
                .since
                .map(|t| t.timestamp_nanos_opt().unwrap_or(0)),
            stdout: selection.stdout,
            stderr: selection.stderr,
            close: false,
        },
    }
}

fn from_wire(m: LogMessage) -> Result<RemoteLogLine, Status> {
    let stream = match m.stream() {
        LogStream::Stdout => OutputStream::Stdout,
        LogStream::Stderr => OutputStream::Stderr,
        LogStream::Unknown => {
            return Err(Status::invalid_argument(format!(
                "log line of task {} has no stream",
                m.task_id
            )));
        }
    };
    Ok(RemoteLogLine {
        task_id: m.task_id,
        stream,
        timestamp: chrono::DateTime::from_timestamp_nanos(m.timestamp_unix_nano),
        line: m.line,
    })
}
