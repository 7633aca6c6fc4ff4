//! Batches task status reports: task managers send every change; the
//! reporter keeps the latest status per task and sends them together.
//!
//! A report the dispatcher did not take (the manager is restarting, the
//! session moves to a new leader) stays pending and is sent again on a
//! timer with backoff, not only when a newer status arrives: a task that
//! exits while no manager answers is still reported once one does.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rswarm_rt::{Backoff, Shutdown};
use rswarm_types::TaskStatus;
use tokio::sync::mpsc;

use crate::DispatcherClient;

/// How long changes are gathered before a send.
const BATCH: Duration = Duration::from_millis(20);
/// First and longest wait before resending reports that failed.
const RETRY_MIN: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(2);

/// Runs until the sender side closes or shutdown; sends what is pending
/// before returning (one last try).
pub async fn run(
    client: Arc<dyn DispatcherClient>,
    mut rx: mpsc::UnboundedReceiver<(String, TaskStatus)>,
    shutdown: Shutdown,
) {
    let mut pending: BTreeMap<String, TaskStatus> = BTreeMap::new();
    let mut backoff = Backoff::new(RETRY_MIN, RETRY_MAX);
    let mut retry_in: Option<Duration> = None;
    loop {
        let open = tokio::select! {
            _ = shutdown.wait() => false,
            m = rx.recv() => match m {
                Some((id, st)) => { pending.insert(id, st); true }
                None => false,
            },
            _ = tokio::time::sleep(retry_in.unwrap_or_default()), if retry_in.is_some() => true,
        };
        tokio::time::sleep(BATCH).await;
        while let Ok((id, st)) = rx.try_recv() {
            pending.insert(id, st);
        }
        if !pending.is_empty() {
            let batch: Vec<_> = pending
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            match client.update_task_status(batch).await {
                Ok(()) => {
                    pending.clear();
                    backoff.reset();
                    retry_in = None;
                }
                Err(e) => {
                    tracing::warn!("agent: status report failed, will retry: {e}");
                    retry_in = Some(backoff.next_delay());
                }
            }
        }
        if !open {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    use async_trait::async_trait;
    use rswarm_types::{NodeDescription, Task, TaskState};

    use crate::AgentError;

    /// Refuses the first `failures` reports, then records what it takes.
    #[derive(Default)]
    struct Flaky {
        failures: Mutex<u32>,
        taken: Mutex<Vec<(String, TaskStatus)>>,
    }

    #[async_trait]
    impl DispatcherClient for Flaky {
        async fn register(&self, _: NodeDescription) -> Result<Duration, AgentError> {
            Ok(Duration::from_secs(5))
        }
        async fn assignments(&self) -> Result<mpsc::Receiver<Vec<Task>>, AgentError> {
            Ok(mpsc::channel(1).1)
        }
        async fn update_task_status(
            &self,
            updates: Vec<(String, TaskStatus)>,
        ) -> Result<(), AgentError> {
            let mut left = self.failures.lock().expect("lock");
            if *left > 0 {
                *left -= 1;
                return Err(AgentError::Unavailable("manager away".into()));
            }
            self.taken.lock().expect("lock").extend(updates);
            Ok(())
        }
        async fn heartbeat(&self) -> Result<Duration, AgentError> {
            Ok(Duration::from_secs(5))
        }
    }

    #[tokio::test]
    async fn a_failed_report_is_resent_without_a_newer_status() {
        let client = Arc::new(Flaky {
            failures: Mutex::new(3),
            ..Default::default()
        });
        let (tx, rx) = mpsc::unbounded_channel();
        let shutdown = Shutdown::new();
        let task = tokio::spawn(run(client.clone(), rx, shutdown.clone()));
        let status = TaskStatus {
            state: TaskState::Failed,
            ..Default::default()
        };
        tx.send(("t1".into(), status.clone())).expect("send");
        for _ in 0..100 {
            if !client.taken.lock().expect("lock").is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            *client.taken.lock().expect("lock"),
            vec![("t1".to_string(), status)]
        );
        assert_eq!(
            *client.failures.lock().expect("lock"),
            0,
            "three refusals, then taken"
        );
        shutdown.trigger();
        task.await.expect("reporter ends");
    }
}
