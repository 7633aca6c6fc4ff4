//! One task manager per assigned task: walks the task through
//! accepted → preparing → ready → starting → running → complete|failed,
//! or to shutdown when the managers want it stopped, and reports every
//! state it reaches. Observed state only moves forward.

use std::sync::Arc;
use std::time::Duration;

use rswarm_exec::{Controller, ExecError, Executor, ExitStatus};
use rswarm_network::{DataPlane, TaskNetns};
use rswarm_rt::Clock;
use rswarm_types::{ContainerStatus, PortConfig, PortStatus, Task, TaskState, TaskStatus};
use tokio::sync::{mpsc, watch};

use crate::task_network::{self, AttachError, Attachment};

/// Where status changes go.
pub type StatusSink = mpsc::UnboundedSender<(String, TaskStatus)>;

/// Runs a task to its end. `desired` carries the managers' desired state;
/// `stop` fires on agent shutdown (stop the process, report nothing). A
/// task with network attachments is plumbed through `data_plane` before it
/// starts (see [`crate::task_network`]) and unplumbed when its process is
/// gone.
pub async fn run(
    task: Task,
    executor: Arc<dyn Executor>,
    data_plane: Option<Arc<dyn DataPlane>>,
    mut desired: watch::Receiver<TaskState>,
    mut stop: watch::Receiver<bool>,
    clock: Arc<dyn Clock>,
    sink: StatusSink,
) {
    let mut tm = Reporter {
        id: task.id.clone(),
        state: task.status.state,
        message: task.status.message.clone(),
        host_ports: host_ports(&task),
        clock,
        sink,
    };
    if tm.state.is_terminal() {
        return;
    }
    if desired.borrow().wants_stop() {
        tm.report(TaskState::Shutdown, "shutdown", None);
        return;
    }
    if tm.state >= TaskState::Starting {
        tm.report_err(
            TaskState::Failed,
            "task process lost: the rswarm daemon restarted",
            None,
        );
        return;
    }
    let controller = match executor.controller(&task) {
        Ok(c) => c,
        Err(e) => return tm.report_err(TaskState::Rejected, &e.to_string(), None),
    };
    tm.report(TaskState::Accepted, "accepted", None);
    tm.report(TaskState::Preparing, "preparing", None);
    let nets = task_network::networks(&task);
    let networked = !nets.is_empty();
    let mut attachment = None;
    if networked {
        let Some(dp) = data_plane.as_ref() else {
            let e = AttachError::NoDataPlane;
            return tm.report_err(TaskState::Rejected, &e.to_string(), None);
        };
        match attach(
            controller.as_ref(),
            dp,
            &task,
            nets,
            &mut desired,
            &mut stop,
        )
        .await
        {
            Ok((a, network)) => {
                let set = controller.set_network(network);
                attachment = Some(a);
                if let Err(e) = set {
                    release(attachment).await;
                    discard(controller.as_ref()).await;
                    return tm.report_err(TaskState::Rejected, &e.to_string(), None);
                }
            }
            Err(AttachError::Stopped) => {
                discard(controller.as_ref()).await;
                if !*stop.borrow() {
                    tm.report(TaskState::Shutdown, "shutdown before start", None);
                }
                return;
            }
            Err(e) => {
                discard(controller.as_ref()).await;
                return tm.report_err(TaskState::Rejected, &e.to_string(), None);
            }
        }
    }
    let drain = if networked {
        BACKEND_DRAIN
    } else {
        Duration::ZERO
    };
    let ended = drive(controller.as_ref(), &mut tm, &mut desired, &mut stop, drain).await;
    // The process is gone (or never started): its namespace goes too,
    // and what the runtime kept for it (the docker runtime's sandbox).
    release(attachment).await;
    if networked
        && ended == Ended::Finished
        && let Err(e) = controller.release_network().await
    {
        tracing::warn!("agent: releasing the task's network sandbox failed: {e}");
    }
    // A networked task that never ran (or was stopped before it started)
    // leaves nothing of its runtime's either (the docker runtime's
    // sandbox); when the agent stops, the leftovers sweep does that.
    if networked && ended == Ended::Done && !*stop.borrow() {
        discard(controller.as_ref()).await;
    }
    // A finished task's container stays (as Docker Swarm keeps it) until
    // the managers remove the task.
    if ended == Ended::Finished
        && removal_wanted(&mut desired, &mut stop).await
        && let Err(e) = controller.remove().await
    {
        tracing::warn!("agent: removing task failed: {e}");
    }
}

