//! The JSON the `lms` CLI prints: `lms ls --json`, `lms ps --json`, `lms server status --json`
//! and `lms runtime survey --json` ([`LmsRuntimeSurvey`]).
//!
//! `lms` prints camelCase keys (`modelKey`, `sizeBytes`, ...), unlike the REST API. Unknown
//! fields are kept in each type's `extra` map.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::nullable::null_as_default;

mod lenient;
mod survey;

pub use survey::{
    LmsCompatibilityStatus, LmsCpuArchitecture, LmsCpuInfo, LmsCpuInstructionSetExtension,
    LmsCpuSurveyResult, LmsGpuDetectionPlatform, LmsGpuInfo, LmsGpuIntegrationType,
    LmsGpuSurveyResult, LmsHardwareSurvey, LmsRuntimeSurvey, LmsSurveyCompatibility,
    LmsSurveyEngine, LmsSurveyMemoryInfo, LmsSurveyResultCode, LmsSurveyResultInfo,
    LmsSurveyStatus,
};

open_enum! {
    /// The kind of model `lms` reports in `type`.
    pub enum LmsModelType {
        /// A language model (`"llm"`).
        Llm = "llm",
        /// An embedding model (`"embedding"`).
        Embedding = "embedding",
    }
}

open_enum! {
    /// What a loaded instance is doing (`lms ps --json` `status`, LM Studio 0.3.27+).
    pub enum LmsInstanceStatus {
        /// Loaded and waiting for work (`"idle"`).
        Idle = "idle",
        /// Reading a prompt (`"processingPrompt"`).
        ProcessingPrompt = "processingPrompt",
        /// Producing tokens (`"generating"`).
        Generating = "generating",
        /// Computing an embedding (`"computingEmbedding"`).
        ComputingEmbedding = "computingEmbedding",
    }
}

/// A model's quantization as `lms` reports it (`bits`, where REST says `bits_per_weight`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LmsQuantization {
    /// The quantization name, e.g. `Q4_K_M` or `8bit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Bits per weight, e.g. `4`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bits: Option<f64>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One downloaded model: an element of the array `lms ls --json` prints.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LmsModel {
    /// `llm` or `embedding`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub model_type: Option<LmsModelType>,
    /// The model key, e.g. `qwen/qwen3-4b-2507` (what `lms load` and the REST API take).
    pub model_key: String,
    /// The file format, e.g. `gguf`, or `safetensors` for MLX models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// A name for people, e.g. `Qwen2.5 7B Instruct`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The publisher, e.g. `qwen`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// The path below LM Studio's models directory (what `lms load --exact` takes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Size on disk in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// Deprecated identifier some versions still print.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indexed_model_identifier: Option<String>,
    /// The LM Link device holding the model (or, in `lms ps --json`, running the instance);
    /// `null` (here `None`) means this machine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_identifier: Option<String>,
    /// Parameter count for people, e.g. `7B`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params_string: Option<String>,
    /// The architecture, e.g. `qwen2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// The quantization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantization: Option<LmsQuantization>,
    /// Variant keys (`key@quant`), when the model has variants.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub variants: Vec<String>,
    /// The variant `lms load <key>` picks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected_variant: Option<String>,
    /// Whether the model takes images (LLMs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vision: Option<bool>,
    /// Whether the model was trained for tool use (LLMs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trained_for_tool_use: Option<bool>,
    /// The longest context the model supports, in tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_context_length: Option<u64>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl LmsModel {
    /// Whether this is an embedding model.
    pub fn is_embedding(&self) -> bool {
        self.model_type == Some(LmsModelType::Embedding)
    }
}

/// One loaded model instance: an element of the array `lms ps --json` prints.
///
/// The model's own fields (`modelKey`, `path`, ...) are in [`LmsLoadedModel::model`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LmsLoadedModel {
    /// The instance identifier to send as `model` (usually the key; `key:2` for a second
    /// instance; custom with `lms load --identifier`). See [`LmsLoadedModel::instance_id`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    /// Idle time-to-live in milliseconds; `None` when the instance has no TTL (`null`), and
    /// when `lms` printed something that is not a usable number (negative, huge, a string).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::u64_or_none"
    )]
    pub ttl_ms: Option<u64>,
    /// When the instance last served a request (milliseconds since the Unix epoch); read
    /// like [`ttl_ms`](Self::ttl_ms).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::u64_or_none"
    )]
    pub last_used_time: Option<u64>,
    /// The context length the instance was loaded with, in tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_length: Option<u64>,
    /// What the instance is doing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<LmsInstanceStatus>,
    /// Requests waiting for this instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queued: Option<u64>,
    /// Maximum concurrent predictions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel: Option<u64>,
    /// The model's fields, as in `lms ls --json` (unknown fields land in its `extra`).
    #[serde(flatten)]
    pub model: LmsModel,
}

impl LmsLoadedModel {
    /// The identifier to send as `model`: `identifier`, else the model key.
    pub fn instance_id(&self) -> &str {
        self.identifier
            .as_deref()
            .filter(|id| !id.is_empty())
            .unwrap_or(&self.model.model_key)
    }
}

/// The output of `lms server status --json`: `{"running":true,"port":1234}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LmsServerStatus {
    /// Whether the HTTP server answers.
    #[serde(default, deserialize_with = "null_as_default")]
    pub running: bool,
    /// The server's port; absent when the server was never started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ps_row_splits_instance_and_model_fields() {
        let row = r#"{"type":"llm","modelKey":"k","format":"safetensors","path":"p","sizeBytes":3,
            "deviceIdentifier":null,"quantization":{"name":"8bit","bits":8},"identifier":"k:2",
            "ttlMs":null,"lastUsedTime":1786252670392,"contextLength":65536,"status":"idle",
            "queued":0,"parallel":2,"brandNew":1}"#;
        let loaded: LmsLoadedModel = serde_json::from_str(row).unwrap();
        assert_eq!(loaded.instance_id(), "k:2");
        assert_eq!(loaded.model.model_key, "k");
        assert_eq!(loaded.status, Some(LmsInstanceStatus::Idle));
        assert_eq!(loaded.ttl_ms, None);
        assert_eq!(loaded.model.extra.get("brandNew"), Some(&Value::from(1)));
        assert!(!loaded.model.extra.contains_key("identifier"));
        let again: LmsLoadedModel =
            serde_json::from_str(&serde_json::to_string(&loaded).unwrap()).unwrap();
        assert_eq!(again, loaded);
    }

    #[test]
    fn server_status_without_port() {
        let status: LmsServerStatus = serde_json::from_str(r#"{"running":false}"#).unwrap();
        assert!(!status.running);
        assert_eq!(status.port, None);
        let status: LmsServerStatus =
            serde_json::from_str(r#"{"running":true,"port":1234}"#).unwrap();
        assert_eq!(status.port, Some(1234));
    }
}
