//! Local durability: every commit is written to a redb file before it is
//! applied, so a restarted manager loses nothing it acknowledged.
//!
//! Layout: one table per kind (`id → JSON`), and `meta["index"]`.

use std::path::Path;

use async_trait::async_trait;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use crate::{Action, Kind, Object, Proposer, StoreError, Tables};

/// Page cache of the database file.
const CACHE_BYTES: usize = 8 * 1024 * 1024;

const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const OBJECTS: [(Kind, TableDefinition<&str, &[u8]>); 4] = [
    (Kind::Cluster, TableDefinition::new("clusters")),
    (Kind::Node, TableDefinition::new("nodes")),
    (Kind::Service, TableDefinition::new("services")),
    (Kind::Task, TableDefinition::new("tasks")),
];

fn table(kind: Kind) -> TableDefinition<'static, &'static str, &'static [u8]> {
    OBJECTS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, t)| *t)
        .unwrap_or(OBJECTS[0].1)
}

/// A proposer that persists commits to a local redb database.
#[derive(Debug)]
pub struct RedbProposer {
    db: Database,
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Propose(e.to_string())
}

impl RedbProposer {
    /// Opens (or creates) the database file.
    pub fn open(path: &Path) -> Result<RedbProposer, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        // redb caches up to 1 GiB by default; the whole cluster state is a
        // few MiB and lives in memory anyway.
        let db = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(err)?;
        Ok(RedbProposer { db })
    }

    fn write(&self, index: u64, actions: &[Action]) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(err)?;
        {
            for action in actions {
                match action {
                    Action::Create(obj) | Action::Update(obj) => {
                        let mut t = tx.open_table(table(obj.kind())).map_err(err)?;
                        let bytes = serde_json::to_vec(obj).map_err(err)?;
                        t.insert(obj.id(), bytes.as_slice()).map_err(err)?;
                    }
                    Action::Delete(kind, id) => {
                        let mut t = tx.open_table(table(*kind)).map_err(err)?;
                        t.remove(id.as_str()).map_err(err)?;
                    }
                }
            }
            let mut meta = tx.open_table(META).map_err(err)?;
            meta.insert("index", index).map_err(err)?;
        }
        tx.commit().map_err(err)
    }
}

#[async_trait]
impl Proposer for RedbProposer {
    async fn propose(&self, index: u64, actions: &[Action]) -> Result<(), StoreError> {
        tokio::task::block_in_place(|| self.write(index, actions))
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
