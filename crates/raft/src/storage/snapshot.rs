//! Snapshots: the store's tables as JSON, and the latest one kept in redb.

use redb::{Database, ReadableDatabase};
use rswarm_store::{Object, Tables};
use serde::{Deserialize, Serialize};

use crate::error::storage_err;
use crate::storage::db::{SNAPSHOT, SNAPSHOT_DATA, SNAPSHOT_META};
use crate::types::SnapshotMeta;

type Result<T> = std::result::Result<T, openraft::StorageError<u64>>;

/// What a snapshot's bytes hold.
#[derive(Serialize, Deserialize)]
struct Content {
    /// The store index (last commit that changed the tables).
    index: u64,
    /// Every object.
    objects: Vec<Object>,
}

/// The bytes of a snapshot of `tables` at store index `index`.
pub(crate) fn encode(tables: &Tables, index: u64) -> Result<Vec<u8>> {
    serde_json::to_vec(&Content {
        index,
        objects: tables.objects().collect(),
    })
    .map_err(storage_err)
}

/// The tables and store index a snapshot's bytes hold.
pub(crate) fn decode(bytes: &[u8]) -> Result<(Tables, u64)> {
    let c: Content = serde_json::from_slice(bytes).map_err(storage_err)?;
    Ok((Tables::from_objects(c.objects), c.index))
}

/// Keeps `meta` and `data` as the latest snapshot (replacing the previous).
pub(crate) fn save(db: &Database, meta: &SnapshotMeta, data: &[u8]) -> Result<()> {
    let meta = serde_json::to_vec(meta).map_err(storage_err)?;
    let tx = db.begin_write().map_err(storage_err)?;
    {
        let mut table = tx.open_table(SNAPSHOT).map_err(storage_err)?;
        table
            .insert(SNAPSHOT_META, meta.as_slice())
            .map_err(storage_err)?;
        table.insert(SNAPSHOT_DATA, data).map_err(storage_err)?;
    }
    tx.commit().map_err(storage_err)
}

/// The latest snapshot, if one was taken or installed.
pub(crate) fn load(db: &Database) -> Result<Option<(SnapshotMeta, Vec<u8>)>> {
    let tx = db.begin_read().map_err(storage_err)?;
    let table = tx.open_table(SNAPSHOT).map_err(storage_err)?;
    let meta = match table.get(SNAPSHOT_META).map_err(storage_err)? {
        Some(v) => serde_json::from_slice(v.value()).map_err(storage_err)?,
        None => return Ok(None),
    };
    let data = table
        .get(SNAPSHOT_DATA)
        .map_err(storage_err)?
        .map(|v| v.value().to_vec())
        .unwrap_or_default();
    Ok(Some((meta, data)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_types::Service;

    #[test]
    fn tables_round_trip() {
        let mut s = Service {
            id: "s1".into(),
            ..Default::default()
        };
        s.spec.name = "web".into();
        s.meta.version.index = 7;
        let tables = Tables::from_objects([Object::Service(s)]);
        let bytes = encode(&tables, 7).expect("encode");
        let (back, index) = decode(&bytes).expect("decode");
        assert_eq!(index, 7);
        assert_eq!(
            back.objects().collect::<Vec<_>>(),
            tables.objects().collect::<Vec<_>>()
        );
        assert!(back.service_by_name("WEB").is_some(), "indexes rebuilt");
        assert!(decode(b"not json").is_err());
    }
}
