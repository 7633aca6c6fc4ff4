//! Backups of the cluster store (`rswarm swarm backup` / `swarm
//! restore`; Docker Swarm has neither): an online, consistent copy of a
//! manager's tables, and a new one-manager Raft state built from it.
//!
//! File format, version 1 (all integers big-endian):
//!
//! ```text
//!  "RSWARMBK"             8 bytes, magic
//!  version                u16 (1)
//!  body length            u64
//!  body                   JSON: created, cluster_id, source {node_id, addr},
//!                         last_log_id (Raft term, leader, index), store_index,
//!                         objects (cluster with CA key and join tokens, nodes,
//!                         services, tasks, ...)
//!  SHA-256                32 bytes, of everything before it
//! ```
//!
//! The copy is a committed prefix of the log: the tables are cloned under
//! the store's lock between two applies, on the leader or on a follower.

use std::path::Path;
use std::time::{Duration, Instant};

use rswarm_store::{Kind, Object, Tables};
use rswarm_types::{Cluster, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::error::RaftNodeError;
use crate::node::RaftNode;
use crate::one_member;
use crate::storage::db::{self, VOTE};
use crate::storage::{DB_FILE, write_meta};
use crate::types::{LogId, Peer};

/// The first bytes of every backup file.
pub const BACKUP_MAGIC: &[u8; 8] = b"RSWARMBK";
/// The format version this build writes and reads.
pub const BACKUP_VERSION: u16 = 1;
const HEADER_LEN: usize = 8 + 2 + 8;
const SUM_LEN: usize = 32;

/// Why a file is not a usable backup. Each says what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum BackupError {
    /// Shorter than a header.
    #[error("not an rswarm backup: the file is {0} bytes long, shorter than a backup header")]
    TooShort(usize),
    /// Wrong magic.
    #[error("not an rswarm backup: the file does not start with \"RSWARMBK\"")]
    NotABackup,
    /// Another format version.
    #[error("unsupported backup format version {0} (this rswarm reads version 1)")]
    Version(u16),
    /// Fewer bytes than the header announces.
    #[error(
        "the backup is truncated: its header announces {expected} bytes of state and a checksum, the file has {actual} bytes after the header"
    )]
    Truncated {
        /// Body plus checksum, as announced.
        expected: u64,
        /// What the file holds after the header.
        actual: u64,
    },
    /// More bytes than the header announces.
    #[error("the backup has {0} unexpected bytes after its checksum")]
    Trailing(u64),
    /// The checksum does not match the content.
    #[error("the backup is corrupted: its SHA-256 checksum does not match its content")]
    Checksum,
    /// The body does not parse.
    #[error("the backup's state is malformed: {0}")]
    Malformed(String),
    /// The body has no cluster object (nothing to restore a swarm from).
    #[error("the backup holds no cluster object")]
    NoCluster,
}

/// A consistent copy of the cluster store.
#[derive(Clone, Debug)]
pub struct Backup {
    /// When it was taken.
    pub created: Timestamp,
    /// The manager it was taken from.
    pub source: Peer,
    /// The last Raft entry it includes.
    pub last_log_id: LogId,
    /// The store index of its tables.
    pub store_index: u64,
    /// Every object.
    pub tables: Tables,
}

/// The JSON body of the file.
#[derive(Serialize, Deserialize)]
struct Body {
    created: Timestamp,
    cluster_id: String,
    source: Peer,
    last_log_id: LogId,
    store_index: u64,
    objects: Vec<Object>,
}

impl Backup {
    /// The cluster object (CA, join tokens, spec).
    pub fn cluster(&self) -> Option<&Cluster> {
        self.tables.cluster()
    }

    /// Counts of the main kinds of objects, for reports.
    pub fn count(&self, kind: Kind) -> usize {
        self.tables.count(kind)
    }

    /// The file's bytes.
    pub fn encode(&self) -> Result<Vec<u8>, BackupError> {
        let body = Body {
            created: self.created,
            cluster_id: self.cluster().map(|c| c.id.clone()).unwrap_or_default(),
            source: self.source.clone(),
            last_log_id: self.last_log_id,
            store_index: self.store_index,
            objects: self.tables.objects().collect(),
        };
        let body = serde_json::to_vec(&body).map_err(|e| BackupError::Malformed(e.to_string()))?;
        let mut out = Vec::with_capacity(HEADER_LEN + body.len() + SUM_LEN);
        out.extend_from_slice(BACKUP_MAGIC);
        out.extend_from_slice(&BACKUP_VERSION.to_be_bytes());
        out.extend_from_slice(&(body.len() as u64).to_be_bytes());
        out.extend_from_slice(&body);
        let sum = Sha256::digest(&out);
        out.extend_from_slice(&sum);
        Ok(out)
    }

