//! A hand-written fake [`DataPlane`] for unit tests of the agent: keeps
//! the map and the attached tasks in memory, checks requests exactly as
//! the real one does (unknown network, missing endpoint, stale delta,
//! invalid task ID), hands out the same interfaces and egress addresses,
//! records every call and fails on demand. It touches no kernel state.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use async_trait::async_trait;
use rswarm_types::{Ipv4Cidr, NetworkMap, NetworkMapUpdate};

use crate::dataplane::{
    AttachRequest, Attached, Cleanup, DataPlane, TaskNetns, endpoints, has_egress, interfaces,
};
use crate::error::NetError;
use crate::ipam::EgressPool;
use crate::names::task_netns;

/// A call the fake received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    Cleanup,
    /// The map version after the update (or the refused delta's target).
    Apply(u64),
    Attach(String),
    Detach(String),
    RemoveAll,
}

/// The fake.
#[derive(Debug)]
pub struct FakeDataPlane {
    state: Mutex<FakeState>,
}

#[derive(Debug)]
struct FakeState {
    map: NetworkMap,
    attached: BTreeMap<String, (Attached, Option<std::net::Ipv4Addr>)>,
    pool: EgressPool,
    calls: Vec<Call>,
    fail_next: Option<String>,
    /// Hand out the host's own namespace and resolv.conf (see
    /// [`FakeDataPlane::in_host_namespace`]).
    host_namespace: bool,
}

impl Default for FakeDataPlane {
    fn default() -> Self {
        FakeDataPlane::new()
    }
}

impl FakeDataPlane {
    /// An empty fake (egress pool 172.30.0.0/16, like the real default).
    pub fn new() -> FakeDataPlane {
        let pool = EgressPool::new(Ipv4Cidr {
            addr: std::net::Ipv4Addr::new(172, 30, 0, 0),
            prefix_len: 16,
        });
        FakeDataPlane {
            state: Mutex::new(FakeState {
                map: NetworkMap::default(),
                attached: BTreeMap::new(),
                pool,
                calls: Vec::new(),
                fail_next: None,
                host_namespace: false,
            }),
        }
    }

    /// Hands every task it creates a namespace for the host's own
    /// (`/proc/self/ns/net`: entering it changes nothing) and the host's
    /// `/etc/resolv.conf`, so a real executor can run the task: for tests
    /// that need a networked task running without kernel plumbing.
    pub fn in_host_namespace(self) -> FakeDataPlane {
        self.lock().host_namespace = true;
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// The attached tasks and what they got.
    pub fn attached(&self) -> BTreeMap<String, Attached> {
        self.lock()
            .attached
            .iter()
            .map(|(k, (a, _))| (k.clone(), a.clone()))
            .collect()
    }

    /// Makes the next call fail with an I/O error saying `why` (after
    /// recording it, changing nothing).
    pub fn fail_next(&self, why: &str) {
        self.lock().fail_next = Some(why.to_string());
    }
}

impl FakeState {
    fn call(&mut self, c: Call) -> Result<(), NetError> {
        self.calls.push(c);
        match self.fail_next.take() {
            Some(why) => Err(NetError::Io {
                op: why,
                source: std::io::ErrorKind::Other.into(),
            }),
            None => Ok(()),
        }
    }
}

#[async_trait]
impl DataPlane for FakeDataPlane {
    async fn cleanup_leftovers(&self) -> Result<Cleanup, NetError> {
        let mut st = self.lock();
        st.call(Call::Cleanup)?;
        st.map = NetworkMap::default();
        st.attached.clear();
        st.pool = EgressPool::new(st.pool.cidr());
        Ok(Cleanup::default())
    }

    async fn apply(&self, update: &NetworkMapUpdate) -> Result<(), NetError> {
        let mut st = self.lock();
        let version = match update {
            NetworkMapUpdate::Snapshot(m) => m.version,
            NetworkMapUpdate::Delta(d) => d.version,
        };
        st.call(Call::Apply(version))?;
        st.map = st.map.updated(update)?;
        Ok(())
    }

    async fn current_map(&self) -> NetworkMap {
        self.lock().map.clone()
    }

    async fn attach(&self, req: &AttachRequest) -> Result<Attached, NetError> {
        let mut st = self.lock();
        st.call(Call::Attach(req.task_id.clone()))?;
        if let Some((a, _)) = st.attached.get(&req.task_id) {
            return Ok(a.clone());
        }
        let map = st.map.clone();
        let nets = endpoints(&map, req)?;
        let egress = if has_egress(&nets) {
            let cidr = st.pool.cidr();
            Some(st.pool.allocate().ok_or(NetError::EgressExhausted(cidr))?)
        } else {
            None
        };
        let prefix_len = st.pool.cidr().prefix_len;
        let netns = match &req.netns {
            TaskNetns::Create if st.host_namespace => PathBuf::from("/proc/self/ns/net"),
            TaskNetns::Create => PathBuf::from("/fake/netns").join(task_netns(&req.task_id)),
            TaskNetns::Existing(p) => p.clone(),
        };
        let resolv_conf = if st.host_namespace {
            PathBuf::from("/etc/resolv.conf")
        } else {
            PathBuf::from("/fake/tasks")
                .join(&req.task_id)
                .join("resolv.conf")
        };
        let a = Attached {
            netns,
            resolv_conf,
            interfaces: interfaces(&nets, egress.map(|addr| Ipv4Cidr { addr, prefix_len })),
        };
        st.attached.insert(req.task_id.clone(), (a.clone(), egress));
        Ok(a)
    }

