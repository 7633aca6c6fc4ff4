//! [`LogWriter`]: an open, append-only handle on one task's log file.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rswarm_types::Timestamp;

use super::record;
use crate::LogLine;

/// Appends records to one task's log file. Cheap to clone (clones share the
/// file handle); each record is written with a single `write` on a file
/// opened with `O_APPEND`, so stdout and stderr writers do not interleave
/// inside a line.
#[derive(Clone, Debug)]
pub struct LogWriter {
    path: Arc<PathBuf>,
    file: Arc<Mutex<File>>,
}

impl LogWriter {
    /// Opens (creating if needed) the file at `path` for appending.
    pub(crate) fn open(path: PathBuf) -> std::io::Result<Self> {
        let file = rswarm_rt::private::file_options()
            .create(true)
            .append(true)
            .open(&path)?;
        Ok(Self {
            path: Arc::new(path),
            file: Arc::new(Mutex::new(file)),
        })
    }

    /// The file this writer appends to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line of output.
    pub fn append(&self, line: &LogLine) -> std::io::Result<()> {
        self.write(&record::encode_line(line)?)
    }

    /// Appends the end-of-log marker.
    pub(crate) fn append_closed(&self, time: &Timestamp) -> std::io::Result<()> {
        self.write(&record::encode_closed(time)?)
    }

    fn write(&self, bytes: &[u8]) -> std::io::Result<()> {
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        file.write_all(bytes)
    }
}
