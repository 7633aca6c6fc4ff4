//! Write transactions: reads see the transaction's own writes; writes are
//! checked (existence, names, versions) as they are made.

use std::collections::HashMap;

use rswarm_types::{Cluster, Network, Node, Service, Task};

use crate::{Action, Kind, Object, StoreError, Tables};

/// A write transaction, handed to the closure of [`crate::Store::update`].
#[derive(Debug)]
pub struct WriteTx<'a> {
    base: &'a Tables,
    overlay: HashMap<(Kind, String), Option<Object>>,
    actions: Vec<Action>,
}

macro_rules! typed_access {
    ($get:ident, $kind:ident, $ty:ty) => {
        /// Reads an object, seeing this transaction's writes.
        pub fn $get(&self, id: &str) -> Option<$ty> {
            match self.get(Kind::$kind, id) {
                Some(Object::$kind(o)) => Some(o),
                _ => None,
            }
        }
    };
}

impl<'a> WriteTx<'a> {
    pub(crate) fn new(base: &'a Tables) -> Self {
        WriteTx {
            base,
            overlay: HashMap::new(),
            actions: Vec::new(),
        }
    }

    pub(crate) fn into_actions(self) -> Vec<Action> {
        self.actions
    }

    /// The committed state this transaction started from (without its own writes).
    pub fn base(&self) -> &Tables {
        self.base
    }

    /// Reads any object, seeing this transaction's writes.
    pub fn get(&self, kind: Kind, id: &str) -> Option<Object> {
        match self.overlay.get(&(kind, id.to_string())) {
            Some(o) => o.clone(),
            None => self.base.get(kind, id),
        }
    }

    typed_access!(node, Node, Node);
    typed_access!(service, Service, Service);
    typed_access!(task, Task, Task);
    typed_access!(network, Network, Network);

    /// The cluster object.
    pub fn cluster(&self) -> Option<Cluster> {
        let id = self
            .overlay
            .iter()
            .find(|((k, _), v)| *k == Kind::Cluster && v.is_some())
            .map(|((_, id), _)| id.clone())
            .or_else(|| self.base.cluster().map(|c| c.id.clone()))?;
        match self.get(Kind::Cluster, &id) {
            Some(Object::Cluster(c)) => Some(c),
            _ => None,
        }
    }

    /// Creates an object. Fails if the ID exists or (services) the name is taken.
    pub fn create(&mut self, obj: Object) -> Result<(), StoreError> {
        let kind = obj.kind();
        if self.get(kind, obj.id()).is_some() {
            return Err(StoreError::Exists {
                kind: kind.as_str(),
                id: obj.id().to_string(),
            });
        }
        if let Object::Service(s) = &obj {
            self.check_service_name(s)?;
        }
        self.overlay
            .insert((kind, obj.id().to_string()), Some(obj.clone()));
        self.actions.push(Action::Create(obj));
        Ok(())
    }

    /// Replaces an object. Its `meta.version` must be the stored one.
    pub fn update(&mut self, obj: Object) -> Result<(), StoreError> {
        let kind = obj.kind();
        let current = self
            .get(kind, obj.id())
            .ok_or_else(|| StoreError::NotFound {
                kind: kind.as_str(),
                id: obj.id().to_string(),
            })?;
        if current.meta().version != obj.meta().version {
            return Err(StoreError::SequenceConflict);
        }
        if let Object::Service(s) = &obj {
            self.check_service_name(s)?;
        }
        self.overlay
            .insert((kind, obj.id().to_string()), Some(obj.clone()));
        self.actions.push(Action::Update(obj));
        Ok(())
    }

    /// Deletes an object.
    pub fn delete(&mut self, kind: Kind, id: &str) -> Result<(), StoreError> {
        if self.get(kind, id).is_none() {
            return Err(StoreError::NotFound {
                kind: kind.as_str(),
                id: id.to_string(),
            });
        }
        self.overlay.insert((kind, id.to_string()), None);
        self.actions.push(Action::Delete(kind, id.to_string()));
        Ok(())
    }

    fn check_service_name(&self, s: &Service) -> Result<(), StoreError> {
        let lower = s.spec.name.to_lowercase();
        let same_name = |o: &Object| matches!(o, Object::Service(o) if o.id != s.id && o.spec.name.to_lowercase() == lower);
        // The base owner of the name still holds it unless this transaction
        // renamed or deleted it.
        let taken_in_base = self
            .base
            .service_by_name(&s.spec.name)
            .is_some_and(|other| {
                other.id != s.id
                    && match self.overlay.get(&(Kind::Service, other.id.clone())) {
                        None => true,
                        Some(current) => current.as_ref().is_some_and(same_name),
                    }
            });
        let taken_in_overlay = self.overlay.values().flatten().any(same_name);
        if taken_in_base || taken_in_overlay {
            return Err(StoreError::NameConflict {
                kind: "service",
                name: s.spec.name.clone(),
            });
        }
        Ok(())
    }
}
