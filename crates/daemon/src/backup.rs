//! `rswarm swarm backup` on the daemon side (`GET /swarm/backup`): an
//! online, consistent copy of this manager's store (leader or follower)
//! in the backup file format of [`rswarm_raft::Backup`]. It holds the CA
//! key: the CLI writes it owner-only.

use rswarm_types::ControlError;

use crate::node::LocalNode;

impl LocalNode {
    /// The bytes of a backup file of the swarm as this manager holds it.
    pub async fn backup(&self) -> Result<Vec<u8>, ControlError> {
        let raft = match self.membership.lock().await.as_ref() {
            None => return Err(ControlError::NotAManager),
            Some(active) => active
                .manager
                .as_ref()
                .ok_or(ControlError::WorkerNotManager)?
                .raft()
                .cloned()
                .ok_or_else(|| ControlError::Internal("this manager has no Raft store".into()))?,
        };
        let backup = raft
            .backup(self.clock.now())
            .await
            .map_err(|e| ControlError::Unavailable(format!("backup: {e}")))?;
        tracing::info!(
            "swarm backup taken at raft index {} ({} objects)",
            backup.last_log_id.index,
            backup.tables.objects().count()
        );
        let bytes = tokio::task::spawn_blocking(move || backup.encode())
            .await
            .map_err(|e| ControlError::Internal(format!("backup: {e}")))?
            .map_err(|e| ControlError::Internal(format!("backup: {e}")))?;
        Ok(bytes)
    }
}
