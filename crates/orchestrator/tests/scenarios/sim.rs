//! A tiny in-memory cluster: a store (vectors), a naive scheduler and
//! agents that move tasks forward, a clock. Every reconcile is checked for
//! idempotence: applying its plan and reconciling again yields nothing.

use rswarm_orchestrator::{Plan, View, next_wakeup, reconcile, reconcile_and_wakeup};
use rswarm_types::{
    Availability, ContainerSpec, Node, NodeState, SECOND, Service, ServiceMode, ServiceSpec, Task,
    TaskState, Timestamp, Version,
};

pub struct Sim {
    pub now: Timestamp,
    pub nodes: Vec<Node>,
    pub services: Vec<Service>,
    pub tasks: Vec<Task>,
    pub limit: i64,
    next_id: u64,
    next_version: u64,
    /// When non-zero, every `lossy`-th task update is dropped, as the
    /// manager drops writes whose object changed meanwhile.
    pub lossy: u64,
    updates_seen: u64,
    /// Nodes whose runtime rejects every task it prepares (as the process
    /// runtime rejects a service without a command).
    pub rejecting: Vec<String>,
}

/// Time `s` seconds after the simulation's epoch.
pub fn at(s: i64) -> Timestamp {
    chrono::DateTime::from_timestamp(1_700_000_000 + s, 0).expect("time")
}

pub fn secs(s: i64) -> i64 {
    s * SECOND
}

impl Sim {
    pub fn new() -> Sim {
        Sim {
            now: at(0),
            nodes: vec![],
            services: vec![],
            tasks: vec![],
            limit: 5,
            next_id: 0,
            next_version: 10,
            lossy: 0,
            updates_seen: 0,
            rejecting: vec![],
        }
    }

    pub fn add_node(&mut self, id: &str) {
        let mut n = Node {
            id: id.into(),
            ..Default::default()
        };
        n.description.hostname = id.into();
        n.status.state = NodeState::Ready;
        self.nodes.push(n);
    }

    pub fn node_mut(&mut self, id: &str) -> &mut Node {
        self.nodes.iter_mut().find(|n| n.id == id).expect("node")
    }

    pub fn set_availability(&mut self, id: &str, a: Availability) {
        self.node_mut(id).spec.availability = a;
    }

    pub fn set_node_state(&mut self, id: &str, s: NodeState) {
        self.node_mut(id).status.state = s;
    }

    fn version(&mut self) -> Version {
        self.next_version += 1;
        Version {
            index: self.next_version,
        }
    }

    /// Creates a service with image `img` and returns its ID.
    pub fn create_service(
        &mut self,
        name: &str,
        mode: ServiceMode,
        edit: impl FnOnce(&mut ServiceSpec),
    ) -> String {
        let mut spec = ServiceSpec {
            name: name.into(),
            mode,
            ..Default::default()
        };
        spec.task_template.container_spec = Some(ContainerSpec {
            image: "img:v1".into(),
            ..Default::default()
        });
        edit(&mut spec);
        let v = self.version();
        let svc = Service {
            id: format!("svc-{name}"),
            spec,
            spec_version: Some(v),
            ..Default::default()
        };
        self.services.push(svc);
        format!("svc-{name}")
    }

    pub fn service(&self, id: &str) -> &Service {
        self.services.iter().find(|s| s.id == id).expect("service")
    }

    /// A user update, as the control API does it.
    pub fn update_service(&mut self, id: &str, edit: impl FnOnce(&mut ServiceSpec)) {
        let v = self.version();
        let svc = self
            .services
            .iter_mut()
            .find(|s| s.id == id)
            .expect("service");
        let old = svc.spec.clone();
        edit(&mut svc.spec);
        svc.previous_spec = Some(old);
        svc.previous_spec_version = svc.spec_version;
        svc.spec_version = Some(v);
        svc.update_status = None;
    }

