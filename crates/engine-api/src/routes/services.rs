//! `/services`: list (filters, `status=true`), inspect (`insertDefaults`),
//! create (201, generated names), update (`version`, `rollback`), remove.

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use rswarm_types::{ControlError, Service, ServiceSpec};

use super::Shared;
use crate::body::JsonBody;
use crate::convert::{insert_defaults, move_deprecated_networks, service_out};
use crate::error::{ApiError, ApiResult};
use crate::filters::Filters;
use crate::guard;
use crate::names;
use crate::query::Params;
use crate::resolve::resolve_service;
use crate::spec_in::spec_in;
use crate::version::ApiVersion;

const ACCEPTED: &[&str] = &["id", "name", "label", "mode", "runtime"];

/// How many generated names to try before giving up on conflicts.
const NAME_ATTEMPTS: usize = 5;

/// The runtime of a task spec as swarmkit names it (`container` for us).
pub fn runtime_of(spec: &rswarm_types::TaskSpec) -> String {
    if spec.container_spec.is_some() {
        "container".into()
    } else {
        spec.runtime.to_ascii_lowercase()
    }
}

/// True when `service` passes `f` (swarmkit `ListServices` + moby's `mode`).
pub fn service_matches(f: &Filters, s: &Service) -> bool {
    let mode = s.spec.mode.kind().map(|k| k.as_str()).unwrap_or("");
    f.prefix("id", &s.id)
        && f.prefix("name", &s.spec.name)
        && f.labels("label", &s.spec.labels)
        && f.exact("mode", mode)
        && f.exact("runtime", &runtime_of(&s.spec.task_template))
}

/// `GET /services[?filters=...][&status=true]`.
pub(super) async fn list(
    State(backend): State<Shared>,
    Extension(version): Extension<ApiVersion>,
    params: Params,
) -> ApiResult {
    let f = Filters::parse(params.get("filters"))?;
    f.validate(ACCEPTED)?;
    let status = if version.at_least("1.41") {
        params
            .strict_flag("status")
            .map_err(|raw| ApiError::bad_request(format!("invalid value for status: {raw}")))?
            .unwrap_or(false)
    } else {
        false
    };
    guard::manager(backend.as_ref()).await?;
    let services: Vec<Service> = backend
        .list_services()
        .await?
        .into_iter()
        .filter(|s| service_matches(&f, s))
        .map(service_out)
        .collect();
    if !status {
        return Ok(Json(services).into_response());
    }
    let mut statuses = backend.service_statuses(&services).await?;
    let services: Vec<Service> = services
        .into_iter()
        .map(|mut s| {
            s.service_status = Some(statuses.remove(&s.id).unwrap_or_default());
            s
        })
        .collect();
    Ok(Json(services).into_response())
}

