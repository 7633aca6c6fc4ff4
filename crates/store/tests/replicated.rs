//! The replicated path of the store: writes come back through
//! `apply_committed`, entries are checked again at apply time, snapshots
//! install as one diff commit.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rswarm_rt::SystemClock;
use rswarm_store::{
    Action, Event, Kind, NO_LEADER, Object, Proposal, Replicator, Store, StoreError, Tables,
};
use rswarm_types::Service;

fn service(id: &str, name: &str) -> Service {
    let mut s = Service {
        id: id.into(),
        ..Default::default()
    };
    s.spec.name = name.into();
    s
}

/// A log that commits at once, skipping one index per entry (as Raft's
/// blank and membership entries do), and can refuse writes.
#[derive(Debug, Default)]
struct InstantLog {
    store: Mutex<Option<Store>>,
    last: AtomicU64,
    refuse: AtomicBool,
    proposals: Mutex<Vec<Proposal>>,
}

#[async_trait]
impl Replicator for InstantLog {
    async fn ready(&self) -> Result<(), StoreError> {
        if self.refuse.load(Ordering::SeqCst) {
            return Err(StoreError::NoLeader);
        }
        Ok(())
    }

    async fn replicate(&self, proposal: Proposal) -> Result<u64, StoreError> {
        let index = self.last.fetch_add(2, Ordering::SeqCst) + 2;
        self.proposals.lock().expect("lock").push(proposal.clone());
        let store = self.store.lock().expect("lock").clone().expect("store");
        store.apply_committed(index, proposal)?;
        Ok(index)
    }
}

fn replicated() -> (Store, Arc<InstantLog>) {
    let store = Store::replicated(Tables::default(), 0, Arc::new(SystemClock));
    let log = Arc::new(InstantLog::default());
    *log.store.lock().expect("lock") = Some(store.clone());
    assert!(store.attach_replicator(log.clone()));
    assert!(!store.attach_replicator(log.clone()), "attached once");
    (store, log)
}

#[tokio::test]
async fn without_a_replicator_writes_fail_with_the_quorum_message() {
    let store = Store::replicated(Tables::default(), 0, Arc::new(SystemClock));
    let err = store
        .update(|tx| tx.create(Object::Service(service("s1", "web"))))
        .await
        .expect_err("no replicator");
    assert_eq!(err, StoreError::NoLeader);
    assert_eq!(err.to_string(), NO_LEADER);
    assert!(matches!(
        rswarm_types::ControlError::from(err),
        rswarm_types::ControlError::Unavailable(m) if m == NO_LEADER
    ));
}

#[tokio::test]
async fn writes_are_applied_through_the_log_with_its_index_as_version() {
    let (store, log) = replicated();
    let mut rx = store.watch();
    store
        .update(|tx| tx.create(Object::Service(service("s1", "web"))))
        .await
        .expect("create");
    let commit = rx.recv().await.expect("commit");
    assert_eq!(commit.index, 2, "the log's index, not the store's next");
    assert_eq!(store.index(), 2);
    let s = store.view(|t| t.service("s1").cloned()).expect("s1");
    assert_eq!(s.meta.version.index, 2);
    assert!(s.meta.created_at.timestamp() > 0, "times stamped");
    // The proposal carried the base version (0), not a stamped one.
    let sent = log.proposals.lock().expect("lock")[0].clone();
    assert!(matches!(&sent.actions[0], Action::Create(o) if o.meta().version.index == 0));

    let mut fresh = s.clone();
    fresh.spec.labels.insert("a".into(), "1".into());
    store
        .update(|tx| tx.update(Object::Service(fresh)))
        .await
        .expect("update");
    assert_eq!(
        store.view(|t| t.service("s1").map(|s| s.meta.version.index)),
        Some(4)
    );
}

#[tokio::test]
async fn a_refusing_log_runs_no_transaction() {
    let (store, log) = replicated();
    log.refuse.store(true, Ordering::SeqCst);
    let mut ran = false;
    let err = store
        .update(|tx| {
            ran = true;
            tx.create(Object::Service(service("s1", "web")))
        })
        .await
        .expect_err("refused");
    assert_eq!(err, StoreError::NoLeader);
    assert!(!ran, "the closure never ran");
    assert_eq!(store.view(|t| t.count(Kind::Service)), 0);
}

#[tokio::test]
async fn a_stale_entry_is_applied_as_a_no_op_everywhere() {
    let (store, _log) = replicated();
    store
        .update(|tx| tx.create(Object::Service(service("s1", "web"))))
        .await
        .expect("create");
    let base = store.view(|t| t.service("s1").cloned()).expect("s1");
    // Two entries proposed from the same base: the second one, applied
    // after the first, no longer fits.
    let mut a = base.clone();
    a.spec.labels.insert("by".into(), "a".into());
    let mut b = base.clone();
    b.spec.labels.insert("by".into(), "b".into());
    let mut rx = store.watch();
    store
        .apply_committed(
            10,
            Proposal {
                actions: vec![Action::Update(Object::Service(a))],
            },
        )
        .expect("first fits");
    let err = store
        .apply_committed(
            11,
            Proposal {
                actions: vec![
                    Action::Create(Object::Service(service("s2", "other"))),
                    Action::Update(Object::Service(b)),
                ],
            },
        )
        .expect_err("second is stale");
    assert_eq!(err, StoreError::SequenceConflict);
    assert_eq!(rx.recv().await.expect("first").index, 10);
    assert!(rx.try_recv().is_err(), "the no-op published nothing");
    store.view(|t| {
        let s = t.service("s1").expect("s1");
        assert_eq!(s.spec.labels.get("by").map(String::as_str), Some("a"));
        assert_eq!(s.meta.version.index, 10);
        assert!(t.service("s2").is_none(), "nothing of the stale entry");
    });
    assert_eq!(store.index(), 10);
}

#[tokio::test]
async fn an_installed_snapshot_is_published_as_its_difference() {
    let (store, _log) = replicated();
    store
        .update(|tx| {
            tx.create(Object::Service(service("s1", "web")))?;
            tx.create(Object::Service(service("s2", "api")))
        })
        .await
        .expect("create");
    let (mut next, index) = store.snapshot();
    assert_eq!(index, 2);
    let mut s2 = next.service("s2").cloned().expect("s2");
    s2.spec.labels.insert("x".into(), "y".into());
    next = Tables::from_objects(
        next.objects()
            .filter(|o| o.id() != "s1" && o.id() != "s2")
            .chain([Object::Service(s2), Object::Service(service("s3", "db"))]),
    );
    let mut rx = store.watch();
    store.install(next, 9);
    let commit = rx.recv().await.expect("diff");
    assert_eq!(commit.index, 9);
    let mut seen: Vec<(&str, &str)> = commit
        .events
        .iter()
        .map(|e| match e {
            Event::Created(o) => ("created", o.id()),
            Event::Updated { new, .. } => ("updated", new.id()),
            Event::Deleted(o) => ("deleted", o.id()),
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![("created", "s3"), ("deleted", "s1"), ("updated", "s2")]
    );
    assert_eq!(store.index(), 9);
    assert_eq!(
        store.view(|t| t.service_by_name("db").map(|s| s.id.clone())),
        Some("s3".into())
    );
}
