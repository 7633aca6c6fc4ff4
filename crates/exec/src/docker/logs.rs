//! Copying a container's stdout and stderr into the
//! [`LogStore`](crate::LogStore) so `service logs` reads docker tasks like
//! process tasks. A [`Copier`] follows the engine's log stream with
//! timestamps (each entry becomes a [`LogLine`] stamped with the engine's
//! time); once the container has stopped, [`Copier::catch_up`] reads the
//! last second again and appends what the follow missed (the engine may
//! end a follow before the last lines are read).

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::query_parameters::{LogsOptions, LogsOptionsBuilder};
use futures_util::StreamExt;
use rswarm_types::Timestamp;

use super::entry::entry_lines;
use crate::{LogLine, LogStream, LogWriter};

/// Copies one container's output to its task's log.
pub(crate) struct Copier {
    docker: Docker,
    container: String,
    writer: LogWriter,
    seen: Seen,
    failed: bool,
}

impl Copier {
    pub(crate) fn new(docker: Docker, container: String, writer: LogWriter) -> Self {
        Self {
            docker,
            container,
            writer,
            seen: Seen::default(),
            failed: false,
        }
    }

    /// Follows the output until the engine ends the stream (the container
    /// stopped). Errors are logged, never returned: the log is closed
    /// either way.
    pub(crate) async fn follow(&mut self) {
        let options = LogsOptionsBuilder::new()
            .follow(true)
            .stdout(true)
            .stderr(true)
            .timestamps(true)
            .build();
        self.copy(options, false).await;
    }

    /// After the container stopped: appends what [`follow`](Self::follow)
    /// did not get, from the last whole second it copied on.
    pub(crate) async fn catch_up(&mut self) {
        let options = LogsOptionsBuilder::new()
            .stdout(true)
            .stderr(true)
            .timestamps(true)
            .since(self.seen.since())
            .build();
        self.copy(options, true).await;
    }

    async fn copy(&mut self, options: LogsOptions, skip_seen: bool) {
        let mut output = self.docker.logs(&self.container, Some(options));
        while let Some(item) = output.next().await {
            let (stream, message, tty) = match item {
                Ok(LogOutput::StdOut { message }) => (LogStream::Stdout, message, false),
                Ok(LogOutput::StdErr { message }) => (LogStream::Stderr, message, false),
                Ok(LogOutput::Console { message }) => (LogStream::Stdout, message, true),
                Ok(LogOutput::StdIn { .. }) => continue,
                Err(e) => {
                    tracing::warn!(container = self.container, error = %super::error::describe(&e), "reading container output failed");
                    return;
                }
            };
            for line in entry_lines(&String::from_utf8_lossy(&message), stream, tty) {
                if skip_seen && self.seen.take(&line) {
                    continue;
                }
                self.seen.note(&line);
                self.append(&line);
            }
        }
    }

    fn append(&mut self, line: &LogLine) {
        if let Err(e) = self.writer.append(line)
            && !self.failed
        {
            self.failed = true;
            tracing::warn!(path = %self.writer.path().display(), error = %e, "writing task log failed; dropping output");
        }
    }
}

/// What was copied, enough to resume without duplicates: the latest
/// timestamp and the lines of its whole second.
#[derive(Debug, Default)]
struct Seen {
    last: Option<Timestamp>,
    recent: Vec<LogLine>,
}

impl Seen {
    /// The start of the second of the latest line (the engine's `since`
    /// takes whole seconds); 0 before any line.
    fn floor(&self) -> Option<Timestamp> {
        self.last.and_then(|t| {
            chrono::DateTime::from_timestamp(t.timestamp(), 0)
                .map(|f| f.with_timezone(&chrono::Utc))
        })
    }

    fn since(&self) -> i32 {
        self.floor()
            .and_then(|f| i32::try_from(f.timestamp()).ok())
            .unwrap_or(0)
    }

    /// Records a copied line.
    fn note(&mut self, line: &LogLine) {
        if self.last.is_none_or(|l| line.timestamp > l) {
            self.last = Some(line.timestamp);
        }
        if let Some(floor) = self.floor() {
            self.recent.retain(|l| l.timestamp >= floor);
            if line.timestamp >= floor {
                self.recent.push(line.clone());
            }
        }
    }

    /// Whether `line` was copied already (each copy matches once).
    fn take(&mut self, line: &LogLine) -> bool {
        let Some(floor) = self.floor() else {
            return false;
        };
        if line.timestamp < floor {
            return true;
        }
        match self.recent.iter().position(|l| l == line) {
            Some(i) => {
                self.recent.swap_remove(i);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn line(time: &str, text: &str) -> LogLine {
        LogLine {
            timestamp: chrono::DateTime::parse_from_rfc3339(time)
                .unwrap()
                .with_timezone(&chrono::Utc),
            stream: LogStream::Stdout,
            line: text.into(),
        }
    }

    #[test]
    fn resumes_from_the_last_second_without_duplicates() {
        let mut seen = Seen::default();
        assert_eq!(seen.since(), 0);
        assert!(!seen.take(&line("2024-05-01T10:00:00Z", "x")));
        let a = line("2024-05-01T10:00:01.5Z", "a");
        let b = line("2024-05-01T10:00:02.1Z", "b");
        let b2 = line("2024-05-01T10:00:02.7Z", "b");
        for l in [&a, &b, &b2] {
            seen.note(l);
        }
        assert_eq!(seen.since(), 1_714_557_602);
        // Read again from 10:00:02: a is older, b and b2 were copied, c not.
        assert!(seen.take(&a));
        assert!(seen.take(&b));
        assert!(seen.take(&b2));
        assert!(!seen.take(&b2), "each copied line matches once");
        assert!(!seen.take(&line("2024-05-01T10:00:02.9Z", "c")));
    }
}
