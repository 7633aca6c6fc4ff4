//! A hand-written in-memory [`Backend`] with a small fixed cluster: two
//! nodes, three services, a few tasks and log lines. It records the calls
//! that change state so tests can assert what the HTTP layer passed on.

use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use futures_util::stream::{self, BoxStream, StreamExt};
use rswarm_engine_api::{
    Backend, InitRequest, JoinRequest, LocalNodeState, LogMessage, LogOptions, LogTarget, NodeInfo,
    Rotation,
};
use rswarm_types::{
    Cluster, ContainerSpec, ControlError, JoinTokens, Meta, Node, NodeRole, NodeSpec, NodeState,
    Service, ServiceMode, ServiceSpec, SwarmSpec, Task, TaskState, Version,
};

/// IDs used by the fixture (25 characters, base 36).
pub const NODE1: &str = "node1aaaaaaaaaaaaaaaaaaaa";
pub const NODE2: &str = "node2bbbbbbbbbbbbbbbbbbbb";
pub const WEB: &str = "abc111111111111111111111w";
pub const DB: &str = "abd222222222222222222222d";
pub const TOP: &str = "xyz333333333333333333333t";
pub const T_WEB1: &str = "task1web00000000000000001";
pub const T_WEB2: &str = "task2web00000000000000002";
pub const T_WEB_OLD: &str = "task3web00000000000000003";
pub const T_DB1: &str = "task4db000000000000000004";
pub const T_TOP1: &str = "task5top00000000000000005";

/// One recorded state-changing call.
#[derive(Clone, Debug)]
pub enum Call {
    Init(InitRequest),
    Join(JoinRequest),
    Leave(bool),
    SwarmUpdate(u64, Rotation),
    UpdateNode(String, u64, NodeSpec),
    RemoveNode(String, bool),
    CreateService(ServiceSpec),
    UpdateService(String, u64, ServiceSpec, bool),
    RemoveService(String),
    Logs(LogTarget, LogOptionsSeen),
}

/// The log options the backend saw (LogOptions is not PartialEq).
#[derive(Clone, Debug, PartialEq)]
pub struct LogOptionsSeen {
    pub follow: bool,
    pub tail: Option<usize>,
    pub since: Option<i64>,
    pub stdout: bool,
    pub stderr: bool,
}

/// Everything the fake knows.
#[derive(Clone, Debug, Default)]
pub struct State {
    pub info: NodeInfo,
    pub cluster: Cluster,
    pub nodes: Vec<Node>,
    pub services: Vec<Service>,
    pub tasks: Vec<Task>,
    pub logs: Vec<LogMessage>,
    pub calls: Vec<Call>,
}

/// The fake backend.
#[derive(Clone, Default)]
pub struct Fake(pub Arc<Mutex<State>>);

impl Fake {
    /// A fake in the fixture state: an active manager of a 2-node swarm.
    pub fn manager() -> Fake {
        Fake(Arc::new(Mutex::new(fixture())))
    }

    /// A fake node outside any swarm.
    pub fn inactive() -> Fake {
        let mut s = fixture();
        s.info = NodeInfo {
            hostname: "host-a".into(),
            data_root: "/var/lib/rswarm".into(),
            ..Default::default()
        };
        Fake(Arc::new(Mutex::new(s)))
    }

    /// A fake worker node.
    pub fn worker() -> Fake {
        let f = Fake::manager();
        {
            let mut s = f.state();
            s.info.control_available = false;
            s.info.cluster = None;
        }
        f
    }

    /// Locks the state.
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The recorded calls.
    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }
}

fn meta(index: u64) -> Meta {
    let t = chrono::DateTime::parse_from_rfc3339("2025-01-02T03:04:05.123456789Z")
        .expect("time")
        .with_timezone(&chrono::Utc);
    Meta {
        version: Version { index },
        created_at: t,
        updated_at: t,
    }
}

fn node(id: &str, host: &str, role: NodeRole, state: NodeState) -> Node {
    let mut n = Node {
        id: id.into(),
        meta: meta(3),
        role,
        ..Default::default()
    };
    n.spec.role = role;
    n.description.hostname = host.into();
    n.description.engine.engine_version = "28.5.2-rswarm".into();
    n.status.state = state;
    n.status.addr = "127.0.0.1".into();
    n
}

fn service(id: &str, name: &str, mode: ServiceMode, image: &str, tty: bool) -> Service {
    let mut s = Service {
        id: id.into(),
        meta: meta(10),
        spec_version: Some(Version { index: 10 }),
        ..Default::default()
    };
    s.spec.name = name.into();
    s.spec.mode = mode;
    s.spec.task_template.container_spec = Some(ContainerSpec {
        image: image.into(),
        tty,
        ..Default::default()
    });
    s
}

