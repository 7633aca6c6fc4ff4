//! [`LogStore`]: task output kept as one JSON-lines file per task under a
//! directory (`<dir>/<task-id>.log`, format in [`record`]).
//!
//! Lifecycle of a task's log, and the rule followers obey:
//!
//! 1. The process controller opens the file in `prepare` (through
//!    [`LogStore::writer`]), so it exists before the task starts.
//! 2. Each line of output is appended with its timestamp and stream.
//! 3. When the process has exited and its output is drained, the controller
//!    calls [`LogStore::close`], which appends an end-of-log marker.
//! 4. [`LogStore::remove`] deletes the file when the task is deleted.
//!
//! [`LogStore::follow`] yields the existing lines, then new ones as they are
//! appended (the file is polled every 100 ms), and **ends at the end-of-log
//! marker or when the file does not exist** (never created, or removed). So
//! a client following a finished task gets its output and then the end.

mod follow;
mod record;
mod writer;

use std::collections::HashMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::Stream;
use rswarm_rt::{Clock, SystemClock};
use rswarm_types::Timestamp;

pub use writer::LogWriter;

use crate::LogLine;

/// Per-task log files under one directory. Cheap to clone; clones share the
/// open writers.
#[derive(Clone, Debug)]
pub struct LogStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    writers: Mutex<HashMap<String, LogWriter>>,
}

impl LogStore {
    /// A store keeping its files under `dir`; the directory is created when
    /// the first file is opened.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            inner: Arc::new(Inner {
                dir: dir.into(),
                writers: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The file of `task_id`. Fails for IDs that are not a plain file name
    /// (empty, `.`/`..`, or containing `/` or NUL).
    pub fn path(&self, task_id: &str) -> std::io::Result<PathBuf> {
        if task_id.is_empty() || task_id == "." || task_id == ".." || task_id.contains(['/', '\0'])
        {
            return Err(std::io::Error::new(
                ErrorKind::InvalidInput,
                format!("invalid task ID for a log file: {task_id:?}"),
            ));
        }
        Ok(self.inner.dir.join(format!("{task_id}.log")))
    }

    /// The open writer for `task_id`, opening (and creating) the file on
    /// first use. The writer stays cached until [`close`](Self::close) or
    /// [`remove`](Self::remove).
    pub fn writer(&self, task_id: &str) -> std::io::Result<LogWriter> {
        let path = self.path(task_id)?;
        let mut writers = self.writers();
        if let Some(w) = writers.get(task_id) {
            return Ok(w.clone());
        }
        rswarm_rt::private::create_dir_all(&self.inner.dir)?;
        let w = LogWriter::open(path)?;
        writers.insert(task_id.to_string(), w.clone());
        Ok(w)
    }

    /// Appends one line to `task_id`'s log (through its cached writer).
    pub fn append(&self, task_id: &str, line: LogLine) -> std::io::Result<()> {
        self.writer(task_id)?.append(&line)
    }

    /// Marks `task_id`'s log as complete: appends the end-of-log marker
    /// (ending followers) and drops the cached writer. The lines stay
    /// readable until [`remove`](Self::remove).
    pub fn close(&self, task_id: &str) -> std::io::Result<()> {
        let w = self.writer(task_id)?;
        self.writers().remove(task_id);
        w.append_closed(&SystemClock.now())
    }

    /// Deletes `task_id`'s log (no error when there is none). Followers end.
    pub fn remove(&self, task_id: &str) -> std::io::Result<()> {
        let path = self.path(task_id)?;
        self.writers().remove(task_id);
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// The lines of `task_id` at or after `since`, then only the last
    /// `tail` of those. A task without a log file has no lines.
    pub async fn read(
        &self,
        task_id: &str,
        since: Option<Timestamp>,
        tail: Option<usize>,
    ) -> std::io::Result<Vec<LogLine>> {
        let path = self.path(task_id)?;
        let bytes = match tokio::fs::read(&path).await {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let (entries, _) = record::decode_complete(&bytes);
        let lines = entries
            .into_iter()
            .filter_map(|e| match e {
                record::Entry::Line(l) => Some(l),
                record::Entry::Closed => None,
            })
            .collect();
        Ok(record::select(lines, since, tail))
    }

    /// The lines [`read`](Self::read) would return, then each new line as
    /// it is appended; ends at the end-of-log marker or when the file is
    /// missing (see the module docs). An invalid task ID gives an empty
    /// stream.
    pub fn follow(
        &self,
        task_id: &str,
        since: Option<Timestamp>,
        tail: Option<usize>,
    ) -> impl Stream<Item = LogLine> + Send + 'static {
        follow::follow(self.path(task_id).ok(), since, tail)
    }

    fn writers(&self) -> std::sync::MutexGuard<'_, HashMap<String, LogWriter>> {
        self.inner
            .writers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
