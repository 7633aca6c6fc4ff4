//! Log lines on the wire (moby `httputils.WriteLogStream` + `stdcopy`):
//! one line per frame, `[<timestamp> ][<details> ]<line>\n`, wrapped in an
//! 8-byte header `[stream, 0, 0, 0, len_be_u32]` unless the service has a
//! TTY, in which case the bytes go out raw.

use bytes::{BufMut, Bytes, BytesMut};
use rswarm_types::Timestamp;

use crate::backend::LogMessage;

/// Stream id of stdout frames.
pub const STDOUT: u8 = 1;
/// Stream id of stderr frames.
pub const STDERR: u8 = 2;
/// Stream id of system-error frames (the CLI aborts with their text).
pub const SYSTEM_ERR: u8 = 3;

/// Media type for multiplexed bodies (API >= 1.42, no TTY).
pub const MULTIPLEXED: &str = "application/vnd.docker.multiplexed-stream";
/// Media type otherwise (the body is still multiplexed without TTY).
pub const RAW: &str = "application/vnd.docker.raw-stream";

/// How lines are rendered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameOptions {
    /// Include stdout lines.
    pub stdout: bool,
    /// Include stderr lines.
    pub stderr: bool,
    /// Prefix each line with its RFC 3339 time (9 fractional digits).
    pub timestamps: bool,
    /// Prefix each line with its node/service/task attributes.
    pub details: bool,
    /// Raw output (TTY): no frame headers.
    pub tty: bool,
}

/// The timestamp format of log lines: always 9 fractional digits, UTC.
pub fn format_timestamp(t: &Timestamp) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}

/// Go's `url.QueryEscape`: unreserved bytes kept, space as `+`, the rest `%XX`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// The details token: attributes sorted by key, `k=v` URL-escaped, joined by `,`.
pub fn details(msg: &LogMessage) -> String {
    let mut attrs = [
        ("com.docker.swarm.node.id", msg.node_id.as_str()),
        ("com.docker.swarm.service.id", msg.service_id.as_str()),
        ("com.docker.swarm.task.id", msg.task_id.as_str()),
    ];
    attrs.sort_by_key(|(k, _)| *k);
    attrs
        .iter()
        .map(|(k, v)| format!("{}={}", query_escape(k), query_escape(v)))
        .collect::<Vec<_>>()
        .join(",")
}

/// The bytes for one message, or `None` when its stream is not wanted.
pub fn encode(msg: &LogMessage, opts: &FrameOptions) -> Option<Bytes> {
    let wanted = match msg.stream {
        STDOUT => opts.stdout,
        STDERR => opts.stderr,
        SYSTEM_ERR => true,
        _ => false,
    };
    if !wanted {
        return None;
    }
    let mut payload = String::with_capacity(msg.line.len() + 160);
    if msg.stream != SYSTEM_ERR {
        if opts.timestamps {
            payload.push_str(&format_timestamp(&msg.timestamp));
            payload.push(' ');
        }
        if opts.details {
            payload.push_str(&details(msg));
            payload.push(' ');
        }
    }
    payload.push_str(&msg.line);
    payload.push('\n');
    if opts.tty {
        return Some(Bytes::from(payload));
    }
    let len = u32::try_from(payload.len()).ok()?;
    let mut buf = BytesMut::with_capacity(8 + payload.len());
    buf.put_slice(&[msg.stream, 0, 0, 0]);
    buf.put_u32(len);
    buf.put_slice(payload.as_bytes());
    Some(buf.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(stream: u8, line: &str) -> LogMessage {
        LogMessage {
            stream,
            timestamp: chrono::DateTime::from_timestamp(1_735_787_045, 120).expect("time"),
            line: line.into(),
            node_id: "node1".into(),
            service_id: "svc 1".into(),
            task_id: "task/1".into(),
        }
    }

    #[test]
    fn frames_are_byte_exact() {
        let opts = FrameOptions {
            stdout: true,
            stderr: true,
            ..Default::default()
        };
        let b = encode(&msg(1, "hello"), &opts).expect("frame");
        assert_eq!(&b[..], b"\x01\x00\x00\x00\x00\x00\x00\x06hello\n");
        let b = encode(&msg(2, "oops"), &opts).expect("frame");
        assert_eq!(&b[..8], &[2, 0, 0, 0, 0, 0, 0, 5]);
        let only_out = FrameOptions {
            stdout: true,
            ..Default::default()
        };
        assert!(encode(&msg(2, "oops"), &only_out).is_none());
    }

    #[test]
    fn timestamps_and_details() {
        let opts = FrameOptions {
            stdout: true,
            timestamps: true,
            details: true,
            ..Default::default()
        };
        let b = encode(&msg(1, "x"), &opts).expect("frame");
        let text = std::str::from_utf8(&b[8..]).expect("utf8");
        assert_eq!(
            text,
            "2025-01-02T03:04:05.000000120Z com.docker.swarm.node.id=node1,com.docker.swarm.service.id=svc+1,com.docker.swarm.task.id=task%2F1 x\n"
        );
        assert_eq!(
            u32::from_be_bytes([b[4], b[5], b[6], b[7]]) as usize,
            text.len()
        );
    }

    #[test]
    fn tty_is_raw() {
        let opts = FrameOptions {
            stdout: true,
            stderr: true,
            tty: true,
            ..Default::default()
        };
        assert_eq!(&encode(&msg(1, "top"), &opts).expect("raw")[..], b"top\n");
    }
}
