//! The log lines of a set of tasks, for the Engine API's log endpoints:
//! tasks of this node from its own log files, tasks of other nodes through
//! the manager's log broker (their agents read their own files).
//!
//! Without follow, every source is read to its end, the lines merged and
//! sorted by time. A node that is not connected gives nothing; one that
//! stays silent for [`ANSWER_TIMEOUT`] gives what it sent so far (like
//! Docker, the answer is what could be had). With follow, the sources are
//! interleaved as lines arrive; dropping the stream (the client went away)
//! closes the remote subscriptions.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use futures_util::stream::BoxStream;
use futures_util::{StreamExt, future};
use rswarm_engine_api::{LogMessage, LogOptions};
use rswarm_exec::{LogLine, LogStore, LogStream};
use rswarm_manager::LogBroker;
use rswarm_manager::logbroker::{
    ANSWER_TIMEOUT, LogSelection, OutputStream, RemoteLogLine, Subscription,
};
use rswarm_types::{ControlError, Task};

/// Where task output comes from, seen from this node.
#[derive(Clone, Debug)]
pub struct LogSources {
    /// This node's ID: its tasks are read locally.
    pub local_node_id: String,
    /// This node's task output.
    pub logs: LogStore,
    /// The manager's broker, for tasks of other nodes.
    pub broker: LogBroker,
}

impl LogSources {
    /// The lines of `tasks` selected by `options`.
    pub async fn stream(
        &self,
        tasks: Vec<Task>,
        options: LogOptions,
    ) -> Result<BoxStream<'static, LogMessage>, ControlError> {
        let tasks: Arc<HashMap<String, Task>> =
            Arc::new(tasks.into_iter().map(|t| (t.id.clone(), t)).collect());
        let mut local: Vec<Task> = Vec::new();
        let mut remote: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for t in tasks.values() {
            if t.node_id == self.local_node_id {
                local.push(t.clone());
            } else if !t.node_id.is_empty() {
                remote
                    .entry(t.node_id.clone())
                    .or_default()
                    .push(t.id.clone());
            }
        }
        local.sort_by_key(|t| t.meta.created_at);
        let subscriptions = self.subscribe(remote, &options);
        let keep = move |stream: LogStream| match stream {
            LogStream::Stdout => options.stdout,
            LogStream::Stderr => options.stderr,
        };
        if options.follow {
            let mut streams: Vec<BoxStream<'static, LogMessage>> = local
                .into_iter()
                .map(|t| {
                    self.logs
                        .follow(&t.id, options.since, options.tail)
                        .filter(move |l| future::ready(keep(l.stream)))
                        .map(move |l| local_message(&t, l))
                        .boxed()
                })
                .collect();
            streams.extend(subscriptions.into_iter().map(|sub| {
                let tasks = tasks.clone();
                sub.into_stream()
                    .filter_map(move |l| future::ready(remote_message(&tasks, l)))
                    .boxed()
            }));
            return Ok(futures_util::stream::select_all(streams).boxed());
        }
        let remote = future::join_all(
            subscriptions
                .into_iter()
                .map(|sub| sub.collect(ANSWER_TIMEOUT)),
        );
        let (remote, local) = tokio::join!(remote, self.read_local(&local, &options));
        let mut all = local?;
        all.extend(
            remote
                .into_iter()
                .flatten()
                .filter_map(|l| remote_message(&tasks, l)),
        );
        all.retain(|m| {
            keep(if m.stream == 1 {
                LogStream::Stdout
            } else {
                LogStream::Stderr
            })
        });
        all.sort_by_key(|m| m.timestamp);
        Ok(futures_util::stream::iter(all).boxed())
    }

    /// One subscription per other node that is connected.
    fn subscribe(
        &self,
        remote: BTreeMap<String, Vec<String>>,
        options: &LogOptions,
    ) -> Vec<Subscription> {
        let selection = LogSelection {
            follow: options.follow,
            tail: options.tail,
            since: options.since,
            stdout: options.stdout,
            stderr: options.stderr,
        };
        remote
            .into_iter()
            .filter_map(|(node_id, task_ids)| {
                self.broker
                    .subscribe(&node_id, task_ids, selection.clone())
                    .inspect_err(|e| tracing::debug!("no logs from node {node_id}: {e}"))
                    .ok()
            })
            .collect()
    }

    async fn read_local(
        &self,
        tasks: &[Task],
        options: &LogOptions,
    ) -> Result<Vec<LogMessage>, ControlError> {
        let mut all = Vec::new();
        for t in tasks {
            let lines = self
                .logs
                .read(&t.id, options.since, options.tail)
                .await
                .map_err(|e| {
                    ControlError::Internal(format!("reading logs of task {}: {e}", t.id))
                })?;
            all.extend(lines.into_iter().map(|l| local_message(t, l)));
        }
        Ok(all)
    }
}

fn local_message(t: &Task, l: LogLine) -> LogMessage {
    LogMessage {
        stream: if l.stream == LogStream::Stdout { 1 } else { 2 },
        timestamp: l.timestamp,
        line: l.line,
        node_id: t.node_id.clone(),
        service_id: t.service_id.clone(),
        task_id: t.id.clone(),
    }
}

/// The message of a remote line; `None` for a task not asked about.
fn remote_message(tasks: &HashMap<String, Task>, l: RemoteLogLine) -> Option<LogMessage> {
    let t = tasks.get(&l.task_id)?;
    Some(LogMessage {
        stream: match l.stream {
            OutputStream::Stdout => 1,
            OutputStream::Stderr => 2,
        },
        timestamp: l.timestamp,
        line: l.line,
        node_id: t.node_id.clone(),
        service_id: t.service_id.clone(),
        task_id: t.id.clone(),
    })
}