/// The runtime's namespace for the task (if it keeps one), plumbed.
async fn attach(
    controller: &dyn Controller,
    dp: &Arc<dyn DataPlane>,
    task: &Task,
    nets: Vec<String>,
    desired: &mut watch::Receiver<TaskState>,
    stop: &mut watch::Receiver<bool>,
) -> Result<(Attachment, rswarm_exec::TaskNetwork), AttachError> {
    let netns = match controller.network_sandbox().await? {
        Some(path) => TaskNetns::Existing(path),
        None => TaskNetns::Create,
    };
    Attachment::attach(dp, task, nets, netns, desired, stop).await
}

/// Removes what the runtime holds for a task that will not run.
async fn discard(controller: &dyn Controller) {
    if let Err(e) = controller.remove().await {
        tracing::warn!("agent: removing task failed: {e}");
    }
}

async fn release(attachment: Option<Attachment>) {
    if let Some(a) = attachment {
        a.release().await;
    }
}

/// How [`drive`] left the task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ended {
    /// It ran and ended (reported); it waits for its removal.
    Finished,
    /// Nothing more to do (rejected, stopped before start, the agent stops).
    Done,
}

/// Prepares, starts and supervises the task, reporting each state.
async fn drive(
    controller: &dyn Controller,
    tm: &mut Reporter,
    desired: &mut watch::Receiver<TaskState>,
    stop: &mut watch::Receiver<bool>,
    drain: Duration,
) -> Ended {
    if let Err(e) = controller.prepare().await {
        tm.report_err(TaskState::Rejected, &e.to_string(), None);
        return Ended::Done;
    }
    tm.report(TaskState::Ready, "prepared", None);
    // A desired state of `ready` stages the task (restart delay, update).
    loop {
        let d = *desired.borrow_and_update();
        if d.wants_stop() {
            tm.report(TaskState::Shutdown, "shutdown before start", None);
            let _ = controller.remove().await;
            return Ended::Done;
        }
        if d >= TaskState::Running {
            break;
        }
        tokio::select! {
            r = desired.changed() => if r.is_err() { return Ended::Done },
            _ = stop.changed() => return Ended::Done,
        }
    }
    tm.report(TaskState::Starting, "starting", None);
    let pid = match controller.start().await {
        Ok(pid) => pid,
        Err(e) => {
            tm.report_err(TaskState::Failed, &e.to_string(), None);
            return Ended::Done;
        }
    };
    let running = ContainerStatus {
        container_id: controller.container_id().unwrap_or_default(),
        pid,
        exit_code: 0,
    };
    tm.report(TaskState::Running, "started", Some(running.clone()));
    let outcome = supervise(controller, desired, stop, drain).await;
    // The process is gone: no PID (Docker reports 0 once a container exits).
    let status = |exit: &ExitStatus| ContainerStatus {
        exit_code: exit.code,
        pid: 0,
        ..running.clone()
    };
    match outcome {
        Outcome::Exited(Ok(exit)) if exit.code == 0 => {
            tm.report(TaskState::Complete, "finished", Some(status(&exit)))
        }
        Outcome::Exited(Ok(exit)) => tm.report_err(
            TaskState::Failed,
            &format!("task: non-zero exit ({})", exit.code),
            Some(status(&exit)),
        ),
        Outcome::Exited(Err(e)) => tm.report_err(TaskState::Failed, &e.to_string(), None),
        Outcome::Stopped(exit) => {
            tm.report(TaskState::Shutdown, "shutdown", exit.as_ref().map(status))
        }
        Outcome::AgentStopping => return Ended::Done,
    }
    Ended::Finished
}

/// Waits until the task is to be removed (`true`) or the agent stops.
async fn removal_wanted(
    desired: &mut watch::Receiver<TaskState>,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    loop {
        if *desired.borrow_and_update() >= TaskState::Remove {
            return true;
        }
        tokio::select! {
            r = desired.changed() => if r.is_err() { return false },
            _ = stop.changed() => return false,
        }
    }
}