fn task(
    id: &str,
    svc: &Service,
    slot: u64,
    node: &str,
    desired: TaskState,
    state: TaskState,
) -> Task {
    let mut t = Task {
        id: id.into(),
        meta: meta(11),
        spec: svc.spec.task_template.clone(),
        service_id: svc.id.clone(),
        slot,
        node_id: node.into(),
        desired_state: desired,
        spec_version: svc.spec_version,
        endpoint_spec: svc.spec.endpoint_spec.clone(),
        ..Default::default()
    };
    t.status.state = state;
    t.status.timestamp = meta(11).created_at;
    t.service_annotations.name = svc.spec.name.clone();
    t.service_annotations.labels = svc.spec.labels.clone();
    t.labels.insert("task-own-label".into(), "yes".into());
    t
}

fn fixture() -> State {
    let mut cluster = Cluster {
        id: "cluster1xxxxxxxxxxxxxxxxx".into(),
        meta: meta(2),
        ..Default::default()
    };
    cluster.spec.fill_defaults();
    cluster.ca_cert_pem =
        "-----BEGIN CERTIFICATE-----\nnot-a-real-cert\n-----END CERTIFICATE-----\n".into();
    cluster.ca_key_pem =
        "-----BEGIN PRIVATE KEY-----\nTOPSECRETKEY\n-----END PRIVATE KEY-----\n".into();
    cluster.join_tokens = JoinTokens {
        worker: "SWMTKN-1-abc-worker".into(),
        manager: "SWMTKN-1-abc-manager".into(),
    };

    let mut n1 = node(NODE1, "host-a", NodeRole::Manager, NodeState::Ready);
    n1.spec.labels.insert("zone".into(), "east".into());
    n1.description
        .engine
        .labels
        .insert("engine-kind".into(), "fast".into());
    n1.manager_status = Some(rswarm_types::ManagerStatus {
        leader: true,
        reachability: "reachable".into(),
        addr: "127.0.0.1:2377".into(),
    });
    let n2 = node(NODE2, "host-b", NodeRole::Worker, NodeState::Down);

    let mut web = service(
        WEB,
        "web",
        ServiceMode::replicated(2),
        "nginx:latest",
        false,
    );
    web.spec
        .labels
        .insert("com.docker.stack.namespace".into(), "shop".into());
    let db = service(DB, "db", ServiceMode::global(), "postgres:16", false);
    let top = service(
        TOP,
        "top",
        ServiceMode {
            replicated: Some(Default::default()),
            ..Default::default()
        },
        "busybox",
        true,
    );

    let mut old = task(
        T_WEB_OLD,
        &web,
        1,
        NODE1,
        TaskState::Shutdown,
        TaskState::Failed,
    );
    old.spec.force_update = 7;
    old.spec_version = Some(Version { index: 4 });
    let tasks = vec![
        task(
            T_WEB1,
            &web,
            1,
            NODE1,
            TaskState::Running,
            TaskState::Running,
        ),
        task(
            T_WEB2,
            &web,
            2,
            NODE2,
            TaskState::Running,
            TaskState::Running,
        ),
        old,
        task(T_DB1, &db, 0, NODE1, TaskState::Running, TaskState::Running),
        task(
            T_TOP1,
            &top,
            1,
            NODE1,
            TaskState::Running,
            TaskState::Starting,
        ),
    ];
    let at = |s: i64| chrono::DateTime::from_timestamp(1_735_787_045 + s, 7).expect("time");
    let line = |stream: u8, s: i64, text: &str, svc: &str, task: &str| LogMessage {
        stream,
        timestamp: at(s),
        line: text.into(),
        node_id: NODE1.into(),
        service_id: svc.into(),
        task_id: task.into(),
    };
    let logs = vec![
        line(1, 0, "hello from web", WEB, T_WEB1),
        line(2, 1, "warning: disk", WEB, T_WEB1),
        line(1, 2, "top output", TOP, T_TOP1),
    ];
    let info = NodeInfo {
        state: LocalNodeState::Active,
        node_id: NODE1.into(),
        node_addr: "127.0.0.1".into(),
        control_available: true,
        error: String::new(),
        remote_managers: vec![(NODE1.into(), "127.0.0.1:2377".into())],
        nodes: 2,
        managers: 1,
        cluster: Some(cluster.clone()),
        hostname: "host-a".into(),
        data_root: "/var/lib/rswarm".into(),
        runtime: "process".into(),
    };
    State {
        info,
        cluster,
        nodes: vec![n1, n2],
        services: vec![web, db, top],
        tasks,
        logs,
        calls: Vec::new(),
    }
}

fn check_version(have: u64, given: u64) -> Result<(), ControlError> {
    if have == given {
        Ok(())
    } else {
        Err(ControlError::OutOfSequence)
    }
}

#[async_trait]
impl Backend for Fake {
    async fn info(&self) -> NodeInfo {
        self.state().info.clone()
    }

    async fn swarm_init(&self, req: InitRequest) -> Result<String, ControlError> {
        let mut s = self.state();
        if s.info.state != LocalNodeState::Inactive {
            return Err(ControlError::AlreadyInSwarm);
        }
        s.calls.push(Call::Init(req));
        Ok(NODE1.into())
    }

