//! Following a log file: poll it, yield complete new records, stop at the
//! end-of-log marker or when the file is gone.

use std::collections::VecDeque;
use std::io::{ErrorKind, SeekFrom};
use std::path::PathBuf;
use std::time::Duration;

use futures_util::Stream;
use rswarm_types::Timestamp;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::record::{self, Entry};
use crate::LogLine;

/// How often a followed file is checked for new lines.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Where a follower is in its file.
struct Follower {
    path: Option<PathBuf>,
    /// Byte offset of the first record not yet read.
    pos: u64,
    pending: VecDeque<LogLine>,
    since: Option<Timestamp>,
    /// Applies to the first read only.
    tail: Option<usize>,
    polled: bool,
    done: bool,
}

/// The stream behind [`LogStore::follow`](super::LogStore::follow).
pub(super) fn follow(
    path: Option<PathBuf>,
    since: Option<Timestamp>,
    tail: Option<usize>,
) -> impl Stream<Item = LogLine> + Send + 'static {
    let state = Follower {
        path,
        pos: 0,
        pending: VecDeque::new(),
        since,
        tail,
        polled: false,
        done: false,
    };
    futures_util::stream::unfold(state, |mut st| async move {
        loop {
            if let Some(line) = st.pending.pop_front() {
                return Some((line, st));
            }
            if st.done {
                return None;
            }
            if st.polled {
                tokio::time::sleep(POLL_INTERVAL).await;
            }
            st.poll().await;
        }
    })
}

impl Follower {
    /// Reads what was appended since the last poll.
    async fn poll(&mut self) {
        let first = !self.polled;
        self.polled = true;
        let Some(path) = &self.path else {
            self.done = true;
            return;
        };
        let bytes = match read_from(path, &mut self.pos).await {
            Ok(b) => b,
            Err(e) => {
                if e.kind() != ErrorKind::NotFound {
                    tracing::warn!(path = %path.display(), error = %e, "following log file failed");
                }
                self.done = true;
                return;
            }
        };
        let (entries, used) = record::decode_complete(&bytes);
        self.pos += used as u64;
        let mut lines = Vec::new();
        for entry in entries {
            match entry {
                Entry::Line(l) => lines.push(l),
                Entry::Closed => {
                    self.done = true;
                    break;
                }
            }
        }
        let tail = if first { self.tail } else { None };
        self.pending.extend(record::select(lines, self.since, tail));
    }
}

/// The bytes of `path` from `*pos` on. A file shorter than `*pos` was
/// replaced, so it is read from the start (and `*pos` reset).
async fn read_from(path: &PathBuf, pos: &mut u64) -> std::io::Result<Vec<u8>> {
    let mut file = tokio::fs::File::open(path).await?;
    let len = file.metadata().await?.len();
    if len < *pos {
        *pos = 0;
    }
    let mut buf = Vec::new();
    if len > *pos {
        file.seek(SeekFrom::Start(*pos)).await?;
        file.read_to_end(&mut buf).await?;
    }
    Ok(buf)
}