enum Outcome {
    Exited(Result<ExitStatus, ExecError>),
    Stopped(Option<ExitStatus>),
    AgentStopping,
}

/// How long a task on networks keeps running after it is told to stop,
/// so no node still sends it connections when it goes.
pub const BACKEND_DRAIN: Duration = Duration::from_millis(1000);

/// Waits for the process to exit, or stops it when desired goes beyond
/// running (after `drain`) or the agent shuts down.
async fn supervise(
    controller: &dyn Controller,
    desired: &mut watch::Receiver<TaskState>,
    stop: &mut watch::Receiver<bool>,
    drain: Duration,
) -> Outcome {
    let wait = controller.wait();
    tokio::pin!(wait);
    loop {
        if desired.borrow_and_update().wants_stop() {
            // The managers took it out of every VIP and published port
            // when they told it to stop; give the nodes' maps time to
            // follow before its connections are refused (Docker waits too).
            tokio::select! {
                exit = &mut wait => return Outcome::Exited(exit),
                () = tokio::time::sleep(drain) => {}
            }
            return Outcome::Stopped(stop_and_wait(controller).await);
        }
        tokio::select! {
            exit = &mut wait => return Outcome::Exited(exit),
            r = desired.changed() => if r.is_err() { return Outcome::Stopped(stop_and_wait(controller).await) },
            _ = stop.changed() => {
                let _ = stop_and_wait(controller).await;
                return Outcome::AgentStopping;
            }
        }
    }
}

async fn stop_and_wait(controller: &dyn Controller) -> Option<ExitStatus> {
    if let Err(e) = controller.shutdown().await {
        tracing::warn!("agent: stopping task failed: {e}");
    }
    controller.wait().await.ok()
}

struct Reporter {
    id: String,
    state: TaskState,
    /// The message of the last step that went well: a failure keeps it
    /// and puts its reason in `Err`, as swarmkit's executor does (an
    /// exited task reads `started` / `task: non-zero exit (3)`).
    message: String,
    /// Host-mode ports the task publishes (reported while it runs).
    host_ports: Vec<PortConfig>,
    clock: Arc<dyn Clock>,
    sink: StatusSink,
}

/// The ports `task` publishes in host mode.
fn host_ports(task: &Task) -> Vec<PortConfig> {
    task.endpoint_spec
        .iter()
        .flat_map(|e| e.ports.iter())
        .filter(|p| p.publish_mode == "host")
        .cloned()
        .collect()
}

impl Reporter {
    fn report(&mut self, state: TaskState, message: &str, container: Option<ContainerStatus>) {
        self.message = message.to_string();
        self.send(state, message, "", container);
    }

    fn report_err(&mut self, state: TaskState, err: &str, container: Option<ContainerStatus>) {
        let message = if self.message.is_empty() {
            state.as_str().to_string()
        } else {
            self.message.clone()
        };
        self.send(state, &message, err, container);
    }

