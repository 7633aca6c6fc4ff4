//! `rswarm swarm restore FILE --data-root DIR` (offline: no daemon runs
//! on DIR): a new data root from a backup file, from which `rswarm daemon
//! --data-root DIR` starts as the only manager of the restored swarm.
//!
//! The restoring node takes the identity of the manager the backup came
//! from (its node ID, a new manager certificate signed by the restored
//! CA); cluster ID, CA, join tokens, services, tasks and nodes are the
//! backup's. The other managers of the old swarm are no longer members
//! of its Raft group: they show as down and can be removed.
//!
//! Everything is written under `DIR/swarm.restoring` and renamed to
//! `DIR/swarm` last; a bad file or any failure leaves nothing behind.

use std::path::{Path, PathBuf};

use rswarm_pki::{NodeIdentity, RootCa};
use rswarm_raft::{Backup, BackupError, Peer};
use rswarm_store::Kind;
use rswarm_types::NodeRole;
use thiserror::Error;

use crate::addr::{SystemInterfaces, default_advertise, resolve_advertise, resolve_listen};
use crate::node::{SwarmConfig, write_atomic};
use crate::paths::Paths;

/// What to restore, and where.
#[derive(Clone, Debug, Default)]
pub struct RestoreOptions {
    /// The backup file.
    pub file: PathBuf,
    /// The data root to create the swarm state in.
    pub data_root: PathBuf,
    /// `--listen-addr` (default: the address of the manager the backup
    /// came from).
    pub listen_addr: Option<String>,
    /// `--advertise-addr` (default: the listen address when given, else
    /// the address of the manager the backup came from).
    pub advertise_addr: Option<String>,
}

/// What was restored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Restored {
    /// The swarm's ID.
    pub cluster_id: String,
    /// This node's ID (the manager the backup came from).
    pub node_id: String,
    /// The address the restored manager advertises.
    pub advertise_addr: String,
    /// Its swarm port.
    pub listen_addr: String,
    /// Object counts: services, nodes, tasks.
    pub services: usize,
    /// Nodes.
    pub nodes: usize,
    /// Tasks.
    pub tasks: usize,
}

/// Why a restore did not happen (nothing was written).
#[derive(Debug, Error)]
pub enum RestoreError {
    /// The file could not be read.
    #[error("cannot read backup file {path}: {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        reason: String,
    },
    /// The file is not a usable backup.
    #[error("{path}: {source}")]
    Backup {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: BackupError,
    },
    /// The data root already has a swarm.
    #[error(
        "{0} already holds a swarm state; restore into a new data root (or remove its swarm directory)"
    )]
    NotEmpty(PathBuf),
    /// The backup cannot make a manager.
    #[error("{0}")]
    Unusable(String),
    /// An address flag is invalid.
    #[error("{0}")]
    Address(String),
    /// Writing the new state failed.
    #[error("writing the restored state into {path}: {reason}")]
    Write {
        /// Where.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

/// Restores `opts.file` into `opts.data_root`.
pub fn restore(opts: &RestoreOptions) -> Result<Restored, RestoreError> {
    let bytes = std::fs::read(&opts.file).map_err(|e| RestoreError::Read {
        path: opts.file.clone(),
        reason: e.to_string(),
    })?;
    let backup = Backup::decode(&bytes).map_err(|source| RestoreError::Backup {
        path: opts.file.clone(),
        source,
    })?;
    let paths = Paths::new(&opts.data_root);
    if paths.swarm().exists() {
        return Err(RestoreError::NotEmpty(opts.data_root.clone()));
    }
    let (listen_addr, advertise_addr) = addresses(opts, &backup.source.addr)?;
    let identity = manager_identity(&backup)?;
    let config = SwarmConfig {
        node_id: identity.node_id.clone(),
        cluster_id: identity.cluster_id.clone(),
        role: NodeRole::Manager,
        advertise_addr: advertise_addr.clone(),
        listen_addr: listen_addr.clone(),
        data_path_addr: None,
        managers: Vec::new(),
    };
    let me = Peer::new(identity.node_id.clone(), advertise_addr.clone());
    let created_root = !opts.data_root.exists();
    let staging = opts.data_root.join("swarm.restoring");
    let written = write_state(&staging, &paths, &backup, &identity, &config, &me);
    if written.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
        if created_root {
            let _ = std::fs::remove_dir(&opts.data_root);
        }
    }
    written?;
    Ok(Restored {
        cluster_id: identity.cluster_id,
        node_id: identity.node_id,
        advertise_addr,
        listen_addr,
        services: backup.count(Kind::Service),
        nodes: backup.count(Kind::Node),
        tasks: backup.count(Kind::Task),
    })
}