    /// Reads a file's bytes, checking magic, version, length and checksum.
    pub fn decode(bytes: &[u8]) -> Result<Backup, BackupError> {
        if bytes.len() < BACKUP_MAGIC.len() {
            return Err(BackupError::TooShort(bytes.len()));
        }
        if &bytes[..8] != BACKUP_MAGIC {
            return Err(BackupError::NotABackup);
        }
        if bytes.len() < HEADER_LEN {
            return Err(BackupError::TooShort(bytes.len()));
        }
        let version = u16::from_be_bytes([bytes[8], bytes[9]]);
        if version != BACKUP_VERSION {
            return Err(BackupError::Version(version));
        }
        let mut len = [0u8; 8];
        len.copy_from_slice(&bytes[10..HEADER_LEN]);
        let body_len = u64::from_be_bytes(len);
        let expected = body_len.saturating_add(SUM_LEN as u64);
        let actual = (bytes.len() - HEADER_LEN) as u64;
        if actual < expected {
            return Err(BackupError::Truncated { expected, actual });
        }
        if actual > expected {
            return Err(BackupError::Trailing(actual - expected));
        }
        let end = bytes.len() - SUM_LEN;
        if Sha256::digest(&bytes[..end]).as_slice() != &bytes[end..] {
            return Err(BackupError::Checksum);
        }
        let body: Body = serde_json::from_slice(&bytes[HEADER_LEN..end])
            .map_err(|e| BackupError::Malformed(e.to_string()))?;
        let tables = Tables::from_objects(body.objects);
        match tables.cluster() {
            None => return Err(BackupError::NoCluster),
            Some(c) if c.id != body.cluster_id => {
                return Err(BackupError::Malformed(format!(
                    "the cluster object {} is not the backup's cluster {}",
                    c.id, body.cluster_id
                )));
            }
            Some(_) => {}
        }
        Ok(Backup {
            created: body.created,
            source: body.source,
            last_log_id: body.last_log_id,
            store_index: body.store_index,
            tables,
        })
    }

    /// Writes a new Raft state into `dir` (`<data-root>/swarm/raft`, which
    /// must not hold one yet): this backup's tables as a one-member
    /// cluster whose only manager is `me`. Starting a manager over it
    /// serves the restored swarm.
    pub fn restore_into(&self, dir: &Path, me: &Peer) -> Result<(), RaftNodeError> {
        if dir.join(DB_FILE).exists() {
            return Err(RaftNodeError::Storage(format!(
                "{} already holds a Raft state",
                dir.display()
            )));
        }
        let storage = |e: openraft::StorageError<u64>| RaftNodeError::Storage(e.to_string());
        let (database, _closed) = db::open(dir)?;
        // A new identity for the log position: the restored manager leads
        // from the next term on, above every index the backup holds.
        let term = self.last_log_id.leader_id.term;
        let index = self.last_log_id.index.max(self.store_index);
        let last =
            openraft::LogId::new(openraft::CommittedLeaderId::new(term, me.raft_id()), index);
        one_member::write(
            &database,
            me,
            last,
            &self.tables,
            self.store_index,
            "restored",
        )?;
        write_meta(&database, VOTE, &openraft::Vote::new(term, me.raft_id())).map_err(storage)
    }
}

impl RaftNode {
    /// An online, consistent copy of this manager's store (leader or
    /// follower): the tables as of the last entry applied here, after
    /// catching up with what the leader had committed when it was asked
    /// (see `catch_up`), so it holds every write acknowledged
    /// before. Without a leader it copies what this manager has.
    pub async fn backup(&self, created: Timestamp) -> Result<Backup, RaftNodeError> {
        self.catch_up().await;
        let (tables, store_index) = self.inner.store.snapshot();
        let applied = self.inner.raft.metrics().borrow().last_applied;
        let Some(applied) = applied else {
            return Err(RaftNodeError::Storage(
                "this manager has not applied any state yet".into(),
            ));
        };
        if tables.cluster().is_none() {
            return Err(RaftNodeError::Storage(
                "this manager holds no cluster object yet".into(),
            ));
        }
        let last_log_id = openraft::LogId::new(applied.leader_id, applied.index.max(store_index));
        Ok(Backup {
            created,
            source: self.inner.me.clone(),
            last_log_id,
            store_index,
            tables,
        })
    }

