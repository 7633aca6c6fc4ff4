//! Waiting for the next reason to run a loop: a relevant commit (with a
//! short debounce so bursts are handled together), a timer, or shutdown.

use std::sync::Arc;
use std::time::Duration;

use rswarm_rt::Shutdown;
use rswarm_store::Commit;
use tokio::sync::broadcast::{Receiver, error::RecvError};

/// Why the loop woke up.
#[derive(Debug, PartialEq, Eq)]
pub enum Wake {
    /// Something changed (or the watcher lagged: resync).
    Changed,
    /// The timer fired.
    Timer,
    /// Shut down.
    Shutdown,
}

/// Debounce after the first event of a burst.
const DEBOUNCE: Duration = Duration::from_millis(10);

/// Waits for a commit accepted by `relevant`, the deadline, or shutdown.
pub async fn next(
    rx: &mut Receiver<Arc<Commit>>,
    relevant: impl Fn(&Commit) -> bool,
    deadline: Option<tokio::time::Instant>,
    shutdown: &Shutdown,
) -> Wake {
    let timer = async {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(timer);
    loop {
        tokio::select! {
            _ = shutdown.wait() => return Wake::Shutdown,
            _ = &mut timer => return Wake::Timer,
            r = rx.recv() => match r {
                Ok(c) if relevant(&c) => break,
                Ok(_) => continue,
                Err(RecvError::Lagged(_)) => break,
                Err(RecvError::Closed) => return Wake::Shutdown,
            },
        }
    }
    tokio::time::sleep(DEBOUNCE).await;
    // Drain what arrived meanwhile: one run covers the whole burst.
    while let Ok(_) | Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) = rx.try_recv() {}
    Wake::Changed
}

/// Converts a wall-clock deadline into a tokio instant.
pub fn instant_at(
    at: rswarm_types::Timestamp,
    now: rswarm_types::Timestamp,
) -> tokio::time::Instant {
    let ms = (at - now).num_milliseconds().max(0) as u64;
    tokio::time::Instant::now() + Duration::from_millis(ms)
}
