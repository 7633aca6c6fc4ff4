//! A manager's Raft node: opening it over its directory, the replicated
//! store it serves, leadership, and shutting it down.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use openraft::error::{CheckIsLeaderError, ForwardToLeader, RaftError};
use openraft::{Membership, ServerState};
use redb::Database;
use rswarm_proto::raft::raft_server::RaftServer;
use rswarm_rt::Clock;
use rswarm_store::{Store, Tables};
use rswarm_tls::NodeIdentity;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::RaftTiming;
use crate::contacts::Contacts;
use crate::error::RaftNodeError;
use crate::leadership::{self, Leadership};
use crate::network::{MAX_MESSAGE_BYTES, Network};
use crate::replicator::NodeReplicator;
use crate::service::RaftService;
use crate::storage::{LogStore, StateMachine, db, snapshot};
use crate::types::{LogId, Peer, Raft, StoredMembership};
use crate::{Member, Reachability, compaction, force_new_cluster};

/// What a manager's Raft node needs to start.
#[derive(Clone, Debug)]
pub struct RaftNodeConfig {
    /// `<data-root>/swarm/raft`: created (owner-only) if missing.
    pub dir: PathBuf,
    /// The address other managers reach this one's Raft service at
    /// (`host:port` of the swarm port).
    pub addr: String,
    /// This manager's certificate (CN node ID, OU swarm-manager, O cluster
    /// ID): the TLS client identity and the cluster Raft traffic must
    /// belong to.
    pub identity: NodeIdentity,
    /// Timing and compaction.
    pub timing: RaftTiming,
    /// Turn the local state into a one-manager cluster before starting
    /// (`swarm init --force-new-cluster`): everything committed is kept,
    /// every other member is dropped.
    pub force_new_cluster: bool,
}

/// A manager's Raft node. Cheap to clone; see the crate doc for the API.
#[derive(Clone, Debug)]
pub struct RaftNode {
    pub(crate) inner: Arc<NodeInner>,
}

pub(crate) struct NodeInner {
    pub(crate) raft: Raft,
    pub(crate) store: Store,
    pub(crate) me: Peer,
    pub(crate) cluster_id: String,
    pub(crate) timing: RaftTiming,
    pub(crate) network: Network,
    pub(crate) contacts: Contacts,
    leadership: watch::Receiver<Leadership>,
    monitor: JoinHandle<()>,
    /// Snapshots and purges as the swarm spec says.
    compactor: JoinHandle<()>,
    /// Turns true once the database is closed.
    db_closed: watch::Receiver<bool>,
}

impl std::fmt::Debug for NodeInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RaftNode")
            .field("me", &self.me)
            .field("cluster_id", &self.cluster_id)
            .finish_non_exhaustive()
    }
}

impl Drop for NodeInner {
    fn drop(&mut self) {
        self.monitor.abort();
        self.compactor.abort();
    }
}

/// How long `shutdown` waits for openraft's tasks to release the database.
const RELEASE_WAIT: Duration = Duration::from_secs(10);

/// The state the latest snapshot holds (empty without one).
fn restore(db: &Database) -> Result<(Tables, u64, Option<LogId>, StoredMembership), RaftNodeError> {
    let storage = |e: openraft::StorageError<u64>| RaftNodeError::Storage(e.to_string());
    match snapshot::load(db).map_err(storage)? {
        Some((meta, data)) => {
            let (tables, index) = snapshot::decode(&data).map_err(storage)?;
            Ok((tables, index, meta.last_log_id, meta.last_membership))
        }
        None => Ok((
            Tables::default(),
            0,
            None,
            StoredMembership::new(None, Membership::new(vec![], ())),
        )),
    }
}