/// `GET /services/{id}[?insertDefaults=true]`.
pub(super) async fn inspect(
    State(backend): State<Shared>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult {
    let defaults = params
        .strict_flag("insertDefaults")
        .map_err(|raw| ApiError::bad_request(format!("invalid value for insertDefaults: {raw}")))?
        .unwrap_or(false);
    guard::manager(backend.as_ref()).await?;
    let mut service = service_out(resolve_service(backend.as_ref(), &id).await?);
    if defaults {
        insert_defaults(&mut service.spec);
    }
    Ok(Json(service).into_response())
}

/// rswarm has no secrets or configs yet, so a spec that refers to one
/// refers to one that does not exist: 404 naming it, before anything is
/// stored (swarmkit's `secret not found: NAME`). Networks are resolved by
/// the managers (moby's `network NAME not found`).
fn refuse_unknown_references(spec: &ServiceSpec) -> Result<(), ControlError> {
    let Some(c) = spec.task_template.container_spec.as_ref() else {
        return Ok(());
    };
    let pick = |name: &str, id: &str| if name.is_empty() { id } else { name }.to_string();
    if let Some(s) = c.secrets.first() {
        return Err(ControlError::not_found(
            "secret",
            pick(&s.secret_name, &s.secret_id),
        ));
    }
    if let Some(cf) = c.configs.first() {
        return Err(ControlError::not_found(
            "config",
            pick(&cf.config_name, &cf.config_id),
        ));
    }
    Ok(())
}

/// `POST /services/create`: 201 `{"ID","Warnings":null}`.
pub(super) async fn create(
    State(backend): State<Shared>,
    JsonBody(mut spec): JsonBody<ServiceSpec>,
) -> ApiResult {
    move_deprecated_networks(&mut spec)?;
    spec_in(&mut spec)?;
    guard::manager(backend.as_ref()).await?;
    refuse_unknown_references(&spec)?;
    let generated = spec.name.is_empty();
    let mut attempt = 0;
    let service = loop {
        attempt += 1;
        if generated {
            spec.name = names::random();
        }
        match backend.create_service(spec.clone()).await {
            Err(ControlError::NameConflict { .. }) if generated && attempt < NAME_ATTEMPTS => {
                continue;
            }
            other => break other.map_err(ApiError::from_control_api)?,
        }
    };
    let body = serde_json::json!({ "ID": service.id, "Warnings": null });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `POST /services/{id}/update?version=N[&rollback=previous][&registryAuthFrom=spec]`.
pub(super) async fn update(
    State(backend): State<Shared>,
    Path(id): Path<String>,
    params: Params,
    JsonBody(mut spec): JsonBody<ServiceSpec>,
) -> ApiResult {
    let version = params.object_version("service")?;
    let rollback = match params.get("rollback") {
        "" | "none" => false,
        "previous" => true,
        other => {
            return Err(ApiError::bad_request(format!(
                "unrecognized rollback option {other}"
            )));
        }
    };
    match params.get("registryAuthFrom") {
        "" | "spec" | "previous-spec" => {}
        other => {
            return Err(ApiError::bad_request(format!(
                "unsupported registryAuthFrom value {other}"
            )));
        }
    }
    move_deprecated_networks(&mut spec)?;
    spec_in(&mut spec)?;
    guard::manager(backend.as_ref()).await?;
    let service = resolve_service(backend.as_ref(), &id).await?;
    if !rollback {
        refuse_unknown_references(&spec)?;
    }
    backend
        .update_service(&service.id, version, spec, rollback)
        .await
        .map_err(ApiError::from_control_api)?;
    Ok(Json(serde_json::json!({ "Warnings": null })).into_response())
}

/// `DELETE /services/{id}`.
pub(super) async fn remove(State(backend): State<Shared>, Path(id): Path<String>) -> ApiResult {
    guard::manager(backend.as_ref()).await?;
    let service = resolve_service(backend.as_ref(), &id).await?;
    backend
        .remove_service(&service.id)
        .await
        .map_err(ApiError::from_control_api)?;
    Ok(().into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rswarm_types::{ConfigReference, ContainerSpec, SecretReference};

    #[test]
    fn unknown_secret_and_config_references_are_named() {
        let mut spec = ServiceSpec::default();
        refuse_unknown_references(&spec).expect("no container spec");
        spec.task_template.container_spec = Some(ContainerSpec {
            image: "busybox".into(),
            ..Default::default()
        });
        refuse_unknown_references(&spec).expect("no references");
        let c = spec.task_template.container_spec.as_mut().expect("set");
        c.configs.push(ConfigReference {
            config_id: "cid".into(),
            ..Default::default()
        });
        let err = refuse_unknown_references(&spec).expect_err("config");
        assert_eq!(
            err.to_string(),
            ControlError::not_found("config", "cid").to_string()
        );
        let c = spec.task_template.container_spec.as_mut().expect("set");
        c.secrets.push(SecretReference {
            secret_id: "sid".into(),
            secret_name: "db_password".into(),
            ..Default::default()
        });
        let err = refuse_unknown_references(&spec).expect_err("secret");
        assert!(matches!(err, ControlError::NotFound { .. }), "{err:?}");
        assert!(err.to_string().contains("db_password"), "{err}");
    }
}