    async fn swarm_join(&self, req: JoinRequest) -> Result<(), ControlError> {
        self.state().calls.push(Call::Join(req));
        Ok(())
    }

    async fn swarm_leave(&self, force: bool) -> Result<(), ControlError> {
        self.state().calls.push(Call::Leave(force));
        Ok(())
    }

    async fn swarm_inspect(&self) -> Result<Cluster, ControlError> {
        Ok(self.state().cluster.clone())
    }

    async fn swarm_update(
        &self,
        version: u64,
        spec: SwarmSpec,
        rotation: Rotation,
    ) -> Result<(), ControlError> {
        let mut s = self.state();
        check_version(s.cluster.meta.version.index, version)?;
        s.cluster.spec = spec;
        s.calls.push(Call::SwarmUpdate(version, rotation));
        Ok(())
    }

    async fn list_nodes(&self) -> Result<Vec<Node>, ControlError> {
        Ok(self.state().nodes.clone())
    }

    async fn update_node(
        &self,
        id: &str,
        version: u64,
        spec: NodeSpec,
    ) -> Result<(), ControlError> {
        let mut s = self.state();
        let have = s
            .nodes
            .iter()
            .find(|n| n.id == id)
            .map(|n| n.meta.version.index);
        check_version(
            have.ok_or_else(|| ControlError::not_found("node", id))?,
            version,
        )?;
        s.calls.push(Call::UpdateNode(id.into(), version, spec));
        Ok(())
    }

    async fn remove_node(&self, id: &str, force: bool) -> Result<(), ControlError> {
        self.state().calls.push(Call::RemoveNode(id.into(), force));
        Ok(())
    }

    async fn list_services(&self) -> Result<Vec<Service>, ControlError> {
        Ok(self.state().services.clone())
    }

    async fn create_service(&self, mut spec: ServiceSpec) -> Result<Service, ControlError> {
        let mut s = self.state();
        if s.services
            .iter()
            .any(|x| x.spec.name.eq_ignore_ascii_case(&spec.name))
        {
            return Err(ControlError::NameConflict {
                kind: "service",
                name: spec.name,
            });
        }
        rswarm_types::validate::validate_service_spec(&mut spec)?;
        s.calls.push(Call::CreateService(spec.clone()));
        let svc = Service {
            id: "new000000000000000000000s".into(),
            meta: meta(20),
            spec,
            ..Default::default()
        };
        s.services.push(svc.clone());
        Ok(svc)
    }

    async fn update_service(
        &self,
        id: &str,
        version: u64,
        spec: ServiceSpec,
        rollback: bool,
    ) -> Result<(), ControlError> {
        let mut s = self.state();
        let have = s
            .services
            .iter()
            .find(|x| x.id == id)
            .map(|x| x.meta.version.index);
        check_version(
            have.ok_or_else(|| ControlError::not_found("service", id))?,
            version,
        )?;
        s.calls
            .push(Call::UpdateService(id.into(), version, spec, rollback));
        Ok(())
    }

    async fn remove_service(&self, id: &str) -> Result<(), ControlError> {
        self.state().calls.push(Call::RemoveService(id.into()));
        Ok(())
    }

    async fn list_tasks(&self) -> Result<Vec<Task>, ControlError> {
        Ok(self.state().tasks.clone())
    }

    async fn list_networks(&self) -> Result<Vec<rswarm_types::Network>, ControlError> {
        Ok(Vec::new())
    }

    async fn create_network(
        &self,
        spec: rswarm_types::NetworkSpec,
    ) -> Result<rswarm_types::Network, ControlError> {
        Err(ControlError::NotImplemented(format!(
            "the fake backend keeps no networks ({})",
            spec.name
        )))
    }

    async fn remove_network(&self, id: &str) -> Result<(), ControlError> {
        Err(ControlError::not_found("network", id))
    }

    async fn logs(
        &self,
        target: LogTarget,
        options: LogOptions,
    ) -> Result<BoxStream<'static, LogMessage>, ControlError> {
        let mut s = self.state();
        let seen = LogOptionsSeen {
            follow: options.follow,
            tail: options.tail,
            since: options.since.map(|t| t.timestamp_nanos_opt().unwrap_or(0)),
            stdout: options.stdout,
            stderr: options.stderr,
        };
        s.calls.push(Call::Logs(target.clone(), seen));
        let lines: Vec<LogMessage> = s
            .logs
            .iter()
            .filter(|m| match &target {
                LogTarget::Service(id) => &m.service_id == id,
                LogTarget::Task(id) => &m.task_id == id,
            })
            .cloned()
            .collect();
        if options.follow {
            // Like a real follow: the stream stays open after the backlog.
            return Ok(stream::iter(lines).chain(stream::pending()).boxed());
        }
        Ok(stream::iter(lines).boxed())
    }
}
