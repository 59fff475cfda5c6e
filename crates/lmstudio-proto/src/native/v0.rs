//! `/api/v0/*` (LM Studio 0.3.6+): the model list with load state and context lengths.
//!
//! `/api/v0/chat/completions`, `/api/v0/completions` and `/api/v0/embeddings` answer in the
//! OpenAI shapes (plus `stats`, `model_info`, `runtime`): use the [`crate::openai`] types.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::nullable::null_as_default;

use crate::openai::ObjectKind;

open_enum! {
    /// Whether a model is in memory (`state`).
    pub enum ModelState {
        /// Loaded and ready (`"loaded"`).
        Loaded = "loaded",
        /// Downloaded but not in memory (`"not-loaded"`).
        NotLoaded = "not-loaded",
        /// Being loaded (`"loading"`; seen in clients, not documented).
        Loading = "loading",
    }
}

open_enum! {
    /// The kind of model (`type`). Note v0 says `embeddings` where v1 says `embedding`.
    pub enum ModelType {
        /// A text model (`"llm"`).
        Llm = "llm",
        /// A vision-language model (`"vlm"`).
        Vlm = "vlm",
        /// An embedding model (`"embeddings"`).
        Embeddings = "embeddings",
    }
}

/// `GET /api/v0/models`: `{"object":"list","data":[...]}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelsResponse {
    /// `list`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectKind>,
    /// The downloaded models (the key is required: an `{"error":...}` body must not read as
    /// "none"; `null` reads as none).
    #[serde(deserialize_with = "null_as_default")]
    pub data: Vec<Model>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One model: an element of [`ModelsResponse::data`], or the body of
/// `GET /api/v0/models/{model}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Model {
    /// The model key, e.g. `meta-llama-3.1-8b-instruct`.
    pub id: String,
    /// `model`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectKind>,
    /// `llm`, `vlm` or `embeddings`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub model_type: Option<ModelType>,
    /// The publisher, e.g. `lmstudio-community`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// The architecture, e.g. `llama`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// The format, `gguf` or `mlx`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compatibility_type: Option<String>,
    /// The quantization, e.g. `Q4_K_M` or `4bit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantization: Option<String>,
    /// Whether the model is loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<ModelState>,
    /// The longest context the model supports, in tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_context_length: Option<u64>,
    /// The context length the model is loaded with (loaded models only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loaded_context_length: Option<u64>,
    /// Capabilities such as `tool_use` (0.3.16+).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub capabilities: Vec<String>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Model {
    /// Whether the model is loaded (`state == "loaded"`).
    pub fn is_loaded(&self) -> bool {
        self.state == Some(ModelState::Loaded)
    }

    /// Whether the model lists the `capability` (e.g. `tool_use`, `vision`).
    pub fn has_capability(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loaded_state_and_unknown_state() {
        let model: Model = serde_json::from_str(
            r#"{"id":"a","state":"loaded","loaded_context_length":4096,"capabilities":["tool_use"]}"#,
        )
        .unwrap();
        assert!(model.is_loaded());
        assert!(model.has_capability("tool_use"));
        let model: Model = serde_json::from_str(r#"{"id":"a","state":"evicting"}"#).unwrap();
        assert!(!model.is_loaded());
        assert_eq!(model.state, Some(ModelState::Other("evicting".into())));
        assert_eq!(
            serde_json::to_string(&model).unwrap(),
            r#"{"id":"a","state":"evicting"}"#
        );
    }
}
