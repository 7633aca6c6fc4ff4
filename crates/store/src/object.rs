//! Objects, the actions a transaction proposes and the events a commit
//! publishes.

use rswarm_types::{Cluster, Meta, Network, Node, Service, Task};
use serde::{Deserialize, Serialize};

/// The stored object kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Kind {
    /// The cluster object.
    Cluster,
    /// Nodes.
    Node,
    /// Services.
    Service,
    /// Tasks.
    Task,
    /// Swarm networks.
    Network,
}

impl Kind {
    /// Lowercase name for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Cluster => "cluster",
            Kind::Node => "node",
            Kind::Service => "service",
            Kind::Task => "task",
            Kind::Network => "network",
        }
    }
}

/// Any stored object.
#[allow(
    clippy::large_enum_variant,
    reason = "objects are moved, not stored in bulk as enums"
)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Object {
    /// A cluster.
    Cluster(Cluster),
    /// A node.
    Node(Node),
    /// A service.
    Service(Service),
    /// A task.
    Task(Task),
    /// A network.
    Network(Network),
}

impl Object {
    /// The object's kind.
    pub fn kind(&self) -> Kind {
        match self {
            Object::Cluster(_) => Kind::Cluster,
            Object::Node(_) => Kind::Node,
            Object::Service(_) => Kind::Service,
            Object::Task(_) => Kind::Task,
            Object::Network(_) => Kind::Network,
        }
    }

    /// The object's ID.
    pub fn id(&self) -> &str {
        match self {
            Object::Cluster(o) => &o.id,
            Object::Node(o) => &o.id,
            Object::Service(o) => &o.id,
            Object::Task(o) => &o.id,
            Object::Network(o) => &o.id,
        }
    }

    /// The object's metadata.
    pub fn meta(&self) -> &Meta {
        match self {
            Object::Cluster(o) => &o.meta,
            Object::Node(o) => &o.meta,
            Object::Service(o) => &o.meta,
            Object::Task(o) => &o.meta,
            Object::Network(o) => &o.meta,
        }
    }

    /// Mutable metadata.
    pub fn meta_mut(&mut self) -> &mut Meta {
        match self {
            Object::Cluster(o) => &mut o.meta,
            Object::Node(o) => &mut o.meta,
            Object::Service(o) => &mut o.meta,
            Object::Task(o) => &mut o.meta,
            Object::Network(o) => &mut o.meta,
        }
    }
}

/// One change proposed by a transaction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Action {
    /// Create the object.
    Create(Object),
    /// Replace the object.
    Update(Object),
    /// Delete the object.
    Delete(Kind, String),
}

/// What changed, published after a commit.
#[allow(
    clippy::large_enum_variant,
    reason = "events are built once per commit"
)]
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// An object was created.
    Created(Object),
    /// An object was replaced.
    Updated {
        /// Before.
        old: Object,
        /// After.
        new: Object,
    },
    /// An object was deleted.
    Deleted(Object),
}

impl Event {
    /// The kind of the object concerned.
    pub fn kind(&self) -> Kind {
        match self {
            Event::Created(o) | Event::Deleted(o) => o.kind(),
            Event::Updated { new, .. } => new.kind(),
        }
    }
}

/// All events of one commit, with the commit's index.
#[derive(Clone, Debug, PartialEq)]
pub struct Commit {
    /// The store index of the commit.
    pub index: u64,
    /// The changes, in order.
    pub events: Vec<Event>,
}
