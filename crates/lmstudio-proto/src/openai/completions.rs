//! `POST /v1/completions`: legacy prompt completion (no chat template).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ObjectKind;
use super::request::{StopSequences, StreamOptions};
use super::response::FinishReason;
use super::usage::{Stats, Usage};
use crate::nullable::null_as_default;

/// `POST /v1/completions`. Unset fields are not sent.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CompletionRequest {
    /// The model key or instance id.
    pub model: String,
    /// The text to continue.
    pub prompt: Prompt,
    /// Output token limit; `-1` means no limit (LM Studio).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<i64>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Top-k sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u64>,
    /// Stream chunks (each shaped like a [`CompletionResponse`]) over SSE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Streaming options (`include_usage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// Stop sequences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<StopSequences>,
    /// Presence penalty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    /// Frequency penalty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    /// Repetition penalty (LM Studio, llama.cpp).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_penalty: Option<f64>,
    /// Sampling seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// LM Studio: idle time-to-live in seconds, applied when this request JIT-loads the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u64>,
    /// Other fields to send.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CompletionRequest {
    /// A request continuing `prompt` with `model`.
    pub fn new(model: impl Into<String>, prompt: impl Into<Prompt>) -> Self {
        Self {
            model: model.into(),
            prompt: prompt.into(),
            ..Self::default()
        }
    }
}

/// `prompt`: one text or several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Prompt {
    /// One prompt.
    Text(String),
    /// Several prompts.
    Batch(Vec<String>),
}

impl Default for Prompt {
    fn default() -> Self {
        Self::Text(String::new())
    }
}

impl From<&str> for Prompt {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<String> for Prompt {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<Vec<String>> for Prompt {
    fn from(texts: Vec<String>) -> Self {
        Self::Batch(texts)
    }
}

/// The answer to a completion; also the shape of each streamed completion chunk.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CompletionResponse {
    /// The completion id.
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    /// `text_completion`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectKind>,
    /// Creation time (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<u64>,
    /// The model that answered.
    #[serde(default, deserialize_with = "null_as_default")]
    pub model: String,
    /// The continuations (the key is required; `null` reads as none).
    #[serde(deserialize_with = "null_as_default")]
    pub choices: Vec<CompletionChoice>,
    /// Token counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// A build fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
    /// LM Studio's generation statistics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<Stats>,
    /// Fields this crate does not model (`model_info`, `runtime`, llama.cpp's `timings`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CompletionResponse {
    /// The first choice's text.
    pub fn text(&self) -> Option<&str> {
        self.choices.first().map(|c| c.text.as_str())
    }
}

/// One continuation.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CompletionChoice {
    /// The choice's position.
    #[serde(default, deserialize_with = "null_as_default")]
    pub index: u32,
    /// The generated text (a fragment, when streamed).
    #[serde(default, deserialize_with = "null_as_default")]
    pub text: String,
    /// Why generation stopped (always serialized, `null` when unknown).
    #[serde(default)]
    pub finish_reason: Option<FinishReason>,
    /// Log probabilities, when requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<Value>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
