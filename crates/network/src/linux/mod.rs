//! The real data plane: rtnetlink for links, addresses, routes,
//! neighbours and FDB entries; namespaces pinned under the configured
//! root; `nft` for VIPs and egress NAT; the embedded DNS server.

mod cleanup;
mod egress;
mod encrypted;
mod mesh;
mod overlay;
pub mod secure;
mod task;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use rswarm_types::{NetworkMap, NetworkMapUpdate};
use tokio::sync::{Mutex, watch};

use crate::config::DataPlaneConfig;
use crate::dataplane::{AttachRequest, Attached, Cleanup, DataPlane, endpoints, has_egress};
use crate::dns::Records;
use crate::error::NetError;
use crate::ipam::EgressPool;
use crate::netns;
use crate::nft;
use crate::plan::{desired_peers, plan_networks, stale_neighbours};
use crate::underlay;
use crate::vip;

use overlay::Overlay;
use task::{Plumbing, Setup};

/// The data plane of a Linux node.
#[derive(Debug)]
pub struct LinuxDataPlane {
    cfg: DataPlaneConfig,
    state: Mutex<State>,
    records: watch::Sender<Arc<Records>>,
}

#[derive(Debug)]
struct State {
    map: NetworkMap,
    overlays: BTreeMap<String, Overlay>,
    tasks: BTreeMap<String, Plumbing>,
    pool: EgressPool,
    egress_up: bool,
    /// The node's routing-mesh endpoint, while the map has an ingress.
    mesh: Option<mesh::Endpoint>,
    /// The tunnel of encrypted networks, while the map has one.
    encrypted: Option<encrypted::Encrypted>,
    /// Whether the host table untracking VXLAN is in place.
    vxlan_untracked: bool,
}

impl LinuxDataPlane {
    /// A data plane with nothing programmed yet; makes the namespace root
    /// a shared mount point.
    pub fn new(cfg: DataPlaneConfig) -> Result<LinuxDataPlane, NetError> {
        netns::prepare_root(&cfg.netns_root)?;
        let pool = EgressPool::new(cfg.egress_subnet);
        Ok(LinuxDataPlane {
            cfg,
            state: Mutex::new(State {
                map: NetworkMap::default(),
                overlays: BTreeMap::new(),
                tasks: BTreeMap::new(),
                pool,
                egress_up: false,
                mesh: None,
                encrypted: None,
                vxlan_untracked: false,
            }),
            records: watch::Sender::new(Arc::new(Records::default())),
        })
    }

    /// Its settings.
    pub fn config(&self) -> &DataPlaneConfig {
        &self.cfg
    }