    fn send(
        &mut self,
        state: TaskState,
        message: &str,
        err: &str,
        container: Option<ContainerStatus>,
    ) {
        if state < self.state {
            return;
        }
        self.state = state;
        let status = TaskStatus {
            timestamp: self.clock.now(),
            state,
            message: message.to_string(),
            err: err.to_string(),
            container_status: container,
            // As Docker: the ports a running task publishes on its node.
            port_status: PortStatus {
                ports: if state == TaskState::Running {
                    self.host_ports.clone()
                } else {
                    Vec::new()
                },
            },
        };
        let _ = self.sink.send((self.id.clone(), status));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod network_tests {
    //! The network path of a task manager, with a fake data plane and a
    //! fake executor: attach before start (waiting for the map), the
    //! namespace handed to the controller, detach once the process ended;
    //! rejection without a data plane.
    use std::sync::Mutex;

    use async_trait::async_trait;
    use rswarm_exec::{ExecutorDescription, TaskNetwork};
    use rswarm_network::{Call, FakeDataPlane};
    use rswarm_rt::SystemClock;
    use rswarm_types::{
        Ipv4Cidr, MacAddr, MapEndpoint, MapNetwork, Network, NetworkAttachment, NetworkMap,
        NetworkMapUpdate,
    };

    use super::*;

    /// Records what the task manager asked; the process "exits" at once.
    #[derive(Debug, Default)]
    struct Log(Mutex<Vec<String>>);

    /// With a path: the runtime keeps the task's namespace there (as the
    /// docker runtime's sandbox).
    #[derive(Debug)]
    struct FakeExec(Arc<Log>, Option<&'static str>);

    struct FakeCtl(Arc<Log>, Option<&'static str>);

    impl Log {
        fn push(&self, s: String) {
            self.0.lock().unwrap().push(s);
        }
        fn all(&self) -> Vec<String> {
            self.0.lock().unwrap().clone()
        }
    }

    #[async_trait]
    impl Executor for FakeExec {
        fn describe(&self) -> ExecutorDescription {
            ExecutorDescription::default()
        }
        fn controller(&self, _task: &Task) -> Result<Box<dyn Controller>, ExecError> {
            Ok(Box::new(FakeCtl(self.0.clone(), self.1)))
        }
    }

    #[async_trait]
    impl Controller for FakeCtl {
        async fn network_sandbox(&self) -> Result<Option<std::path::PathBuf>, ExecError> {
            if self.1.is_some() {
                self.0.push("sandbox".into());
            }
            Ok(self.1.map(Into::into))
        }
        fn set_network(&self, n: TaskNetwork) -> Result<(), ExecError> {
            self.0.push(format!("net {}", n.netns.display()));
            Ok(())
        }
        async fn prepare(&self) -> Result<(), ExecError> {
            self.0.push("prepare".into());
            Ok(())
        }
        async fn start(&self) -> Result<i64, ExecError> {
            self.0.push("start".into());
            Ok(42)
        }
        async fn wait(&self) -> Result<ExitStatus, ExecError> {
            Ok(ExitStatus {
                code: 0,
                signal: None,
            })
        }
        async fn shutdown(&self) -> Result<(), ExecError> {
            Ok(())
        }
        async fn remove(&self) -> Result<(), ExecError> {
            self.0.push("remove".into());
            Ok(())
        }
    }

    fn task() -> Task {
        let mut t = Task {
            id: "t1".into(),
            desired_state: TaskState::Running,
            ..Default::default()
        };
        t.status.state = TaskState::Assigned;
        t.networks_attachments = vec![NetworkAttachment {
            network: Network {
                id: "n1".into(),
                ..Default::default()
            },
            addresses: vec!["10.0.1.5/24".into()],
        }];
        t
    }

    fn map_with_endpoint() -> NetworkMapUpdate {
        let ip = std::net::Ipv4Addr::new(10, 0, 1, 5);
        let net = MapNetwork {
            id: "n1".into(),
            name: "appnet".into(),
            vni: 4097,
            subnet: Ipv4Cidr::new(std::net::Ipv4Addr::new(10, 0, 1, 0), 24).unwrap(),
            gateway: std::net::Ipv4Addr::new(10, 0, 1, 1),
            mtu: 1450,
            internal: false,
            endpoints: vec![MapEndpoint {
                ip,
                mac: MacAddr([2, 0x42, 10, 0, 1, 5]),
                vtep: std::net::Ipv4Addr::new(198, 18, 0, 1),
                task_id: "t1".into(),
                service_id: "s1".into(),
                names: vec![],
            }],
            services: vec![],
            ingress: None,
            encryption: None,
        };
        NetworkMapUpdate::Snapshot(NetworkMap {
            version: 1,
            networks: [("n1".to_string(), net)].into(),
        })
    }

    async fn run_task(
        data_plane: Option<Arc<dyn DataPlane>>,
        log: Arc<Log>,
    ) -> Vec<(TaskState, String)> {
        run_task_in(data_plane, log, None).await
    }

    async fn run_task_in(
        data_plane: Option<Arc<dyn DataPlane>>,
        log: Arc<Log>,
        sandbox: Option<&'static str>,
    ) -> Vec<(TaskState, String)> {
        let (sink, mut rx) = mpsc::unbounded_channel();
        let (_desired_tx, desired) = watch::channel(TaskState::Running);
        let (_stop_tx, stop) = watch::channel(false);
        let tm = tokio::spawn(run(
            task(),
            Arc::new(FakeExec(log, sandbox)),
            data_plane,
            desired,
            stop,
            Arc::new(SystemClock),
            sink,
        ));
        let mut states = Vec::new();
        while let Some((_, s)) = rx.recv().await {
            let terminal = s.state.is_terminal();
            states.push((s.state, s.err.clone()));
            if terminal {
                break;
            }
        }
        tm.abort();
        states
    }

    #[tokio::test]
    async fn attaches_when_the_map_arrives_and_detaches_after_exit() {
        let dp = Arc::new(FakeDataPlane::new());
        let log = Arc::new(Log::default());
        // The map reaches the node after the assignment.
        let late = dp.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            late.apply(&map_with_endpoint()).await.unwrap();
        });
        let states = run_task(Some(dp.clone() as Arc<dyn DataPlane>), log.clone()).await;
        assert_eq!(states.last().unwrap().0, TaskState::Complete, "{states:?}");
        let steps = log.all();
        assert_eq!(steps.len(), 3, "{steps:?}");
        assert!(
            steps[0].starts_with("net ") && steps[0].ends_with("task-t1"),
            "{steps:?}"
        );
        assert_eq!(&steps[1..], ["prepare", "start"]);
        // Detached once the process was gone.
        let calls = calls_once_detached(&dp, "t1").await;
        let attach = calls.iter().position(|c| *c == Call::Attach("t1".into()));
        let detach = calls.iter().position(|c| *c == Call::Detach("t1".into()));
        assert!(attach.is_some() && detach > attach, "{calls:?}");
        assert!(dp.attached().is_empty());
    }

    /// The fake's calls once it saw `task` detached (or after 1 s).
    async fn calls_once_detached(dp: &FakeDataPlane, task: &str) -> Vec<Call> {
        let mut calls = Vec::new();
        for _ in 0..50 {
            calls = dp.calls();
            if calls.contains(&Call::Detach(task.into())) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        calls
    }

    #[tokio::test]
    async fn without_a_data_plane_a_task_on_networks_is_rejected() {
        let log = Arc::new(Log::default());
        let states = run_task(None, log.clone()).await;
        let (state, err) = states.last().unwrap();
        assert_eq!(*state, TaskState::Rejected);
        assert!(err.contains("data plane is not running"), "{err}");
        assert!(log.all().is_empty(), "never prepared or started");
    }

    #[tokio::test]
    async fn a_runtime_sandbox_is_attached_as_it_is() {
        let dp = Arc::new(FakeDataPlane::new());
        dp.apply(&map_with_endpoint()).await.unwrap();
        let log = Arc::new(Log::default());
        let states = run_task_in(
            Some(dp.clone() as Arc<dyn DataPlane>),
            log.clone(),
            Some("/proc/77/ns/net"),
        )
        .await;
        assert_eq!(states.last().unwrap().0, TaskState::Complete, "{states:?}");
        assert_eq!(
            log.all(),
            ["sandbox", "net /proc/77/ns/net", "prepare", "start"]
        );
        let calls = calls_once_detached(&dp, "t1").await;
        assert!(calls.contains(&Call::Detach("t1".into())), "{calls:?}");
    }

    #[tokio::test]
    async fn a_failed_attach_removes_the_runtime_sandbox() {
        let dp = Arc::new(FakeDataPlane::new());
        dp.apply(&map_with_endpoint()).await.unwrap();
        dp.fail_next("veth");
        let log = Arc::new(Log::default());
        let states = run_task_in(
            Some(dp.clone() as Arc<dyn DataPlane>),
            log.clone(),
            Some("/proc/77/ns/net"),
        )
        .await;
        let (state, err) = states.last().unwrap();
        assert_eq!(*state, TaskState::Rejected, "{states:?}");
        assert!(err.contains("veth"), "{err}");
        let mut steps = Vec::new();
        for _ in 0..50 {
            steps = log.all();
            if steps.len() >= 2 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(steps, ["sandbox", "remove"]);
    }
}
