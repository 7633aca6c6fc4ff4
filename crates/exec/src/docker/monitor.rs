//! Watching a started container to its end: its exit code from the
//! engine's wait API, then its output drained and its log closed, then the
//! outcome published to the controller.

use std::sync::Arc;
use std::time::Duration;

use bollard::Docker;
use bollard::errors::Error;
use bollard::query_parameters::WaitContainerOptions;
use futures_util::StreamExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::error;
use super::logs::Copier;
use crate::{ExitStatus, LogStore};

/// How long output may keep coming after the container stopped before
/// the copy is cut off (and how long its catch-up read may take).
const DRAIN_LIMIT: Duration = Duration::from_secs(5);

/// The end of a container: its status, or why it could not be learnt.
pub(crate) type Outcome = Option<Result<ExitStatus, String>>;

/// Waits for `container` to stop, lets `pump` (the output copy) finish and
/// catch up, closes the task's log, then publishes the outcome on `exit`.
pub(crate) async fn monitor(
    docker: Docker,
    container: String,
    pump: JoinHandle<Copier>,
    logs: LogStore,
    task_id: String,
    exit: Arc<watch::Sender<Outcome>>,
) {
    let outcome = wait_exit(&docker, &container).await;
    let abort = pump.abort_handle();
    match tokio::time::timeout(DRAIN_LIMIT, pump).await {
        Ok(Ok(mut copier)) => {
            if tokio::time::timeout(DRAIN_LIMIT, copier.catch_up())
                .await
                .is_err()
            {
                tracing::warn!(task_id, container, "reading the last output timed out");
            }
        }
        Ok(Err(e)) => tracing::warn!(task_id, error = %e, "the output copy failed"),
        Err(_) => {
            tracing::warn!(
                task_id,
                container,
                "container output still open after it stopped; cutting it off"
            );
            abort.abort();
        }
    }
    if let Err(e) = logs.close(&task_id) {
        tracing::warn!(task_id, error = %e, "closing task log failed");
    }
    exit.send_replace(Some(outcome));
}

/// The container's exit code, as the engine's wait API reports it (128 +
/// signal for a signal death).
async fn wait_exit(docker: &Docker, container: &str) -> Result<ExitStatus, String> {
    let mut wait = docker.wait_container(container, None::<WaitContainerOptions>);
    let code = match wait.next().await {
        Some(Ok(response)) => response.status_code,
        // bollard turns a non-zero exit into this error.
        Some(Err(Error::DockerContainerWaitError { error, code })) => {
            if !error.is_empty() {
                tracing::warn!(container, error, "the engine reported a wait error");
            }
            code
        }
        Some(Err(e)) => {
            return Err(format!(
                "waiting for container {container} failed: {}",
                error::describe(&e)
            ));
        }
        None => return Err(format!("the engine gave no exit status for {container}")),
    };
    Ok(ExitStatus { code, signal: None })
}
