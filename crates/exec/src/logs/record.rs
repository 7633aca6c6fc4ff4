//! The on-disk form of a task's log: one JSON object per line, in the
//! spirit of Docker's `json-file` driver:
//!
//! ```text
//! {"log":"hello","stream":"stdout","time":"2024-05-01T10:00:00.123456789Z"}
//! {"closed":true,"time":"2024-05-01T10:00:01Z"}
//! ```
//!
//! The `closed` record is the end-of-log marker written by
//! [`LogStore::close`](super::LogStore::close); followers stop there.
//! Lines that do not parse (say, half-written at a crash) are skipped.

use rswarm_types::Timestamp;
use serde::{Deserialize, Serialize};

use crate::{LogLine, LogStream};

/// One record as written.
#[derive(Serialize)]
struct RecordOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    log: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<&'static str>,
    time: &'a Timestamp,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    closed: bool,
}

/// One record as read.
#[derive(Deserialize)]
struct RecordIn {
    #[serde(default)]
    log: Option<String>,
    #[serde(default)]
    stream: Option<String>,
    time: Timestamp,
    #[serde(default)]
    closed: bool,
}

/// A decoded record.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Entry {
    /// A line of output.
    Line(LogLine),
    /// The end-of-log marker.
    Closed,
}

fn stream_name(stream: LogStream) -> &'static str {
    match stream {
        LogStream::Stdout => "stdout",
        LogStream::Stderr => "stderr",
    }
}

fn finish(record: &RecordOut<'_>) -> std::io::Result<Vec<u8>> {
    let mut out = serde_json::to_vec(record)?;
    out.push(b'\n');
    Ok(out)
}

/// Encodes one output line, newline included.
pub(crate) fn encode_line(line: &LogLine) -> std::io::Result<Vec<u8>> {
    finish(&RecordOut {
        log: Some(&line.line),
        stream: Some(stream_name(line.stream)),
        time: &line.timestamp,
        closed: false,
    })
}

/// Encodes the end-of-log marker, newline included.
pub(crate) fn encode_closed(time: &Timestamp) -> std::io::Result<Vec<u8>> {
    finish(&RecordOut {
        log: None,
        stream: None,
        time,
        closed: true,
    })
}

/// Decodes one record (without its newline); `None` when malformed.
fn decode(bytes: &[u8]) -> Option<Entry> {
    let record: RecordIn = serde_json::from_slice(bytes).ok()?;
    if record.closed {
        return Some(Entry::Closed);
    }
    let stream = match record.stream.as_deref() {
        Some("stderr") => LogStream::Stderr,
        _ => LogStream::Stdout,
    };
    Some(Entry::Line(LogLine {
        timestamp: record.time,
        stream,
        line: record.log.unwrap_or_default(),
    }))
}

/// Decodes the complete (newline-terminated) records at the front of
/// `buf`; returns them and how many bytes they took. A trailing partial
/// record is left for the next read.
pub(crate) fn decode_complete(buf: &[u8]) -> (Vec<Entry>, usize) {
    let mut entries = Vec::new();
    let mut consumed = 0;
    while let Some(n) = buf[consumed..].iter().position(|b| *b == b'\n') {
        if let Some(entry) = decode(&buf[consumed..consumed + n]) {
            entries.push(entry);
        }
        consumed += n + 1;
    }
    (entries, consumed)
}

/// Keeps lines at or after `since`, then the last `tail` of them.
pub(crate) fn select(
    lines: Vec<LogLine>,
    since: Option<Timestamp>,
    tail: Option<usize>,
) -> Vec<LogLine> {
    let mut lines: Vec<LogLine> = match since {
        Some(since) => lines.into_iter().filter(|l| l.timestamp >= since).collect(),
        None => lines,
    };
    if let Some(tail) = tail
        && lines.len() > tail
    {
        lines.drain(..lines.len() - tail);
    }
    lines
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn line(s: &str, stream: LogStream) -> LogLine {
        LogLine {
            timestamp: chrono::Utc::now(),
            stream,
            line: s.into(),
        }
    }

    #[test]
    fn round_trip_and_partial_records() {
        let a = line("hello \"world\"", LogStream::Stdout);
        let b = line("oops", LogStream::Stderr);
        let mut buf = encode_line(&a).unwrap();
        buf.extend(b"not json\n");
        buf.extend(encode_line(&b).unwrap());
        buf.extend(encode_closed(&a.timestamp).unwrap());
        buf.extend(br#"{"log":"partial"#);
        let (entries, used) = decode_complete(&buf);
        assert_eq!(entries, vec![Entry::Line(a), Entry::Line(b), Entry::Closed]);
        assert_eq!(&buf[used..], br#"{"log":"partial"#);
    }

    #[test]
    fn select_applies_since_then_tail() {
        let t0 = chrono::Utc::now();
        let lines: Vec<LogLine> = (0..5)
            .map(|i| LogLine {
                timestamp: t0 + chrono::Duration::seconds(i),
                stream: LogStream::Stdout,
                line: i.to_string(),
            })
            .collect();
        let names = |v: Vec<LogLine>| v.into_iter().map(|l| l.line).collect::<Vec<_>>();
        assert_eq!(names(select(lines.clone(), None, Some(2))), ["3", "4"]);
        assert_eq!(
            names(select(
                lines.clone(),
                Some(t0 + chrono::Duration::seconds(3)),
                None
            )),
            ["3", "4"]
        );
        assert_eq!(
            names(select(
                lines.clone(),
                Some(t0 + chrono::Duration::seconds(1)),
                Some(10)
            )),
            ["1", "2", "3", "4"]
        );
        assert!(select(lines, None, Some(0)).is_empty());
    }
}
