//! Serving the managers' log subscriptions from this node's [`LogStore`]:
//! listen on `LogBroker.ListenSubscriptions`, and answer each subscription
//! with one `PublishLogs` call.
//!
//! A publisher first sends an empty message (it binds the call to the
//! subscription, even when there is nothing to say yet), then the lines in
//! batches. Without follow it reads each task's file (since, then tail,
//! then the stream selection) and ends with `close`. With follow it keeps
//! sending new lines until the manager closes the subscription (a `close`
//! message on the listen stream, or the call ending), or every followed
//! log has ended.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::StreamExt;
use rswarm_exec::{LogLine, LogStore};
use rswarm_proto::logbroker::log_broker_client::LogBrokerClient;
use rswarm_proto::logbroker::{
    ListenSubscriptionsRequest, LogMessage, LogStream as WireStream, PublishLogsMessage,
    SubscriptionMessage,
};
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinSet};
use tonic::transport::Channel;

use super::describe;

/// Pause before listening again after the listen stream ended.
const RELISTEN_DELAY: Duration = Duration::from_secs(1);
/// Lines per PublishLogs message (lines are at most 16 KiB, so a
/// message stays well under gRPC's 4 MiB limit).
const BATCH_LINES: usize = 128;

/// Listens for subscriptions on `channel` and serves them from `logs`;
/// runs until aborted (the session that started it ends).
pub(super) async fn listen(channel: Channel, logs: LogStore) {
    loop {
        let mut client = LogBrokerClient::new(channel.clone());
        match client
            .listen_subscriptions(ListenSubscriptionsRequest {})
            .await
        {
            Ok(stream) => serve(stream.into_inner(), &channel, &logs).await,
            Err(s) => tracing::debug!("agent: listening for log subscriptions: {}", describe(&s)),
        }
        tokio::time::sleep(RELISTEN_DELAY).await;
    }
}

/// Serves the subscriptions of one listen stream; its publishers stop
/// when it ends.
async fn serve(
    mut subscriptions: tonic::Streaming<SubscriptionMessage>,
    channel: &Channel,
    logs: &LogStore,
) {
    let mut publishers = JoinSet::new();
    let mut running: HashMap<String, AbortHandle> = HashMap::new();
    loop {
        let message = tokio::select! {
            m = subscriptions.message() => m,
            Some(_) = publishers.join_next() => {
                running.retain(|_, h| !h.is_finished());
                continue;
            }
        };
        let sub = match message {
            Ok(Some(sub)) => sub,
            Ok(None) => return tracing::debug!("agent: log subscription stream ended"),
            Err(s) => return tracing::debug!("agent: log subscription stream: {}", describe(&s)),
        };
        if sub.close {
            if let Some(h) = running.remove(&sub.id) {
                h.abort();
            }
            continue;
        }
        let id = sub.id.clone();
        let handle = publishers.spawn(publish(sub, channel.clone(), logs.clone()));
        running.insert(id, handle);
    }
}

/// Answers one subscription.
async fn publish(sub: SubscriptionMessage, channel: Channel, logs: LogStore) {
    let (tx, rx) = mpsc::channel::<PublishLogsMessage>(4);
    let outbound =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|m| (m, rx)) });
    let mut call = Box::pin(async move {
        LogBrokerClient::new(channel)
            .publish_logs(outbound)
            .await
            .map(|_| ())
    });
    let id = sub.id.clone();
    let produce = produce(sub, logs, tx);
    tokio::pin!(produce);
    let mut produced = false;
    let result = loop {
        tokio::select! {
            r = &mut call => break r,
            () = &mut produce, if !produced => produced = true,
        }
    };
    if let Err(s) = result {
        tracing::debug!(
            "agent: publishing logs for subscription {id}: {}",
            describe(&s)
        );
    }
}

/// Sends the subscription's lines into `tx`, then `close`; stops early
/// when the call ends (`tx` closed).
async fn produce(sub: SubscriptionMessage, logs: LogStore, tx: mpsc::Sender<PublishLogsMessage>) {
    let batch = |messages: Vec<LogMessage>, close: bool| PublishLogsMessage {
        subscription_id: sub.id.clone(),
        messages,
        close,
    };
    if tx.send(batch(Vec::new(), false)).await.is_err() {
        return;
    }
    let since = sub
        .since_unix_nano
        .map(chrono::DateTime::from_timestamp_nanos);
    let tail = sub.tail.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    let keep = |l: &LogLine| match l.stream {
        rswarm_exec::LogStream::Stdout => sub.stdout,
        rswarm_exec::LogStream::Stderr => sub.stderr,
    };
    if sub.follow {
        let followed = sub.task_ids.iter().map(|task_id| {
            let task_id = task_id.clone();
            logs.follow(&task_id, since, tail)
                .map(move |l| (task_id.clone(), l))
                .boxed()
        });
        let mut lines = futures_util::stream::select_all(followed)
            .filter(|(_, l)| std::future::ready(keep(l)))
            .map(|(task_id, l)| to_wire(task_id, l))
            .ready_chunks(BATCH_LINES);
        while let Some(chunk) = lines.next().await {
            if tx.send(batch(chunk, false)).await.is_err() {
                return;
            }
        }
    } else {
        for task_id in &sub.task_ids {
            let lines = match logs.read(task_id, since, tail).await {
                Ok(lines) => lines,
                Err(e) => {
                    tracing::warn!("agent: reading logs of task {task_id}: {e}");
                    continue;
                }
            };
            let mut messages = lines
                .into_iter()
                .filter(keep)
                .map(|l| to_wire(task_id.clone(), l));
            loop {
                let chunk: Vec<LogMessage> = messages.by_ref().take(BATCH_LINES).collect();
                if chunk.is_empty() {
                    break;
                }
                if tx.send(batch(chunk, false)).await.is_err() {
                    return;
                }
            }
        }
    }
    let _ = tx.send(batch(Vec::new(), true)).await;
}

fn to_wire(task_id: String, l: LogLine) -> LogMessage {
    LogMessage {
        task_id,
        stream: match l.stream {
            rswarm_exec::LogStream::Stdout => WireStream::Stdout,
            rswarm_exec::LogStream::Stderr => WireStream::Stderr,
        }
        .into(),
        timestamp_unix_nano: l.timestamp.timestamp_nanos_opt().unwrap_or(0),
        line: l.line,
    }
}
