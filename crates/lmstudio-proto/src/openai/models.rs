//! `GET /v1/models`.
//!
//! LM Studio lists every downloaded model only when JIT loading is on (else only loaded
//! ones), sends no `created`, and has no context length here. llama.cpp's server adds
//! `aliases`, `tags`, `meta`, `status` per item and a top-level Ollama-style `models`
//! array: all kept in `extra`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ObjectKind;
use crate::nullable::null_as_default;

/// `GET /v1/models`: `{"object":"list","data":[...]}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelList {
    /// `list`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectKind>,
    /// The models (the key is required: an `{"error":...}` body must not read as "none";
    /// `null` reads as none).
    #[serde(deserialize_with = "null_as_default")]
    pub data: Vec<ModelObject>,
    /// Fields this crate does not model (llama.cpp's `models` array lands here).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ModelList {
    /// The model ids, in server order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.data.iter().map(|m| m.id.as_str())
    }
}

/// One model in the list.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelObject {
    /// The id to send as `model`.
    pub id: String,
    /// `model`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectKind>,
    /// Creation time (Unix seconds); LM Studio omits it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<u64>,
    /// The owner; LM Studio always says `organization_owner`, llama.cpp `llamacpp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<String>,
    /// Fields this crate does not model (llama.cpp's `meta`, `aliases`, `status`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
