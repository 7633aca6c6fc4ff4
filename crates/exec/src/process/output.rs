//! Copying a process's stdout or stderr into the log store, line by line.

use rswarm_rt::{Clock, SystemClock};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

use crate::{LogLine, LogStream, LogWriter};

/// Longest line kept as one log line; longer output is split, as Docker
/// splits at 16 KiB.
const MAX_LINE: usize = 16 * 1024;

/// Read buffer per output stream.
const READ_BUFFER: usize = 4 * 1024;

/// Reads `reader` to its end, appending each line (without its `\n`,
/// invalid UTF-8 replaced) to `writer` with the time it was read. Output is
/// always drained, even when the log cannot be written, so the process
/// never blocks on a full pipe.
pub(crate) async fn pump<R: AsyncRead + Unpin>(reader: R, stream: LogStream, writer: LogWriter) {
    // Small: a daemon holds two of these per running task.
    let mut reader = BufReader::with_capacity(READ_BUFFER, reader);
    let mut line: Vec<u8> = Vec::new();
    let mut failed = false;
    loop {
        let buf = match reader.fill_buf().await {
            Ok(buf) => buf,
            Err(e) => {
                tracing::warn!(?stream, error = %e, "reading task output failed");
                break;
            }
        };
        if buf.is_empty() {
            break;
        }
        let room = MAX_LINE - line.len();
        let (take, complete) = match buf.iter().take(room).position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len().min(room), false),
        };
        line.extend_from_slice(&buf[..take]);
        reader.consume(take);
        if complete {
            line.pop();
        }
        if complete || line.len() >= MAX_LINE {
            emit(&writer, stream, &mut line, &mut failed);
        }
    }
    if !line.is_empty() {
        emit(&writer, stream, &mut line, &mut failed);
    }
}

fn emit(writer: &LogWriter, stream: LogStream, line: &mut Vec<u8>, failed: &mut bool) {
    let entry = LogLine {
        timestamp: SystemClock.now(),
        stream,
        line: String::from_utf8_lossy(line).into_owned(),
    };
    line.clear();
    if let Err(e) = writer.append(&entry)
        && !*failed
    {
        *failed = true;
        tracing::warn!(path = %writer.path().display(), error = %e, "writing task log failed; dropping output");
    }
}
