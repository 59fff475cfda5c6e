//! What is loaded right now (with TTLs and LM Link devices), and unloading.

use std::collections::HashMap;
use std::time::Duration;

use lmstudio_proto::lms::LmsLoadedModel;
use lmstudio_proto::native::v1::{UnloadRequest, UnloadResponse};

use crate::catalog::{CatalogSource, ModelInfo, ModelKind};
use crate::client::LMStudioClient;
use crate::error::LmStudioError;
use crate::model_id;
use crate::numbers;
use crate::server::{NativeApi, ServerKind};

/// One loaded instance and what it costs.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LoadedModelStatus {
    /// The model key.
    pub key: String,
    /// The instance id to send as `model`.
    pub instance_id: String,
    /// LLM, VLM or embedding model.
    pub kind: ModelKind,
    /// The context length this instance was loaded with.
    pub context_length: Option<u64>,
    /// The largest context the model supports.
    pub max_context_length: Option<u64>,
    /// Size of the model on disk (a lower bound on the memory it uses).
    pub size_bytes: Option<u64>,
    /// Idle time-to-live, when known (`lms ps` reports it; the REST API does not): LM Studio
    /// unloads the instance after this long without requests.
    pub ttl: Option<Duration>,
    /// Maximum concurrent predictions, when known.
    pub parallel: Option<u64>,
    /// The LM Link device running the instance, when it is not this machine (`lms ps`
    /// `deviceIdentifier`). `None`: this machine, or not known (no `lms` to ask).
    pub device: Option<String>,
}

impl LMStudioClient {
    /// Every loaded instance with its context length, size, TTL and device, read fresh from
    /// the server.
    ///
    /// TTLs and LM Link devices come from `lms ps --json` when `lms` is on this machine (the
    /// REST listings do not report them); without it they are `None`.
    pub async fn status(&self) -> Result<Vec<LoadedModelStatus>, LmStudioError> {
        let catalog = self.refresh_models().await?;
        let mut statuses: Vec<LoadedModelStatus> =
            catalog.models.iter().flat_map(instance_statuses).collect();
        // A listing read from `lms` already has them.
        if catalog.source != CatalogSource::LmsCli
            && !statuses.is_empty()
            && self.inner.settings.lms_allowed()
            && let Ok(lms) = self.lms()
        {
            match lms.ps().await {
                Ok(loaded) => merge_lms_instances(&mut statuses, &loaded),
                Err(err) => {
                    tracing::debug!(error = %err, "lms ps failed; TTLs and devices unknown")
                }
            }
        }
        Ok(statuses)
    }

    /// The status of instance `instance_id` of `key`, from a fresh model list, with its TTL
    /// and LM Link device from `lms ps` when the listing lacks them and `lms` answers within
    /// the info limit (see [`LMStudioClientBuilder::lms_info_timeout`](crate::LMStudioClientBuilder::lms_info_timeout)).
    /// `None` when the listing does not show the instance.
    pub(crate) async fn fresh_instance_status(
        &self,
        key: &str,
        instance_id: &str,
    ) -> Option<LoadedModelStatus> {
        let catalog = self.models().await.ok()?;
        let info = model_id::find(&catalog.models, key).ok().flatten()?;
        let mut status = instance_statuses(info)
            .into_iter()
            .find(|s| s.instance_id == instance_id)?;
        let limit = self.inner.settings.lms_info_timeout;
        if catalog.source != CatalogSource::LmsCli
            && !limit.is_zero()
            && self.inner.settings.lms_allowed()
            && let Ok(lms) = self.lms()
        {
            match lms.with_timeout(limit).ps().await {
                Ok(loaded) => merge_lms_instances(std::slice::from_mut(&mut status), &loaded),
                Err(err) => tracing::debug!(error = %err, "lms ps failed; TTL and device unknown"),
            }
        }
        Some(status)
    }

    /// Unloads `model`: an instance id unloads that instance; a model key unloads all of its
    /// instances. Returns the instance ids unloaded (empty when nothing was loaded).
    pub async fn unload(&self, model: &str) -> Result<Vec<String>, LmStudioError> {
        model_id::validate(model)?;
        let server = self.server_info().await?;
        if server.kind == ServerKind::OpenAiCompatible {
            return Err(server.unsupported("unload"));
        }
        let catalog = self.refresh_models().await?;
        let instances: Vec<String> = match model_id::find(&catalog.models, model)? {
            Some(info) => match info.loaded_instances.iter().find(|i| i.id == model) {
                Some(instance) => vec![instance.id.clone()],
                None => info.loaded_instances.iter().map(|i| i.id.clone()).collect(),
            },
            None if catalog.source.knows_load_state() => Vec::new(),
            None => vec![model.to_owned()],
        };
        let result = self.unload_instances(&server.kind, &instances).await;
        self.invalidate_models();
        result.map(|()| instances)
    }

    async fn unload_instances(
        &self,
        kind: &ServerKind,
        instances: &[String],
    ) -> Result<(), LmStudioError> {
        for instance in instances {
            if *kind == ServerKind::LmStudio(NativeApi::V1) {
                let _: UnloadResponse = self
                    .http()
                    .post_json(
                        "/api/v1/models/unload",
                        &UnloadRequest::new(instance.as_str()),
                    )
                    .await
                    .map_err(|e| self.map_http(e))?;
            } else if self.inner.settings.lms_allowed() {
                self.lms()?
                    .unload(instance)
                    .await
                    .map_err(LmStudioError::from_lms)?;
            } else {
                return Err(LmStudioError::Unsupported {
                    operation: "unload".to_owned(),
                    url: self.base_url().to_owned(),
                    reason: "this LM Studio has no REST unload API (it is older than 0.4) and \
                             is not on this machine, so lms cannot unload for it"
                        .to_owned(),
                });
            }
        }
        Ok(())
    }
}

/// Fills the TTLs and LM Link devices the listing lacked from `lms ps --json` rows, matched
/// by instance id (the first row of an id wins). Linear in the rows, however many `lms`
/// prints.
pub(crate) fn merge_lms_instances(statuses: &mut [LoadedModelStatus], loaded: &[LmsLoadedModel]) {
    let mut rows: HashMap<&str, &LmsLoadedModel> = HashMap::new();
    for row in loaded {
        rows.entry(row.instance_id()).or_insert(row);
    }
    for status in statuses {
        let Some(row) = rows.get(status.instance_id.as_str()) else {
            continue;
        };
        if status.ttl.is_none() {
            status.ttl = numbers::ttl_from_millis(row.ttl_ms);
        }
        if status.device.is_none() {
            status.device.clone_from(&row.model.device_identifier);
        }
    }
}

/// One status per loaded instance of `model`.
pub(crate) fn instance_statuses(model: &ModelInfo) -> Vec<LoadedModelStatus> {
    model
        .loaded_instances
        .iter()
        .map(|instance| LoadedModelStatus {
            key: model.key.clone(),
            instance_id: instance.id.clone(),
            kind: model.kind.clone(),
            context_length: instance.context_length.or(model.loaded_context_length),
            max_context_length: model.max_context_length,
            size_bytes: model.size_bytes,
            ttl: instance.ttl,
            parallel: instance.parallel,
            device: instance.device.clone(),
        })
        .collect()
}