    pub fn view(&self) -> View<'_> {
        View {
            task_history_limit: self.limit,
            nodes: self.nodes.iter().collect(),
            services: self.services.iter().collect(),
            tasks: self.tasks.iter().collect(),
        }
    }

    fn plan(&mut self) -> Plan {
        let (now, mut n) = (self.now, self.next_id);
        let mut ids = || {
            n += 1;
            format!("task{n:03}")
        };
        let plan = reconcile(&self.view(), now, &mut ids);
        self.next_id = n;
        // The manager's loop asks for both in one pass: the same plan
        // (but for new IDs) and the same wake-up.
        let mut m = 0;
        let mut other_ids = || {
            m += 1;
            format!("other{m:03}")
        };
        let (same, wake) = reconcile_and_wakeup(&self.view(), now, &mut other_ids);
        let shape = |p: &Plan| {
            let mut p = p.clone();
            p.create_tasks.iter_mut().for_each(|t| t.id.clear());
            p
        };
        assert_eq!(shape(&same), shape(&plan));
        assert_eq!(wake, next_wakeup(&self.view(), now));
        plan
    }

    pub fn apply(&mut self, plan: &Plan) {
        for t in &plan.create_tasks {
            assert!(
                self.tasks.iter().all(|o| o.id != t.id),
                "duplicate id {}",
                t.id
            );
            self.tasks.push(t.clone());
        }
        for t in &plan.update_tasks {
            self.updates_seen += 1;
            if self.lossy > 0 && self.updates_seen.is_multiple_of(self.lossy) {
                continue;
            }
            let slot = self
                .tasks
                .iter_mut()
                .find(|o| o.id == t.id)
                .expect("updated task exists");
            *slot = t.clone();
        }
        self.tasks.retain(|t| !plan.delete_tasks.contains(&t.id));
        for s in &plan.update_services {
            let slot = self
                .services
                .iter_mut()
                .find(|o| o.id == s.id)
                .expect("service exists");
            *slot = s.clone();
        }
    }

    /// Reconciles once, applies, and checks the next pass is empty (unless
    /// writes are being dropped).
    pub fn step(&mut self) -> Plan {
        let plan = self.plan();
        self.apply(&plan);
        if self.lossy > 0 {
            return plan;
        }
        let again = self.plan();
        assert!(
            again.is_empty(),
            "not idempotent at {}: {again:#?}",
            self.now
        );
        plan
    }

    pub fn wakeup(&self) -> Option<Timestamp> {
        next_wakeup(&self.view(), self.now)
    }

    /// Scheduler and agents: one move per task. Returns whether anything
    /// changed.
    pub fn agents(&mut self) -> bool {
        let mut changed = false;
        let ready: Vec<String> = self
            .nodes
            .iter()
            .filter(|n| {
                n.status.state == NodeState::Ready && n.spec.availability == Availability::Active
            })
            .map(|n| n.id.clone())
            .collect();
        let down: Vec<String> = self
            .nodes
            .iter()
            .filter(|n| n.status.state == NodeState::Down)
            .map(|n| n.id.clone())
            .collect();
        for i in 0..self.tasks.len() {
            let t = &self.tasks[i];
            let desired = t.desired_state;
            let state = t.status.state;
            let next = if state < TaskState::Assigned {
                if desired >= TaskState::Shutdown {
                    None
                } else if t.node_id.is_empty() {
                    // Spread: the ready node with the fewest active tasks of the service.
                    let service = t.service_id.clone();
                    let pick = ready.iter().min_by_key(|n| {
                        self.tasks
                            .iter()
                            .filter(|o| {
                                &o.node_id == *n && o.service_id == service && o.is_active()
                            })
                            .count()
                    });
                    match pick {
                        Some(n) => {
                            self.tasks[i].node_id = n.clone();
                            Some(TaskState::Assigned)
                        }
                        None => None,
                    }
                } else {
                    Some(TaskState::Assigned)
                }
            } else if down.contains(&t.node_id) || state > TaskState::Running {
                None
            } else if desired >= TaskState::Shutdown {
                Some(TaskState::Shutdown)
            } else if state < TaskState::Ready && self.rejecting.contains(&t.node_id) {
                Some(TaskState::Rejected)
            } else if desired == TaskState::Ready && state < TaskState::Ready {
                Some(TaskState::Ready)
            } else if matches!(desired, TaskState::Running | TaskState::Complete)
                && state < TaskState::Running
            {
                Some(TaskState::Running)
            } else {
                None
            };
            if let Some(s) = next {
                self.set_state(i, s);
                changed = true;
            }
        }
        changed
    }

    fn set_state(&mut self, i: usize, s: TaskState) {
        let now = self.now;
        let t = &mut self.tasks[i];
        t.status.state = s;
        t.status.timestamp = now;
        t.meta.version.index += 1;
    }

    /// Alternates reconcile and agents until nothing moves.
    pub fn settle(&mut self) {
        for _ in 0..100 {
            let plan = self.step();
            if !self.agents() && plan.is_empty() {
                return;
            }
        }
        panic!("no convergence");
    }

    /// Moves the clock forward, settling at every wake-up on the way.
    pub fn run_for(&mut self, secs: i64) {
        let end = self.now + chrono::TimeDelta::seconds(secs);
        self.settle();
        while let Some(w) = self.wakeup().filter(|w| *w <= end) {
            self.now = w;
            self.settle();
        }
        self.now = end;
        self.settle();
    }

    /// The agent reports the task stopped with `state`.
    pub fn stop_task(&mut self, id: &str, state: TaskState) {
        let i = self.tasks.iter().position(|t| t.id == id).expect("task");
        self.set_state(i, state);
    }

    pub fn tasks_of(&self, svc: &str) -> Vec<&Task> {
        self.tasks.iter().filter(|t| t.service_id == svc).collect()
    }

    /// Tasks of `svc` that run and should.
    pub fn running(&self, svc: &str) -> Vec<&Task> {
        self.tasks_of(svc)
            .into_iter()
            .filter(|t| {
                t.status.state == TaskState::Running && t.desired_state == TaskState::Running
            })
            .collect()
    }

    /// Sorted slots of the running tasks.
    pub fn running_slots(&self, svc: &str) -> Vec<u64> {
        let mut v: Vec<u64> = self.running(svc).iter().map(|t| t.slot).collect();
        v.sort_unstable();
        v
    }

    pub fn in_slot(&self, svc: &str, slot: u64) -> Vec<&Task> {
        self.tasks_of(svc)
            .into_iter()
            .filter(|t| t.slot == slot)
            .collect()
    }

    /// The running task of a slot.
    pub fn runner(&self, svc: &str, slot: u64) -> &Task {
        let v: Vec<&Task> = self
            .running(svc)
            .into_iter()
            .filter(|t| t.slot == slot)
            .collect();
        assert_eq!(v.len(), 1, "one running task in slot {slot}");
        v[0]
    }

    pub fn image(t: &Task) -> &str {
        t.spec
            .container_spec
            .as_ref()
            .map(|c| c.image.as_str())
            .unwrap_or("")
    }

    pub fn update_state(&self, svc: &str) -> Option<String> {
        self.service(svc)
            .update_status
            .as_ref()
            .map(|s| s.state.clone())
    }
}
