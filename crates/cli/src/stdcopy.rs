//! Demultiplexes docker's log stream: 8-byte headers
//! `[stream, 0, 0, 0, len_be_u32]` followed by `len` payload bytes.

use crate::error::{CliError, Result};

/// One demultiplexed frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// Stream 0 (stdin) or 1: goes to stdout.
    Stdout(Vec<u8>),
    /// Stream 2.
    Stderr(Vec<u8>),
}

/// An incremental demultiplexer: feed it chunks, get whole frames.
#[derive(Default)]
pub struct Demux {
    buf: Vec<u8>,
}

impl Demux {
    /// A new demultiplexer.
    pub fn new() -> Demux {
        Demux::default()
    }

    /// Adds bytes and returns the frames completed by them. Stream 3
    /// (system error) becomes `error from daemon in stream: ...`.
    pub fn push(&mut self, data: &[u8]) -> Result<Vec<Frame>> {
        self.buf.extend_from_slice(data);
        let mut frames = Vec::new();
        let mut at = 0;
        while self.buf.len() - at >= 8 {
            let h = &self.buf[at..at + 8];
            let len = u32::from_be_bytes([h[4], h[5], h[6], h[7]]) as usize;
            if self.buf.len() - at - 8 < len {
                break;
            }
            let payload = self.buf[at + 8..at + 8 + len].to_vec();
            let stream = h[0];
            at += 8 + len;
            match stream {
                0 | 1 => frames.push(Frame::Stdout(payload)),
                2 => frames.push(Frame::Stderr(payload)),
                3 => {
                    return Err(CliError::msg(format!(
                        "error from daemon in stream: {}",
                        String::from_utf8_lossy(&payload)
                    )));
                }
                other => return Err(CliError::msg(format!("Unrecognized input header: {other}"))),
            }
        }
        self.buf.drain(..at);
        Ok(frames)
    }

    /// Bytes left over that do not form a whole frame.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

/// Builds one frame (for tests and fakes).
pub fn frame(stream: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![stream, 0, 0, 0];
    v.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    v.extend_from_slice(payload);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_frames_across_chunks() {
        let mut bytes = frame(1, b"hello\n");
        bytes.extend(frame(2, b"oops\n"));
        let mut d = Demux::new();
        let first = d.push(&bytes[..5]).expect("push");
        assert!(first.is_empty());
        let rest = d.push(&bytes[5..17]).expect("push");
        assert_eq!(rest, vec![Frame::Stdout(b"hello\n".to_vec())]);
        let rest = d.push(&bytes[17..]).expect("push");
        assert_eq!(rest, vec![Frame::Stderr(b"oops\n".to_vec())]);
        assert_eq!(d.pending(), 0);
    }

    #[test]
    fn system_error_stops() {
        let mut d = Demux::new();
        let e = d
            .push(&frame(3, b"Error grabbing logs: x"))
            .expect_err("err");
        assert_eq!(
            e.to_string(),
            "error from daemon in stream: Error grabbing logs: x"
        );
    }
}