impl RaftNode {
    /// Opens the node over `config.dir` and starts it: it restores the
    /// latest snapshot, replays the committed log, and takes part in its
    /// cluster if it has one. A new node has none: call
    /// [`RaftNode::initialize`] (swarm init) or [`RaftNode::join`].
    pub async fn open(
        config: RaftNodeConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<RaftNode, RaftNodeError> {
        let me = Peer::new(config.identity.node_id.clone(), config.addr.clone());
        let cluster_id = config.identity.cluster_id.clone();
        let raft_config = Arc::new(config.timing.openraft_config(&cluster_id)?);
        let (database, db_closed) = db::open(&config.dir)?;
        if config.force_new_cluster {
            force_new_cluster::rewrite(&database, &me, clock.clone())?;
        }
        let (tables, index, last_applied, membership) = restore(&database)?;
        let store = Store::replicated(tables, index, clock);
        let sm = StateMachine::new(store.clone(), database.clone(), last_applied, membership);
        let log = LogStore::new(database.clone());
        let tls = rswarm_tls::client_config(&config.identity)
            .map_err(|e| RaftNodeError::Config(e.to_string()))?;
        let contacts = Contacts::default();
        let network = Network::new(tls, contacts.clone());
        drop(database);
        let raft = Raft::new(me.raft_id(), raft_config, network.clone(), log, sm)
            .await
            .map_err(|e| RaftNodeError::Raft(e.to_string()))?;
        let (leadership, monitor) =
            leadership::spawn(raft.clone(), me.clone(), config.timing.clone());
        let compactor = compaction::spawn(raft.clone(), store.clone(), &config.timing);
        let inner = Arc::new(NodeInner {
            raft,
            store: store.clone(),
            me,
            cluster_id,
            timing: config.timing,
            network,
            contacts,
            leadership,
            monitor,
            compactor,
            db_closed,
        });
        store.attach_replicator(Arc::new(NodeReplicator::new(Arc::downgrade(&inner))));
        Ok(RaftNode { inner })
    }

    /// The replicated store: hand it to the manager. Reads are local;
    /// `update` works on the leader (elsewhere it fails with
    /// `StoreError::NotLeader` / `NoLeader`) and returns once committed
    /// and applied.
    pub fn store(&self) -> Store {
        self.inner.store.clone()
    }

    /// The gRPC service to mount on the swarm port server (next to CA,
    /// Dispatcher, ...); it accepts only manager certificates of this
    /// cluster.
    pub fn service(&self) -> RaftServer<RaftService> {
        RaftServer::new(RaftService::new(self.clone()))
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }

    /// This manager as a member.
    pub fn me(&self) -> &Peer {
        &self.inner.me
    }

    /// The cluster this node belongs to (the O of its certificate).
    pub fn cluster_id(&self) -> &str {
        &self.inner.cluster_id
    }

    /// Openraft's handle, for metrics and what this API does not cover.
    pub fn raft(&self) -> &Raft {
        &self.inner.raft
    }

    /// Whether this manager leads with a quorum behind it.
    pub fn is_leader(&self) -> bool {
        self.inner.leadership.borrow().is_leader
    }

    /// The leader as this manager knows it.
    pub fn leader(&self) -> Option<Peer> {
        self.inner.leadership.borrow().leader.clone()
    }

    /// Leadership changes: start leader-only loops when `is_leader`
    /// becomes true, stop them when it becomes false.
    pub fn leadership(&self) -> watch::Receiver<Leadership> {
        self.inner.leadership.clone()
    }

    /// Waits (at most `within`) until `f` holds for the leadership.
    pub async fn wait_leadership(
        &self,
        within: Duration,
        f: impl FnMut(&Leadership) -> bool,
    ) -> Result<Leadership, RaftNodeError> {
        let mut rx = self.leadership();
        match tokio::time::timeout(within, rx.wait_for(f)).await {
            Ok(Ok(l)) => Ok(l.clone()),
            Ok(Err(_)) => Err(RaftNodeError::Stopped),
            Err(_) => Err(RaftNodeError::NoLeader),
        }
    }

    /// The members of the group (voters and learners) with reachability.
    pub fn members(&self) -> Vec<Member> {
        let m = self.inner.raft.metrics().borrow().clone();
        let membership = m.membership_config.membership();
        let voters: Vec<u64> = membership.voter_ids().collect();
        let window = self.inner.timing.election_timeout_max;
        membership
            .nodes()
            .map(|(id, peer)| Member {
                node_id: peer.node_id.clone(),
                addr: peer.addr.clone(),
                raft_id: *id,
                voter: voters.contains(id),
                leader: m.current_leader == Some(*id),
                reachability: if *id == self.inner.me.raft_id() {
                    Reachability::Reachable
                } else {
                    self.inner.contacts.reachability(*id, window)
                },
            })
            .collect()
    }

    /// Whether `node_id` can be removed (demote, leave, `node rm`) without
    /// losing quorum; see [`crate::can_remove`]. Meaningful on the leader.
    pub fn can_remove(&self, node_id: &str) -> Result<(), RaftNodeError> {
        crate::can_remove(&self.members(), node_id)
    }

    /// Stops the node: Raft stops, and once this returns the database is
    /// closed (the directory can be opened again). Writes through the
    /// store fail from now on.
    pub async fn shutdown(&self) -> Result<(), RaftNodeError> {
        self.inner.monitor.abort();
        self.inner.compactor.abort();
        self.inner
            .raft
            .shutdown()
            .await
            .map_err(|e| RaftNodeError::Raft(e.to_string()))?;
        let mut closed = self.inner.db_closed.clone();
        match tokio::time::timeout(RELEASE_WAIT, closed.wait_for(|c| *c)).await {
            Ok(_) => Ok(()),
            Err(_) => Err(RaftNodeError::Storage(
                "the raft database is still in use after shutdown".into(),
            )),
        }
    }

    /// The error for "not the leader", from openraft's forward hint.
    pub(crate) fn not_leader(&self, leader: Option<u64>) -> RaftNodeError {
        let m = self.inner.raft.metrics().borrow().clone();
        let peer = leader
            .filter(|id| *id != self.inner.me.raft_id())
            .and_then(|id| m.membership_config.membership().get_node(&id).cloned());
        match peer {
            Some(p) => RaftNodeError::NotLeader {
                leader_id: p.node_id,
                leader_addr: p.addr,
            },
            None => RaftNodeError::NoLeader,
        }
    }

    pub(crate) fn forward_error(&self, f: &ForwardToLeader<u64, Peer>) -> RaftNodeError {
        self.not_leader(f.leader_id)
    }

    /// Before a write: fails at once unless this manager is the Raft
    /// leader, then confirms its quorum (retrying for at most the maximum
    /// election timeout, so a minority leader refuses within ~1.5 s and
    /// never appends the entry) and waits until every entry committed so
    /// far is applied here (so the transaction reads the latest state).
    pub(crate) async fn ready(&self) -> Result<(), RaftNodeError> {
        let m = self.inner.raft.metrics().borrow().clone();
        if m.state != ServerState::Leader {
            return Err(self.not_leader(m.current_leader));
        }
        let timing = &self.inner.timing;
        let deadline = Instant::now() + timing.election_timeout_max;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.inner.raft.ensure_linearizable()).await {
                Ok(Ok(_)) => return Ok(()),
                Ok(Err(RaftError::APIError(CheckIsLeaderError::ForwardToLeader(f)))) => {
                    return Err(self.forward_error(&f));
                }
                Ok(Err(RaftError::APIError(CheckIsLeaderError::QuorumNotEnough(_)))) => {
                    if Instant::now() + timing.heartbeat_interval >= deadline {
                        return Err(RaftNodeError::NoLeader);
                    }
                    tokio::time::sleep(timing.heartbeat_interval).await;
                }
                Ok(Err(RaftError::Fatal(_))) => return Err(RaftNodeError::Stopped),
                Err(_) => return Err(RaftNodeError::NoLeader),
            }
        }
    }
}