    async fn converge(&self, st: &mut State, old: &NetworkMap) -> Result<(), NetError> {
        let mut first: Option<NetError> = None;
        let have = st
            .overlays
            .iter()
            .map(|(id, o)| (id.clone(), o.key))
            .collect();
        let plan = plan_networks(&have, &st.map);
        // Encryption first; an encrypted network is not created while its
        // tunnel cannot run (its traffic would leave in clear).
        let secure = encrypted::converge(&self.cfg, &mut st.encrypted, &st.map).await;
        let secure_ok = secure.is_ok();
        if let Err(e) = secure {
            first.get_or_insert(e);
        }
        for id in &plan.remove {
            if let Some(o) = st.overlays.remove(id)
                && let Err(e) = overlay::remove(&o)
            {
                first.get_or_insert(e);
            }
        }
        for id in &plan.create {
            if let Some(net) = st.map.networks.get(id)
                && (secure_ok || net.encryption.is_none())
            {
                match overlay::create(&self.cfg, net).await {
                    Ok(o) => {
                        st.overlays.insert(id.clone(), o);
                    }
                    Err(e) => {
                        first.get_or_insert(e);
                    }
                }
            }
        }
        if let Err(e) = self.untrack_vxlan(st, !st.overlays.is_empty()).await {
            first.get_or_insert(e);
        }
        for (id, net) in &st.map.networks {
            if let Some(o) = st.overlays.get_mut(id)
                && let Err(e) = overlay::program(o, &desired_peers(net, self.cfg.vtep)).await
            {
                first.get_or_insert(e);
            }
        }
        self.records.send_replace(Arc::new(Records::build(&st.map)));
        for (net, ips) in stale_neighbours(old, &st.map) {
            for t in st.tasks.values() {
                if let Err(e) = task::forget_neighbours(t, &net, &ips).await {
                    first.get_or_insert(e);
                }
            }
        }
        if let Err(e) = self.converge_mesh(st, &plan.create).await {
            first.get_or_insert(e);
        }
        for t in st.tasks.values_mut() {
            let task_mesh = crate::mesh::task_mesh(&st.map, &t.networks, &t.task_id);
            let rules = vip::ruleset(&vip::vips(&st.map, &t.networks), task_mesh.as_ref());
            if t.nft.as_ref() != Some(&rules) {
                match nft::apply(&t.netns(), rules.clone()).await {
                    Ok(()) => t.nft = Some(rules),
                    Err(e) => {
                        first.get_or_insert(e);
                    }
                }
            }
            let routes = task_mesh.as_ref().map(crate::mesh::policy_routes);
            if let Err(e) = mesh::program_task(t, routes).await {
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }

    /// Puts the host table untracking VXLAN in place (`on`) or removes it.
    async fn untrack_vxlan(&self, st: &mut State, on: bool) -> Result<(), NetError> {
        if st.vxlan_untracked == on {
            return Ok(());
        }
        let vtep = on.then_some(self.cfg.vtep);
        nft::apply(
            &self.cfg.host,
            underlay::host_ruleset(vtep, self.cfg.vxlan_port),
        )
        .await?;
        st.vxlan_untracked = on;
        Ok(())
    }

    /// The node's mesh endpoint follows the ingress network of the map
    /// (rebuilt when its overlay was just created or its address moved),
    /// and the host table its published ports.
    async fn converge_mesh(&self, st: &mut State, created: &[String]) -> Result<(), NetError> {
        let want = st
            .map
            .networks
            .values()
            .find(|n| n.ingress.is_some() && st.overlays.contains_key(&n.id));
        let Some(net) = want else {
            if st.mesh.take().is_some() {
                mesh::down(&self.cfg).await?;
            }
            return Ok(());
        };
        let local = net.ingress.as_ref().map(|i| i.local);
        let stale =
            st.mesh.as_ref().is_none_or(|m| {
                m.network_id != net.id || m.vni != net.vni || Some(m.local) != local
            }) || created.contains(&net.id);
        if stale {
            st.mesh = None;
            let ov = &st.overlays[&net.id];
            st.mesh = Some(mesh::up(&self.cfg, ov, net).await?);
        }
        match st.mesh.as_mut() {
            Some(ep) => mesh::program(&self.cfg, ep, net).await,
            None => Ok(()),
        }
    }

    async fn teardown_task(&self, st: &mut State, mut p: Plumbing) -> Result<(), NetError> {
        let r = task::teardown(&self.cfg, &mut p).await;
        if let Some(ip) = p.egress.take() {
            st.pool.release(ip);
        }
        let r2 = self.egress_down_if_unused(st).await;
        r.and(r2)
    }

    async fn egress_down_if_unused(&self, st: &mut State) -> Result<(), NetError> {
        if st.egress_up && st.pool.is_empty() {
            st.egress_up = false;
            egress::down(&self.cfg).await?;
        }
        Ok(())
    }

    async fn attach_locked(
        &self,
        st: &mut State,
        req: &AttachRequest,
    ) -> Result<Attached, NetError> {
        let nets = endpoints(&st.map, req)?;
        let overlays = req
            .networks
            .iter()
            .map(|id| {
                st.overlays
                    .get(id)
                    .ok_or_else(|| NetError::UnknownNetwork(id.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut egress = None;
        if has_egress(&nets) {
            if !st.egress_up {
                egress::up(&self.cfg).await?;
                st.egress_up = true;
            }
            egress = Some(
                st.pool
                    .allocate()
                    .ok_or(NetError::EgressExhausted(self.cfg.egress_subnet))?,
            );
        }
        let setup = Setup {
            cfg: &self.cfg,
            map: &st.map,
            req,
            nets: &nets,
            overlays,
            records: self.records.subscribe(),
        };
        let mut p = task::new_plumbing(&self.cfg, req);
        match task::build(&setup, &mut p, egress).await {
            Ok(()) => {
                let a = p.attached();
                st.tasks.insert(req.task_id.clone(), p);
                Ok(a)
            }
            Err(e) => {
                p.egress = egress;
                let _ = self.teardown_task(st, p).await;
                Err(e)
            }
        }
    }
}

#[async_trait]
impl DataPlane for LinuxDataPlane {
    async fn cleanup_leftovers(&self) -> Result<Cleanup, NetError> {
        let mut st = self.state.lock().await;
        for (_, mut p) in std::mem::take(&mut st.tasks) {
            if let Some(dns) = p.dns.take() {
                dns.stop().await;
            }
        }
        st.overlays.clear();
        st.map = NetworkMap::default();
        st.pool = EgressPool::new(self.cfg.egress_subnet);
        st.egress_up = false;
        st.mesh = None;
        st.vxlan_untracked = false;
        if let Some(e) = st.encrypted.take() {
            let _ = encrypted::down(&self.cfg, Some(e)).await;
        }
        self.records.send_replace(Arc::new(Records::default()));
        cleanup::sweep(&self.cfg).await
    }

    async fn apply(&self, update: &NetworkMapUpdate) -> Result<(), NetError> {
        let mut st = self.state.lock().await;
        let new = st.map.updated(update)?;
        let old = std::mem::replace(&mut st.map, new);
        self.converge(&mut st, &old).await
    }

    async fn current_map(&self) -> NetworkMap {
        self.state.lock().await.map.clone()
    }

    async fn attach(&self, req: &AttachRequest) -> Result<Attached, NetError> {
        let mut st = self.state.lock().await;
        if let Some(p) = st.tasks.get(&req.task_id) {
            return Ok(p.attached());
        }
        self.attach_locked(&mut st, req).await
    }

    async fn detach(&self, task_id: &str) -> Result<(), NetError> {
        let mut st = self.state.lock().await;
        match st.tasks.remove(task_id) {
            Some(p) => self.teardown_task(&mut st, p).await,
            None => Ok(()),
        }
    }

    async fn remove_all(&self) -> Result<(), NetError> {
        let mut st = self.state.lock().await;
        let mut first: Option<NetError> = None;
        for (_, p) in std::mem::take(&mut st.tasks) {
            if let Err(e) = self.teardown_task(&mut st, p).await {
                first.get_or_insert(e);
            }
        }
        if st.mesh.take().is_some()
            && let Err(e) = mesh::down(&self.cfg).await
        {
            first.get_or_insert(e);
        }
        if let Some(enc) = st.encrypted.take()
            && let Err(e) = encrypted::down(&self.cfg, Some(enc)).await
        {
            first.get_or_insert(e);
        }
        for (_, o) in std::mem::take(&mut st.overlays) {
            if let Err(e) = overlay::remove(&o) {
                first.get_or_insert(e);
            }
        }
        if let Err(e) = self.untrack_vxlan(&mut st, false).await {
            first.get_or_insert(e);
        }
        st.map = NetworkMap::default();
        self.records.send_replace(Arc::new(Records::default()));
        if st.egress_up {
            st.egress_up = false;
            if let Err(e) = egress::down(&self.cfg).await {
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }
}
