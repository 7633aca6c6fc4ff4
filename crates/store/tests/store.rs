//! Store behaviour: transactions, versions, names, events, persistence.

use std::sync::Arc;

use rswarm_rt::SystemClock;
use rswarm_store::{Event, Kind, MemoryProposer, Object, RedbProposer, Store, StoreError};
use rswarm_types::{Service, Task};

fn service(id: &str, name: &str) -> Service {
    let mut s = Service {
        id: id.into(),
        ..Default::default()
    };
    s.spec.name = name.into();
    s
}

fn mem_store() -> Store {
    Store::open(Arc::new(MemoryProposer), Arc::new(SystemClock)).expect("open")
}

#[tokio::test]
async fn create_stamps_versions_and_publishes_events() {
    let store = mem_store();
    let mut rx = store.watch();
    store
        .update(|tx| {
            tx.create(Object::Service(service("s1", "web")))?;
            tx.create(Object::Task(Task {
                id: "t1".into(),
                service_id: "s1".into(),
                ..Default::default()
            }))
        })
        .await
        .expect("commit");
    let commit = rx.recv().await.expect("event");
    assert_eq!(commit.index, 1);
    assert_eq!(commit.events.len(), 2);
    assert!(
        matches!(&commit.events[0], Event::Created(Object::Service(s)) if s.meta.version.index == 1)
    );
    store.view(|t| {
        let s = t.service("s1").expect("service");
        assert_eq!(s.meta.version.index, 1);
        assert!(s.meta.created_at.timestamp() > 0);
        assert_eq!(t.tasks_of_service("s1").count(), 1);
        assert_eq!(t.service_by_name("WEB").map(|s| s.id.as_str()), Some("s1"));
    });
}

#[tokio::test]
async fn names_are_unique_case_insensitively_and_failed_tx_changes_nothing() {
    let store = mem_store();
    store
        .update(|tx| tx.create(Object::Service(service("s1", "web"))))
        .await
        .expect("first");
    let err = store
        .update(|tx| {
            tx.create(Object::Task(Task {
                id: "t9".into(),
                ..Default::default()
            }))?;
            tx.create(Object::Service(service("s2", "Web")))
        })
        .await
        .expect_err("conflict");
    assert_eq!(
        err,
        StoreError::NameConflict {
            kind: "service",
            name: "Web".into()
        }
    );
    store.view(|t| {
        assert_eq!(t.count(Kind::Service), 1);
        assert_eq!(
            t.count(Kind::Task),
            0,
            "the failed transaction wrote nothing"
        );
    });
    assert_eq!(store.index(), 1);
    // Renaming inside one transaction frees the old name.
    store
        .update(|tx| {
            let mut s = tx.service("s1").expect("s1");
            s.spec.name = "api".into();
            tx.update(Object::Service(s))?;
            tx.create(Object::Service(service("s2", "web")))
        })
        .await
        .expect("rename then reuse");
}

#[tokio::test]
async fn stale_versions_are_refused() {
    let store = mem_store();
    store
        .update(|tx| tx.create(Object::Service(service("s1", "web"))))
        .await
        .expect("create");
    let stale = store.view(|t| t.service("s1").cloned()).expect("s1");
    let mut fresh = stale.clone();
    fresh.spec.labels.insert("a".into(), "1".into());
    store
        .update(|tx| tx.update(Object::Service(fresh)))
        .await
        .expect("update");
    let err = store
        .update(|tx| tx.update(Object::Service(stale)))
        .await
        .expect_err("stale");
    assert_eq!(err, StoreError::SequenceConflict);
    assert_eq!(
        store.view(|t| t.service("s1").map(|s| s.meta.version.index)),
        Some(2)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn redb_persists_across_reopen() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("store.redb");
    {
        let store = Store::open(
            Arc::new(RedbProposer::open(&path).expect("db")),
            Arc::new(SystemClock),
        )
        .expect("open");
        store
            .update(|tx| tx.create(Object::Service(service("s1", "web"))))
            .await
            .expect("c1");
        store
            .update(|tx| {
                tx.create(Object::Task(Task {
                    id: "t1".into(),
                    service_id: "s1".into(),
                    ..Default::default()
                }))
            })
            .await
            .expect("c2");
        store
            .update(|tx| tx.delete(Kind::Task, "t1"))
            .await
            .expect("c3");
    }
    let store = Store::open(
        Arc::new(RedbProposer::open(&path).expect("db")),
        Arc::new(SystemClock),
    )
    .expect("reopen");
    assert_eq!(store.index(), 3);
    store.view(|t| {
        assert_eq!(t.service("s1").map(|s| s.spec.name.as_str()), Some("web"));
        assert_eq!(t.count(Kind::Task), 0);
        assert_eq!(t.tasks_of_service("s1").count(), 0);
    });
}

#[tokio::test]
async fn view_and_watch_has_no_gap() {
    let store = mem_store();
    let (count, mut rx) = store.view_and_watch(|t| t.count(Kind::Service));
    assert_eq!(count, 0);
    store
        .update(|tx| tx.create(Object::Service(service("s1", "web"))))
        .await
        .expect("create");
    assert_eq!(rx.recv().await.expect("event").index, 1);
}