    /// Waits (at most about two election timeouts) until this manager has
    /// applied what the leader had committed when called. The leader
    /// confirms its commit point with a quorum; a follower waits for two
    /// messages from the leader received after the call (the second one
    /// was sent after the call, carrying the leader's commit point and the
    /// entries this follower misses), then until it has applied every
    /// entry it holds by then.
    async fn catch_up(&self) {
        let window = self.inner.timing.election_timeout_max;
        let raft = &self.inner.raft;
        if self.is_leader() {
            if tokio::time::timeout(window, raft.ensure_linearizable())
                .await
                .is_err()
            {
                tracing::warn!("backup: the leader's quorum did not answer; copying what it has");
            }
            return;
        }
        let start = Instant::now();
        let Some(leader) = raft.metrics().borrow().current_leader else {
            tracing::warn!("backup: no leader known; copying what this manager has");
            return;
        };
        let mut heard = 0;
        let mut seen = start;
        while heard < 2 && start.elapsed() < window {
            if let Some(t) = self.inner.contacts.last_heard(leader).filter(|t| *t > seen) {
                heard += 1;
                seen = t;
            }
            tokio::time::sleep(POLL).await;
        }
        let target = raft.metrics().borrow().last_log_index;
        let mut metrics = raft.metrics();
        let applied = metrics.wait_for(|m| m.last_applied.map(|l| l.index) >= target);
        if heard < 2 || tokio::time::timeout(window, applied).await.is_err() {
            tracing::warn!("backup: not caught up with the leader; copying what this manager has");
        }
    }
}

/// How often a follower's backup looks for news from the leader.
const POLL: Duration = Duration::from_millis(10);

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_types::Service;

    fn sample() -> Backup {
        let cluster = Cluster {
            id: "c1".into(),
            ..Default::default()
        };
        let mut s = Service {
            id: "s1".into(),
            ..Default::default()
        };
        s.spec.name = "web".into();
        s.meta.version.index = 7;
        Backup {
            created: Timestamp::default(),
            source: Peer::new("n1", "127.0.0.1:2377"),
            last_log_id: openraft::LogId::new(openraft::CommittedLeaderId::new(3, 9), 8),
            store_index: 7,
            tables: Tables::from_objects([Object::Cluster(cluster), Object::Service(s)]),
        }
    }

    #[test]
    fn round_trip() {
        let bytes = sample().encode().expect("encode");
        assert_eq!(&bytes[..8], BACKUP_MAGIC);
        let back = Backup::decode(&bytes).expect("decode");
        assert_eq!(back.source, Peer::new("n1", "127.0.0.1:2377"));
        assert_eq!((back.last_log_id.index, back.store_index), (8, 7));
        assert_eq!(back.cluster().map(|c| c.id.as_str()), Some("c1"));
        assert!(back.tables.service_by_name("web").is_some());
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let good = sample().encode().expect("encode");
        assert_eq!(Backup::decode(b"").err(), Some(BackupError::TooShort(0)));
        assert_eq!(
            Backup::decode(b"{\"not\": \"a backup\"}").err(),
            Some(BackupError::NotABackup)
        );
        assert_eq!(
            Backup::decode(&good[..12]).err(),
            Some(BackupError::TooShort(12))
        );
        let mut v2 = good.clone();
        v2[9] = 2;
        assert_eq!(Backup::decode(&v2).err(), Some(BackupError::Version(2)));
        let cut = &good[..good.len() - 100];
        assert!(matches!(
            Backup::decode(cut).err(),
            Some(BackupError::Truncated { actual, expected }) if expected - actual == 100
        ));
        let mut longer = good.clone();
        longer.push(0);
        assert_eq!(
            Backup::decode(&longer).err(),
            Some(BackupError::Trailing(1))
        );
        let mut flipped = good.clone();
        flipped[HEADER_LEN + 3] ^= 1;
        assert_eq!(Backup::decode(&flipped).err(), Some(BackupError::Checksum));
        let mut no_cluster = sample();
        no_cluster.tables = Tables::default();
        let bytes = no_cluster.encode().expect("encode");
        assert_eq!(Backup::decode(&bytes).err(), Some(BackupError::NoCluster));
        assert!(
            BackupError::Checksum.to_string().contains("corrupted"),
            "messages name the problem"
        );
    }

    #[test]
    fn restore_writes_a_one_member_state_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let raft_dir = dir.path().join("raft");
        let me = Peer::new("n1", "127.0.0.1:2377");
        let b = sample();
        b.restore_into(&raft_dir, &me).expect("restore");
        let (database, _) = db::open(&raft_dir).expect("open");
        let (meta, data) = crate::storage::snapshot::load(&database)
            .expect("load")
            .expect("a snapshot");
        assert_eq!(meta.last_log_id.map(|l| l.index), Some(8));
        let voters: Vec<u64> = meta.last_membership.membership().voter_ids().collect();
        assert_eq!(voters, vec![me.raft_id()]);
        let (tables, index) = crate::storage::snapshot::decode(&data).expect("decode");
        assert_eq!(index, 7);
        assert!(tables.service_by_name("web").is_some());
        drop(database);
        assert!(matches!(
            b.restore_into(&raft_dir, &me),
            Err(RaftNodeError::Storage(m)) if m.contains("already holds")
        ));
    }
}
