//! Service create, update, rollback, remove and reads.

use rswarm_store::{Kind, Object};
use rswarm_types::{
    ControlError, EndpointSpec, Service, ServiceSpec, TaskState, UpdateStatus, Version, validate,
};

use super::{ControlApi, check_version};
use crate::allocator;

/// The endpoint spec the managers record for a service: as Swarm, only a
/// service with published ports has one (`Endpoint.Spec` is `{}` otherwise).
/// `Endpoint.Ports` are allocated from it in the same transaction as the
/// VIPs ([`allocator::ports`]), so a refused port changes nothing.
fn endpoint_spec(spec: &ServiceSpec) -> EndpointSpec {
    spec.endpoint_spec
        .clone()
        .filter(|e| !e.ports.is_empty())
        .unwrap_or_default()
}

impl ControlApi {
    /// All services.
    pub fn list_services(&self) -> Vec<rswarm_types::Service> {
        self.store.view(|t| t.services().cloned().collect())
    }

    /// The service with this full ID.
    pub fn service(&self, id: &str) -> Option<rswarm_types::Service> {
        self.store.view(|t| t.service(id).cloned())
    }

    /// All tasks.
    pub fn list_tasks(&self) -> Vec<rswarm_types::Task> {
        self.store.view(|t| t.tasks().cloned().collect())
    }

    /// Creates a service from a validated spec. The name must be set.
    pub async fn create_service(&self, mut spec: ServiceSpec) -> Result<Service, ControlError> {
        validate::validate_service_spec(&mut spec)?;
        let now = self.clock.now();
        let mut service = Service {
            id: rswarm_rt::new_id(),
            spec,
            spec_version: Some(Version::default()),
            ..Default::default()
        };
        service.meta.created_at = now;
        service.endpoint.spec = endpoint_spec(&service.spec);
        if service.spec.mode.replicated_job.is_some() || service.spec.mode.global_job.is_some() {
            service.job_status = Some(rswarm_types::JobStatus {
                job_iteration: Version::default(),
                last_execution: Some(now),
            });
        }
        let id = service.id.clone();
        self.store
            .update(|tx| {
                allocator::resolve_networks(tx.base(), &mut service.spec)?;
                service.endpoint.ports = allocator::ports::endpoint_ports(tx.base(), &service)?;
                service.endpoint.virtual_ips = allocator::service_vips(tx.base(), &service)?;
                tx.create(Object::Service(service))?;
                Ok::<_, ControlError>(())
            })
            .await?;
        self.store
            .view(|t| t.service(&id).cloned())
            .ok_or_else(|| ControlError::not_found("service", id))
    }

    /// Updates a service to `spec` (or swaps back to its previous spec when
    /// `rollback`), checking the client's `version`.
    pub async fn update_service(
        &self,
        id: &str,
        version: u64,
        mut spec: ServiceSpec,
        rollback: bool,
    ) -> Result<(), ControlError> {
        let now = self.clock.now();
        self.store
            .update(|tx| {
                let mut service = tx
                    .service(id)
                    .ok_or_else(|| ControlError::not_found("service", id))?;
                check_version(service.meta.version.index, version)?;
                if rollback {
                    let previous = service.previous_spec.take().ok_or_else(|| {
                        ControlError::invalid(format!(
                            "service {} does not have a previous spec",
                            service.spec.name
                        ))
                    })?;
                    let previous_version = service.previous_spec_version.take();
                    service.previous_spec = Some(std::mem::replace(&mut service.spec, previous));
                    service.previous_spec_version = service
                        .spec_version
                        .replace(previous_version.unwrap_or_default());
                    service.update_status = Some(UpdateStatus {
                        state: "rollback_started".into(),
                        started_at: Some(now),
                        completed_at: None,
                        message: "manually requested rollback".into(),
                    });
                } else {
                    if spec.name.is_empty() {
                        spec.name = service.spec.name.clone();
                    }
                    validate::validate_service_spec(&mut spec)?;
                    if spec.name != service.spec.name {
                        return Err(ControlError::NotImplemented(
                            "renaming services is not supported".into(),
                        ));
                    }
                    if spec.mode.kind() != service.spec.mode.kind() {
                        return Err(ControlError::NotImplemented(
                            "service mode change is not allowed".into(),
                        ));
                    }
                    let old_version = service.meta.version;
                    service.previous_spec = Some(std::mem::replace(&mut service.spec, spec));
                    service.previous_spec_version = service.spec_version.replace(old_version);
                    service.update_status = None;
                }
                allocator::resolve_networks(tx.base(), &mut service.spec)?;
                service.endpoint.spec = endpoint_spec(&service.spec);
                service.endpoint.ports = allocator::ports::endpoint_ports(tx.base(), &service)?;
                service.endpoint.virtual_ips = allocator::service_vips(tx.base(), &service)?;
                tx.update(Object::Service(service))?;
                Ok(())
            })
            .await
    }

    /// Removes a service; its tasks get desired state `remove` in the same
    /// write, so they stop and the reaper deletes them.
    pub async fn remove_service(&self, id: &str) -> Result<(), ControlError> {
        self.store
            .update(|tx| {
                tx.service(id)
                    .ok_or_else(|| ControlError::not_found("service", id))?;
                let tasks: Vec<_> = tx.base().tasks_of_service(id).cloned().collect();
                for mut task in tasks {
                    if task.desired_state < TaskState::Remove {
                        task.desired_state = TaskState::Remove;
                        tx.update(Object::Task(task))?;
                    }
                }
                tx.delete(Kind::Service, id)?;
                Ok(())
            })
            .await
    }
}