/// Listen and advertise addresses from the flags, defaulting to the
/// address of the manager the backup came from.
fn addresses(opts: &RestoreOptions, source: &str) -> Result<(String, String), RestoreError> {
    let bad = |e: rswarm_types::ControlError| RestoreError::Address(e.to_string());
    let listen = resolve_listen(
        opts.listen_addr.as_deref().unwrap_or(source),
        &SystemInterfaces,
    )
    .map_err(bad)?;
    let advertise = match (&opts.advertise_addr, &opts.listen_addr) {
        (Some(a), _) => resolve_advertise(a, &listen, &SystemInterfaces)
            .map_err(bad)?
            .unwrap_or_else(|| default_advertise(&listen)),
        (None, Some(_)) => default_advertise(&listen),
        (None, None) => source.to_string(),
    };
    Ok((listen, advertise))
}

/// A new manager certificate for the manager the backup came from,
/// signed by the backup's CA.
fn manager_identity(backup: &Backup) -> Result<NodeIdentity, RestoreError> {
    let unusable = |m: String| RestoreError::Unusable(m);
    let cluster = backup
        .cluster()
        .ok_or_else(|| unusable("the backup holds no cluster object".into()))?;
    let node_id = &backup.source.node_id;
    if !backup.tables.nodes().any(|n| &n.id == node_id) {
        return Err(unusable(format!(
            "the backup's nodes do not include the manager it was taken from ({node_id})"
        )));
    }
    if cluster.ca_key_pem.is_empty() {
        return Err(unusable(
            "the backup's cluster has no CA key: a manager certificate cannot be issued".into(),
        ));
    }
    let pki = |e: rswarm_pki::PkiError| unusable(format!("the backup's cluster CA: {e}"));
    let root =
        RootCa::from_pems(cluster.ca_cert_pem.clone(), cluster.ca_key_pem.clone()).map_err(pki)?;
    let (cert, key) = root
        .issue_self(node_id, NodeRole::Manager, &cluster.id, chrono::Utc::now())
        .map_err(pki)?;
    NodeIdentity::from_pems(cert, key, root.cert_pem()).map_err(pki)
}

/// Writes certificates, Raft state and node config under `staging` (laid
/// out as `swarm/`), then renames it to `swarm`.
fn write_state(
    staging: &Path,
    paths: &Paths,
    backup: &Backup,
    identity: &NodeIdentity,
    config: &SwarmConfig,
    me: &Peer,
) -> Result<(), RestoreError> {
    let failed = |path: &Path, reason: String| RestoreError::Write {
        path: path.to_path_buf(),
        reason,
    };
    if staging.exists() {
        // Left by an interrupted restore.
        std::fs::remove_dir_all(staging).map_err(|e| failed(staging, e.to_string()))?;
    }
    rswarm_rt::private::create_dir_all(staging).map_err(|e| failed(staging, e.to_string()))?;
    let swarm = paths.swarm();
    let certs = staging.join(relative(&paths.certificates(), &swarm));
    identity
        .save(&certs)
        .map_err(|e| failed(&certs, e.to_string()))?;
    let raft = staging.join(relative(&paths.raft(), &swarm));
    backup
        .restore_into(&raft, me)
        .map_err(|e| failed(&raft, e.to_string()))?;
    let state = staging.join(relative(&paths.state_file(), &swarm));
    let json = serde_json::to_vec_pretty(config).map_err(|e| failed(&state, e.to_string()))?;
    write_atomic(&state, &json).map_err(|e| failed(&state, e.to_string()))?;
    std::fs::rename(staging, &swarm).map_err(|e| failed(&swarm, e.to_string()))
}

/// `path` below `base` (the data root layout, relative to `swarm/`).
fn relative(path: &Path, base: &Path) -> PathBuf {
    path.strip_prefix(base).unwrap_or(path).to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_a_backup_writes_nothing() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("backup.bin");
        std::fs::write(&file, b"hello").expect("write");
        let root = dir.path().join("root");
        let err = restore(&RestoreOptions {
            file: file.clone(),
            data_root: root.clone(),
            ..Default::default()
        })
        .expect_err("refused");
        assert!(err.to_string().contains("not an rswarm backup"), "{err}");
        assert!(!root.exists(), "nothing created");
        let missing = restore(&RestoreOptions {
            file: dir.path().join("nope"),
            data_root: root.clone(),
            ..Default::default()
        })
        .expect_err("refused");
        assert!(
            missing.to_string().contains("cannot read backup file"),
            "{missing}"
        );
        assert!(!root.exists(), "nothing created");
    }
}
