//! `GET /api/v1/models`: every downloaded model with its loaded instances.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::nullable::null_as_default;

open_enum! {
    /// The kind of model (`type`). Note v1 says `embedding` where v0 says `embeddings`.
    pub enum ModelType {
        /// A language model (`"llm"`).
        Llm = "llm",
        /// An embedding model (`"embedding"`).
        Embedding = "embedding",
    }
}

open_enum! {
    /// A reasoning setting (`capabilities.reasoning` options, the chat request's `reasoning`).
    pub enum ReasoningSetting {
        /// No reasoning (`"off"`).
        Off = "off",
        /// Reasoning on, model default effort (`"on"`).
        On = "on",
        /// Low effort (`"low"`).
        Low = "low",
        /// Medium effort (`"medium"`).
        Medium = "medium",
        /// High effort (`"high"`).
        High = "high",
    }
}

/// `GET /api/v1/models`: `{"models":[...]}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelsResponse {
    /// Every downloaded model (the key is required: an `{"error":...}` body must not read as
    /// "none"; `null` reads as none).
    #[serde(deserialize_with = "null_as_default")]
    pub models: Vec<Model>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ModelsResponse {
    /// The model whose `key` is exactly `key`.
    pub fn find(&self, key: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.key == key)
    }
}

/// One downloaded model.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Model {
    /// `llm` or `embedding`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub model_type: Option<ModelType>,
    /// The publisher, e.g. `google`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// The model key, e.g. `google/gemma-4-26b-a4b`.
    pub key: String,
    /// A name for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The architecture, e.g. `gemma4` (absent for embedding models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// The quantization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantization: Option<Quantization>,
    /// Size on disk in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// Parameter count for people, e.g. `26B-A4B`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params_string: Option<String>,
    /// The instances in memory; empty when the model is not loaded.
    #[serde(default, deserialize_with = "null_as_default")]
    pub loaded_instances: Vec<LoadedInstance>,
    /// The longest context the model supports, in tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_context_length: Option<u64>,
    /// The format: `gguf` or `mlx`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// What the model can do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Capabilities>,
    /// A description, when the catalog has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Variant keys (`key@quant`), newer servers only.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub variants: Vec<String>,
    /// The variant a load of `key` picks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected_variant: Option<String>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Model {
    /// Whether at least one instance is loaded.
    pub fn is_loaded(&self) -> bool {
        !self.loaded_instances.is_empty()
    }

    /// The loaded instances' identifiers (what to send as `model`), in server order.
    pub fn instance_ids(&self) -> impl Iterator<Item = &str> {
        self.loaded_instances.iter().map(|i| i.id.as_str())
    }

    /// Whether this is an embedding model.
    pub fn is_embedding(&self) -> bool {
        self.model_type == Some(ModelType::Embedding)
    }

    /// The context length of the first loaded instance, if any.
    pub fn loaded_context_length(&self) -> Option<u64> {
        self.loaded_instances
            .iter()
            .find_map(|i| i.config.context_length)
    }
}

/// A model's quantization (`bits_per_weight`, where `lms` says `bits`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Quantization {
    /// The quantization name, e.g. `Q4_K_M`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Bits per weight, e.g. `4`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bits_per_weight: Option<f64>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One instance of a model in memory.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LoadedInstance {
    /// The instance identifier to send as `model` (`key`, `key:2`, or a custom one).
    pub id: String,
    /// How the instance was loaded.
    #[serde(default, deserialize_with = "null_as_default")]
    pub config: InstanceConfig,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An instance's load configuration (also the load response's `load_config`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InstanceConfig {
    /// The loaded context length, in tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_length: Option<u64>,
    /// The evaluation batch size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_batch_size: Option<u64>,
    /// Maximum concurrent predictions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel: Option<u64>,
    /// Whether flash attention is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flash_attention: Option<bool>,
    /// Active experts (mixture-of-experts models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_experts: Option<u64>,
    /// Whether the KV cache is offloaded to the GPU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offload_kv_cache_to_gpu: Option<bool>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What a model can do.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Capabilities {
    /// Whether the model takes images.
    #[serde(default, deserialize_with = "null_as_default")]
    pub vision: bool,
    /// Whether the model was trained for tool use.
    #[serde(default, deserialize_with = "null_as_default")]
    pub trained_for_tool_use: bool,
    /// The reasoning settings the model accepts, when it reasons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<ReasoningCapability>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The reasoning settings a model accepts.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReasoningCapability {
    /// The accepted values of the chat request's `reasoning`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub allowed_options: Vec<ReasoningSetting>,
    /// The setting used when a request does not choose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<ReasoningSetting>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
