//! Batches task status reports: task managers send every change; the
//! reporter keeps the latest per task and sends them together, retrying
//! until the dispatcher takes them.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rswarm_rt::Shutdown;
use rswarm_types::TaskStatus;
use tokio::sync::mpsc;

use crate::DispatcherClient;

/// How long changes are gathered before a send.
const BATCH: Duration = Duration::from_millis(20);

/// Runs until the sender side closes or shutdown; sends what is pending
/// before returning.
pub async fn run(
    client: Arc<dyn DispatcherClient>,
    mut rx: mpsc::UnboundedReceiver<(String, TaskStatus)>,
    shutdown: Shutdown,
) {
    let mut pending: BTreeMap<String, TaskStatus> = BTreeMap::new();
    loop {
        let open = tokio::select! {
            _ = shutdown.wait() => false,
            m = rx.recv() => match m {
                Some((id, st)) => { pending.insert(id, st); true }
                None => false,
            },
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
                Ok(()) => pending.clear(),
                Err(e) => {
                    tracing::warn!("agent: status report failed, will retry: {e}");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
        if !open && pending.is_empty() {
            return;
        }
        if !open {
            // Shutting down: one more try was made above; give up on the rest.
            return;
        }
    }
}
