//! One entry of the engine's log stream (`<RFC 3339 time> <text>`) as
//! [`LogLine`]s.

use rswarm_rt::{Clock, SystemClock};
use rswarm_types::Timestamp;

use crate::{LogLine, LogStream};

/// The lines of one log entry as the engine sends it with timestamps:
/// `2024-05-01T10:00:00.123456789Z text\n`. An entry without a parsable
/// timestamp is stamped with the current time; a terminal's `\r\n` loses
/// its `\r`.
pub(crate) fn entry_lines(entry: &str, stream: LogStream, tty: bool) -> Vec<LogLine> {
    let (timestamp, text) = split_timestamp(entry);
    let timestamp = timestamp.unwrap_or_else(|| SystemClock.now());
    let text = text.strip_suffix('\n').unwrap_or(text);
    text.split('\n')
        .map(|line| LogLine {
            timestamp,
            stream,
            line: if tty {
                line.strip_suffix('\r').unwrap_or(line).to_string()
            } else {
                line.to_string()
            },
        })
        .collect()
}

/// Splits the engine's RFC 3339 timestamp (and the space after it) off an
/// entry.
fn split_timestamp(entry: &str) -> (Option<Timestamp>, &str) {
    let Some((head, rest)) = entry.split_once(' ') else {
        return (None, entry);
    };
    match chrono::DateTime::parse_from_rfc3339(head) {
        Ok(t) => (Some(t.with_timezone(&chrono::Utc)), rest),
        Err(_) => (None, entry),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn texts(lines: &[LogLine]) -> Vec<&str> {
        lines.iter().map(|l| l.line.as_str()).collect()
    }

    #[test]
    fn timestamps_are_the_engines() {
        let lines = entry_lines(
            "2024-05-01T10:00:00.123456789Z hello world\n",
            LogStream::Stderr,
            false,
        );
        assert_eq!(texts(&lines), ["hello world"]);
        assert_eq!(lines[0].stream, LogStream::Stderr);
        assert_eq!(
            lines[0]
                .timestamp
                .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
            "2024-05-01T10:00:00.123456789Z"
        );
    }

    #[test]
    fn empty_partial_and_multi_line_entries() {
        let ts = "2024-05-01T10:00:00Z ";
        assert_eq!(
            texts(&entry_lines(&format!("{ts}\n"), LogStream::Stdout, false)),
            [""]
        );
        assert_eq!(
            texts(&entry_lines(
                &format!("{ts}no newline"),
                LogStream::Stdout,
                false
            )),
            ["no newline"]
        );
        assert_eq!(
            texts(&entry_lines(
                &format!("{ts}a\nb\n"),
                LogStream::Stdout,
                false
            )),
            ["a", "b"]
        );
        assert_eq!(
            texts(&entry_lines(
                &format!("{ts}tty\r\n"),
                LogStream::Stdout,
                true
            )),
            ["tty"]
        );
    }

    #[test]
    fn entries_without_timestamps_are_kept_whole() {
        let before = SystemClock.now();
        let lines = entry_lines("not-a-time text\n", LogStream::Stdout, false);
        assert_eq!(texts(&lines), ["not-a-time text"]);
        assert!(lines[0].timestamp >= before);
        assert_eq!(
            texts(&entry_lines("plain", LogStream::Stdout, false)),
            ["plain"]
        );
    }
}
