//! The in-memory tables and their secondary indexes.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rswarm_types::{Cluster, Network, Node, Service, Task};

use crate::{Action, Event, Kind, Object};

/// All stored objects. Read them through [`crate::Store::view`].
#[derive(Clone, Debug, Default)]
pub struct Tables {
    clusters: BTreeMap<String, Cluster>,
    nodes: BTreeMap<String, Node>,
    services: BTreeMap<String, Service>,
    tasks: BTreeMap<String, Task>,
    networks: BTreeMap<String, Network>,
    service_names: HashMap<String, String>,
    tasks_by_service: HashMap<String, BTreeSet<String>>,
    tasks_by_node: HashMap<String, BTreeSet<String>>,
}

impl Tables {
    /// The cluster object, if the swarm exists.
    pub fn cluster(&self) -> Option<&Cluster> {
        self.clusters.values().next()
    }
    /// A node by ID.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.get(id)
    }
    /// All nodes, by ID.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.nodes.values()
    }
    /// A service by ID.
    pub fn service(&self, id: &str) -> Option<&Service> {
        self.services.get(id)
    }
    /// A service by name (case-insensitive).
    pub fn service_by_name(&self, name: &str) -> Option<&Service> {
        self.service_names
            .get(&name.to_lowercase())
            .and_then(|id| self.services.get(id))
    }
    /// All services, by ID.
    pub fn services(&self) -> impl Iterator<Item = &Service> {
        self.services.values()
    }
    /// A task by ID.
    pub fn task(&self, id: &str) -> Option<&Task> {
        self.tasks.get(id)
    }
    /// All tasks, by ID.
    pub fn tasks(&self) -> impl Iterator<Item = &Task> {
        self.tasks.values()
    }
    /// The tasks of a service.
    pub fn tasks_of_service(&self, service_id: &str) -> impl Iterator<Item = &Task> {
        self.tasks_by_service
            .get(service_id)
            .into_iter()
            .flatten()
            .filter_map(|id| self.tasks.get(id))
    }
    /// The tasks assigned to a node.
    pub fn tasks_on_node(&self, node_id: &str) -> impl Iterator<Item = &Task> {
        self.tasks_by_node
            .get(node_id)
            .into_iter()
            .flatten()
            .filter_map(|id| self.tasks.get(id))
    }
    /// A network by ID.
    pub fn network(&self, id: &str) -> Option<&Network> {
        self.networks.get(id)
    }
    /// A network by name (exact).
    pub fn network_by_name(&self, name: &str) -> Option<&Network> {
        self.networks.values().find(|n| n.spec.name == name)
    }
    /// All networks, by ID.
    pub fn networks(&self) -> impl Iterator<Item = &Network> {
        self.networks.values()
    }
    /// Number of objects of a kind.
    pub fn count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Cluster => self.clusters.len(),
            Kind::Node => self.nodes.len(),
            Kind::Service => self.services.len(),
            Kind::Task => self.tasks.len(),
            Kind::Network => self.networks.len(),
        }
    }

    /// Looks up any object.
    pub fn get(&self, kind: Kind, id: &str) -> Option<Object> {
        match kind {
            Kind::Cluster => self.clusters.get(id).cloned().map(Object::Cluster),
            Kind::Node => self.nodes.get(id).cloned().map(Object::Node),
            Kind::Service => self.services.get(id).cloned().map(Object::Service),
            Kind::Task => self.tasks.get(id).cloned().map(Object::Task),
            Kind::Network => self.networks.get(id).cloned().map(Object::Network),
        }
    }

    /// Every object (clones), clusters first, then nodes, networks,
    /// services, tasks.
    pub fn objects(&self) -> impl Iterator<Item = Object> + '_ {
        let clusters = self.clusters.values().cloned().map(Object::Cluster);
        let nodes = self.nodes.values().cloned().map(Object::Node);
        let networks = self.networks.values().cloned().map(Object::Network);
        let services = self.services.values().cloned().map(Object::Service);
        let tasks = self.tasks.values().cloned().map(Object::Task);
        clusters
            .chain(nodes)
            .chain(networks)
            .chain(services)
            .chain(tasks)
    }

    /// Tables holding exactly `objects`, indexed.
    pub fn from_objects(objects: impl IntoIterator<Item = Object>) -> Tables {
        let mut tables = Tables::default();
        for obj in objects {
            tables.insert(obj);
        }
        tables
    }

    /// The events that turn `self` into `new`: creates, changed objects
    /// and deletes, kind by kind in ID order.
    pub fn diff(&self, new: &Tables) -> Vec<Event> {
        let mut events = Vec::new();
        for kind in [
            Kind::Cluster,
            Kind::Node,
            Kind::Network,
            Kind::Service,
            Kind::Task,
        ] {
            let old_ids = self.ids(kind);
            let new_ids = new.ids(kind);
            for id in old_ids.union(&new_ids) {
                match (self.get(kind, id), new.get(kind, id)) {
                    (None, Some(n)) => events.push(Event::Created(n)),
                    (Some(o), None) => events.push(Event::Deleted(o)),
                    (Some(o), Some(n)) if o != n => events.push(Event::Updated { old: o, new: n }),
                    _ => {}
                }
            }
        }
        events
    }

    fn ids(&self, kind: Kind) -> BTreeSet<&str> {
        match kind {
            Kind::Cluster => self.clusters.keys().map(String::as_str).collect(),
            Kind::Node => self.nodes.keys().map(String::as_str).collect(),
            Kind::Service => self.services.keys().map(String::as_str).collect(),
            Kind::Task => self.tasks.keys().map(String::as_str).collect(),
            Kind::Network => self.networks.keys().map(String::as_str).collect(),
        }
    }

    /// Applies one (already validated) action, returning its event.
    pub fn apply(&mut self, action: Action) -> Option<Event> {
        match action {
            Action::Create(obj) => {
                self.insert(obj.clone());
                Some(Event::Created(obj))
            }
            Action::Update(obj) => {
                let old = self.remove(obj.kind(), obj.id());
                self.insert(obj.clone());
                Some(match old {
                    Some(old) => Event::Updated { old, new: obj },
                    None => Event::Created(obj),
                })
            }
            Action::Delete(kind, id) => self.remove(kind, &id).map(Event::Deleted),
        }
    }

    /// Inserts an object and indexes it.
    pub fn insert(&mut self, obj: Object) {
        match obj {
            Object::Cluster(c) => {
                self.clusters.insert(c.id.clone(), c);
            }
            Object::Node(n) => {
                self.nodes.insert(n.id.clone(), n);
            }
            Object::Network(n) => {
                self.networks.insert(n.id.clone(), n);
            }
            Object::Service(s) => {
                self.service_names
                    .insert(s.spec.name.to_lowercase(), s.id.clone());
                self.services.insert(s.id.clone(), s);
            }
            Object::Task(t) => {
                self.tasks_by_service
                    .entry(t.service_id.clone())
                    .or_default()
                    .insert(t.id.clone());
                if !t.node_id.is_empty() {
                    self.tasks_by_node
                        .entry(t.node_id.clone())
                        .or_default()
                        .insert(t.id.clone());
                }
                self.tasks.insert(t.id.clone(), t);
            }
        }
    }

    fn remove(&mut self, kind: Kind, id: &str) -> Option<Object> {
        match kind {
            Kind::Cluster => self.clusters.remove(id).map(Object::Cluster),
            Kind::Node => self.nodes.remove(id).map(Object::Node),
            Kind::Network => self.networks.remove(id).map(Object::Network),
            Kind::Service => {
                let s = self.services.remove(id)?;
                let key = s.spec.name.to_lowercase();
                if self.service_names.get(&key).is_some_and(|v| v == id) {
                    self.service_names.remove(&key);
                }
                Some(Object::Service(s))
            }
            Kind::Task => {
                let t = self.tasks.remove(id)?;
                unindex(&mut self.tasks_by_service, &t.service_id, id);
                unindex(&mut self.tasks_by_node, &t.node_id, id);
                Some(Object::Task(t))
            }
        }
    }
}

fn unindex(index: &mut HashMap<String, BTreeSet<String>>, key: &str, id: &str) {
    if let Some(set) = index.get_mut(key) {
        set.remove(id);
        if set.is_empty() {
            index.remove(key);
        }
    }
}