    async fn detach(&self, task_id: &str) -> Result<(), NetError> {
        let mut st = self.lock();
        st.call(Call::Detach(task_id.to_string()))?;
        if let Some((_, Some(ip))) = st.attached.remove(task_id) {
            st.pool.release(ip);
        }
        Ok(())
    }

    async fn remove_all(&self) -> Result<(), NetError> {
        let mut st = self.lock();
        st.call(Call::RemoveAll)?;
        st.attached.clear();
        st.map = NetworkMap::default();
        st.pool = EgressPool::new(st.pool.cidr());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolv::DnsSettings;
    use rswarm_types::{MacAddr, MapEndpoint, MapNetwork, NetworkMapDelta};
    use std::net::Ipv4Addr;

    fn map(internal: bool) -> NetworkMapUpdate {
        let n = MapNetwork {
            id: "app".into(),
            name: "app".into(),
            vni: 4097,
            subnet: "10.0.1.0/24".parse().expect("cidr"),
            gateway: Ipv4Addr::new(10, 0, 1, 1),
            mtu: 1450,
            internal,
            endpoints: vec![MapEndpoint {
                ip: Ipv4Addr::new(10, 0, 1, 11),
                mac: MacAddr([2, 0, 10, 0, 1, 11]),
                vtep: Ipv4Addr::new(198, 18, 0, 1),
                task_id: "t1".into(),
                service_id: "s".into(),
                names: vec![],
            }],
            services: vec![],
            ingress: None,
            encryption: None,
        };
        NetworkMapUpdate::Snapshot(NetworkMap {
            version: 1,
            networks: [("app".to_string(), n)].into(),
        })
    }

    fn req(task: &str, nets: &[&str]) -> AttachRequest {
        AttachRequest {
            task_id: task.into(),
            netns: TaskNetns::Create,
            networks: nets.iter().map(|s| s.to_string()).collect(),
            dns: DnsSettings::default(),
        }
    }

    #[tokio::test]
    async fn checks_requests_like_the_real_one_and_records_calls() {
        let dp = FakeDataPlane::new();
        dp.apply(&map(false)).await.expect("apply");
        let a = dp.attach(&req("t1", &["app"])).await.expect("attach");
        assert_eq!(a.netns, PathBuf::from("/fake/netns/task-t1"));
        let names: Vec<&str> = a.interfaces.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["eth0", "eth1"]);
        assert_eq!(a.interfaces[1].address.addr, Ipv4Addr::new(172, 30, 0, 2));
        assert!(matches!(
            dp.attach(&req("t2", &["app"])).await,
            Err(NetError::NoEndpoint { .. })
        ));
        let again = dp.attach(&req("t1", &["nope"])).await;
        assert_eq!(again.ok(), Some(a.clone()), "already attached: what it has");
        assert!(matches!(
            dp.attach(&req("t3", &["nope"])).await,
            Err(NetError::UnknownNetwork(_))
        ));
        assert!(matches!(
            dp.attach(&req("../x", &["app"])).await,
            Err(NetError::InvalidTaskId(_))
        ));
        let stale = NetworkMapUpdate::Delta(NetworkMapDelta {
            base_version: 7,
            version: 8,
            ..NetworkMapDelta::default()
        });
        assert!(matches!(
            dp.apply(&stale).await,
            Err(NetError::StaleDelta(_))
        ));
        assert_eq!(dp.current_map().await.version, 1);
        dp.fail_next("boom");
        assert!(dp.detach("t1").await.is_err());
        assert_eq!(dp.attached().len(), 1, "a failed call changes nothing");
        dp.detach("t1").await.expect("detach");
        assert!(dp.attached().is_empty());
        assert_eq!(
            dp.calls(),
            vec![
                Call::Apply(1),
                Call::Attach("t1".into()),
                Call::Attach("t2".into()),
                Call::Attach("t1".into()),
                Call::Attach("t3".into()),
                Call::Attach("../x".into()),
                Call::Apply(8),
                Call::Detach("t1".into()),
                Call::Detach("t1".into()),
            ]
        );
    }

    #[tokio::test]
    async fn internal_only_tasks_get_no_way_out() {
        let dp = FakeDataPlane::new();
        dp.apply(&map(true)).await.expect("apply");
        let a = dp.attach(&req("t1", &["app"])).await.expect("attach");
        assert_eq!(a.interfaces.len(), 1);
    }
}
