//! Where a command writes: stdout, stderr, and whether stdout is a
//! terminal (and how wide), which the progress display needs.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};

/// The output streams of one command.
pub struct Output {
    /// Standard output.
    pub out: Box<dyn Write + Send>,
    /// Standard error.
    pub err: Box<dyn Write + Send>,
    /// True when stdout is a terminal (progress redraws in place).
    pub tty: bool,
    /// Terminal width in columns (docker assumes 200 when unknown).
    pub width: usize,
}

impl Output {
    /// The process's stdout and stderr.
    pub fn stdio() -> Output {
        let stdout = std::io::stdout();
        let tty = stdout.is_terminal();
        let width = if tty {
            terminal_size::terminal_size_of(&stdout)
                .map(|(w, _)| usize::from(w.0))
                .unwrap_or(200)
        } else {
            200
        };
        Output {
            out: Box::new(stdout),
            err: Box::new(std::io::stderr()),
            tty,
            width,
        }
    }

    /// In-memory streams for tests: returns the output and its two buffers.
    pub fn capture(tty: bool, width: usize) -> (Output, Captured, Captured) {
        let out = Captured::default();
        let err = Captured::default();
        (
            Output {
                out: Box::new(out.clone()),
                err: Box::new(err.clone()),
                tty,
                width,
            },
            out,
            err,
        )
    }
}

/// A shared in-memory buffer implementing `Write`.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Everything written so far, as text.
    pub fn text(&self) -> String {
        let guard = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        String::from_utf8_lossy(&guard).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut guard = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        guard.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
