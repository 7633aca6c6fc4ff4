//! Making sure a task's image is on the engine before its container is
//! created: present locally, or pulled. Without a reachable registry a
//! missing image fails the task's preparation (the task is rejected).

use bollard::Docker;
use bollard::query_parameters::CreateImageOptionsBuilder;
use futures_util::StreamExt;

use super::error;
use super::spec::pull_reference;
use crate::ExecError;

/// Succeeds when `image` is present locally, pulling it first if needed.
/// A missing image that cannot be pulled is an [`ExecError::InvalidSpec`]:
/// "image X not found locally and could not be pulled: <why>".
pub(crate) async fn ensure_image(docker: &Docker, image: &str) -> Result<(), ExecError> {
    if present(docker, image).await? {
        return Ok(());
    }
    tracing::info!(image, "image not found locally; pulling it");
    let reason = match pull(docker, image).await {
        Ok(()) if present(docker, image).await? => return Ok(()),
        Ok(()) => "the pull finished but the image is still missing".to_string(),
        Err(reason) => reason,
    };
    Err(ExecError::InvalidSpec(format!(
        "image {image} not found locally and could not be pulled: {reason}"
    )))
}

/// Whether the engine has `image`.
async fn present(docker: &Docker, image: &str) -> Result<bool, ExecError> {
    match docker.inspect_image(image).await {
        Ok(_) => Ok(true),
        Err(e) if error::is_not_found(&e) => Ok(false),
        Err(e) => Err(error::engine(&format!("inspecting image {image}"), &e)),
    }
}

/// Pulls `image` (to the end of the engine's progress stream); the error
/// is the engine's message.
async fn pull(docker: &Docker, image: &str) -> Result<(), String> {
    let (from, tag) = pull_reference(image);
    let mut options = CreateImageOptionsBuilder::new().from_image(&from);
    if let Some(tag) = &tag {
        options = options.tag(tag);
    }
    let mut progress = docker.create_image(Some(options.build()), None, None);
    while let Some(item) = progress.next().await {
        match item {
            Ok(info) => {
                if let Some(message) = info.error_detail.and_then(|d| d.message) {
                    return Err(message);
                }
            }
            Err(e) => return Err(error::describe(&e)),
        }
    }
    Ok(())
}
