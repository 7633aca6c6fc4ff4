//! `rswarm swarm backup FILE` (rswarm only: Docker Swarm has no backup
//! command): fetches an online, consistent backup of the cluster store
//! from a manager (`GET /swarm/backup`) and writes it owner-only, through
//! a temporary file, to FILE. `swarm restore` (offline, run by the
//! `rswarm` binary) is its counterpart.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use serde_json::Value;

use super::BackupArgs;
use crate::client::Client;
use crate::error::{CliError, Result};
use crate::output::Output;

/// The first bytes of a backup file, and the header length before its
/// JSON body (magic, u16 version, u64 length).
const MAGIC: &[u8; 8] = b"RSWARMBK";
const HEADER_LEN: usize = 18;
const SUM_LEN: usize = 32;

pub(super) async fn backup(client: &Client, a: BackupArgs, io: &mut Output) -> Result<()> {
    let bytes = client.get_raw("/swarm/backup").await?;
    if !bytes.starts_with(MAGIC) {
        return Err(CliError::msg(
            "the daemon did not send an rswarm backup (is it an rswarm manager?)",
        ));
    }
    write_private(Path::new(&a.file), &bytes)
        .map_err(|e| CliError::msg(format!("writing {}: {e}", a.file)))?;
    let summary = summary(&bytes);
    writeln!(
        io.out,
        "Backup of swarm {}{} written to {} ({} bytes).",
        summary.0,
        summary.1,
        a.file,
        bytes.len()
    )?;
    Ok(())
}

/// The cluster ID and "(raft index N, M objects)" read from the body.
fn summary(bytes: &[u8]) -> (String, String) {
    let body = bytes
        .get(HEADER_LEN..bytes.len().saturating_sub(SUM_LEN))
        .and_then(|b| serde_json::from_slice::<Value>(b).ok())
        .unwrap_or(Value::Null);
    let cluster = body["cluster_id"].as_str().unwrap_or("?").to_string();
    let detail = match (
        body["last_log_id"]["index"].as_u64(),
        body["objects"].as_array().map(Vec::len),
    ) {
        (Some(i), Some(n)) => format!(" (raft index {i}, {n} objects)"),
        _ => String::new(),
    };
    (cluster, detail)
}

/// Writes `bytes` to `path` with mode 0600 (it holds the CA key), via a
/// temporary file beside it and a rename.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    let written = f.write_all(bytes).and_then(|()| f.sync_all());
    drop(f);
    match written.and_then(|()| std::fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn written_owner_only() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("b.bin");
        std::fs::write(&path, b"old").expect("old file");
        write_private(&path, b"RSWARMBK...").expect("write");
        assert_eq!(std::fs::read(&path).expect("read"), b"RSWARMBK...");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
    }

    #[test]
    fn summary_from_the_body() {
        let body = br#"{"cluster_id":"c1","last_log_id":{"index":9},"objects":[1,2]}"#;
        let mut bytes = b"RSWARMBK\0\x01\0\0\0\0\0\0\0\0".to_vec();
        bytes.extend_from_slice(body);
        bytes.extend_from_slice(&[0u8; 32]);
        assert_eq!(
            summary(&bytes),
            ("c1".to_string(), " (raft index 9, 2 objects)".to_string())
        );
        assert_eq!(summary(b"RSWARMBK").0, "?");
    }
}
