//! `POST /api/v1/models/load` and `POST /api/v1/models/unload`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::nullable::null_as_default;

use super::models::{InstanceConfig, ModelType};

open_enum! {
    /// The outcome of a load (`status`).
    pub enum LoadStatus {
        /// The model is loaded (`"loaded"`).
        Loaded = "loaded",
    }
}

/// `POST /api/v1/models/load`. Blocks until the load ends, and always creates a new instance:
/// check [`Model::is_loaded`](super::Model::is_loaded) first.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LoadRequest {
    /// The model key (variant keys `key@quant` were rejected by 0.4.1).
    pub model: String,
    /// The context length to load with, in tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_length: Option<u64>,
    /// The evaluation batch size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_batch_size: Option<u64>,
    /// Whether to use flash attention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flash_attention: Option<bool>,
    /// Active experts (mixture-of-experts models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_experts: Option<u64>,
    /// Whether to offload the KV cache to the GPU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offload_kv_cache_to_gpu: Option<bool>,
    /// Ask the server to return the resulting `load_config`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub echo_load_config: Option<bool>,
    /// Other fields to send (e.g. undocumented `ttl`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl LoadRequest {
    /// A request to load `model` with the server's defaults.
    pub fn new(model: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            ..Self::default()
        }
    }

    /// Sets the context length.
    pub fn with_context_length(mut self, tokens: u64) -> Self {
        self.context_length = Some(tokens);
        self
    }
}

/// The answer to a load.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LoadResponse {
    /// `llm` or `embedding`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub model_type: Option<ModelType>,
    /// The new instance's identifier (send it as `model`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// How long the load took, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_time_seconds: Option<f64>,
    /// `loaded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<LoadStatus>,
    /// The configuration used (with `echo_load_config: true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_config: Option<InstanceConfig>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `POST /api/v1/models/unload`: `{"instance_id": "..."}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UnloadRequest {
    /// The instance to unload (a loaded instance's `id`).
    pub instance_id: String,
    /// Other fields to send.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl UnloadRequest {
    /// A request to unload `instance_id`.
    pub fn new(instance_id: impl Into<String>) -> Self {
        Self {
            instance_id: instance_id.into(),
            extra: Map::new(),
        }
    }
}

/// The answer to an unload: `{"instance_id": "..."}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UnloadResponse {
    /// The instance that was unloaded.
    #[serde(default, deserialize_with = "null_as_default")]
    pub instance_id: String,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
