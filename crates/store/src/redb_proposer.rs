//! Local durability: every commit is written to a redb file before it is
//! applied, so a restarted manager loses nothing it acknowledged.
//!
//! Layout: one table per kind (`id → JSON`), and `meta["index"]`.

use std::path::Path;

use async_trait::async_trait;
use std::sync::Arc;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use tokio::sync::oneshot;

use crate::{Action, Kind, Object, Proposer, StoreError, Tables};

/// Page cache of the database file.
const CACHE_BYTES: usize = 8 * 1024 * 1024;

const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const OBJECTS: [(Kind, TableDefinition<&str, &[u8]>); 5] = [
    (Kind::Cluster, TableDefinition::new("clusters")),
    (Kind::Node, TableDefinition::new("nodes")),
    (Kind::Service, TableDefinition::new("services")),
    (Kind::Task, TableDefinition::new("tasks")),
    (Kind::Network, TableDefinition::new("networks")),
];

fn table(kind: Kind) -> TableDefinition<'static, &'static str, &'static [u8]> {
    OBJECTS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, t)| *t)
        .unwrap_or(OBJECTS[0].1)
}

/// A proposer that persists commits to a local redb database. Writes run
/// on one dedicated thread (redb allows one writer at a time, and each
/// commit fsyncs), so the async runtime never blocks on the disk.
#[derive(Debug)]
pub struct RedbProposer {
    db: Arc<Database>,
    writer: Option<std::sync::mpsc::Sender<WriteJob>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for RedbProposer {
    /// Stops the writer thread and waits for it, so the file is closed
    /// (and can be reopened) when the proposer is gone.
    fn drop(&mut self) {
        self.writer.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One commit for the writer thread: rows already serialized.
struct WriteJob {
    index: u64,
    rows: Vec<(Kind, String, Option<Vec<u8>>)>,
    done: oneshot::Sender<Result<(), StoreError>>,
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Propose(e.to_string())
}

impl RedbProposer {
    /// Opens (or creates) the database file and starts its writer thread.
    pub fn open(path: &Path) -> Result<RedbProposer, StoreError> {
        if let Some(dir) = path.parent() {
            rswarm_rt::private::create_dir_all(dir).map_err(err)?;
        }
        // The file holds the cluster CA's key: create it owner-only before
        // redb opens it (redb would create it with the umask's mode).
        rswarm_rt::private::file_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(err)?;
        // redb caches up to 1 GiB by default; the whole cluster state is a
        // few MiB and lives in memory anyway.
        let db = Arc::new(
            redb::Builder::new()
                .set_cache_size(CACHE_BYTES)
                .create(path)
                .map_err(err)?,
        );
        let (writer, jobs) = std::sync::mpsc::channel::<WriteJob>();
        let thread_db = db.clone();
        let thread = std::thread::Builder::new()
            .name("rswarm-store-writer".into())
            .spawn(move || {
                for job in jobs {
                    let _ = job.done.send(write(&thread_db, job.index, &job.rows));
                }
            })
            .map_err(err)?;
        Ok(RedbProposer {
            db,
            writer: Some(writer),
            thread: Some(thread),
        })
    }
}

fn write(
    db: &Database,
    index: u64,
    rows: &[(Kind, String, Option<Vec<u8>>)],
) -> Result<(), StoreError> {
    let tx = db.begin_write().map_err(err)?;
    {
        for (kind, id, bytes) in rows {
            let mut t = tx.open_table(table(*kind)).map_err(err)?;
            match bytes {
                Some(b) => {
                    t.insert(id.as_str(), b.as_slice()).map_err(err)?;
                }
                None => {
                    t.remove(id.as_str()).map_err(err)?;
                }
            }
        }
        let mut meta = tx.open_table(META).map_err(err)?;
        meta.insert("index", index).map_err(err)?;
    }
    tx.commit().map_err(err)
}

#[async_trait]
impl Proposer for RedbProposer {
    async fn propose(&self, index: u64, actions: &[Action]) -> Result<(), StoreError> {
        let mut rows = Vec::with_capacity(actions.len());
        for action in actions {
            rows.push(match action {
                Action::Create(obj) | Action::Update(obj) => (
                    obj.kind(),
                    obj.id().to_string(),
                    Some(serde_json::to_vec(obj).map_err(err)?),
                ),
                Action::Delete(kind, id) => (*kind, id.clone(), None),
            });
        }
        let (done, result) = oneshot::channel();
        let stopped = || StoreError::Propose("the store writer thread stopped".into());
        self.writer
            .as_ref()
            .ok_or_else(stopped)?
            .send(WriteJob { index, rows, done })
            .map_err(|_| StoreError::Propose("the store writer thread stopped".into()))?;
        result
            .await
            .map_err(|_| StoreError::Propose("the store writer thread stopped".into()))?
    }

    fn load(&self) -> Result<(Tables, u64), StoreError> {
        let tx = self.db.begin_read().map_err(err)?;
        let mut tables = Tables::default();
        for (_, def) in OBJECTS {
            let t = match tx.open_table(def) {
                Ok(t) => t,
                Err(redb::TableError::TableDoesNotExist(_)) => continue,
                Err(e) => return Err(err(e)),
            };
            for row in t.iter().map_err(err)? {
                let (_, v) = row.map_err(err)?;
                let obj: Object = serde_json::from_slice(v.value()).map_err(err)?;
                tables.insert(obj);
            }
        }
        let index = match tx.open_table(META) {
            Ok(t) => t.get("index").map_err(err)?.map(|v| v.value()).unwrap_or(0),
            Err(redb::TableError::TableDoesNotExist(_)) => 0,
            Err(e) => return Err(err(e)),
        };
        Ok((tables, index))
    }
}
