//! `POST /v1/responses`: the response object (whole, and inside the stream's lifecycle
//! events), its status and usage.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::items::{FunctionCallItem, Item};
use crate::error::ErrorObject;

open_enum! {
    /// Where a response is (`status`).
    pub enum ResponseStatus {
        /// Finished normally (`"completed"`).
        Completed = "completed",
        /// Failed; `error` says why (`"failed"`).
        Failed = "failed",
        /// Being generated (`"in_progress"`).
        InProgress = "in_progress",
        /// Stopped early, e.g. by `max_output_tokens`; `incomplete_details` says why
        /// (`"incomplete"`).
        Incomplete = "incomplete",
        /// Cancelled (`"cancelled"`).
        Cancelled = "cancelled",
        /// Waiting to start (`"queued"`).
        Queued = "queued",
    }
}

/// A response. llama.cpp's first stream events carry only `id`, `object` and `status`;
/// OpenAI echoes the request's settings (`tools`, `text`, `temperature`, ... kept in
/// `extra`).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct Response {
    /// The response id (`resp_...`): pass it as `previous_response_id` to continue.
    #[serde(default)]
    pub id: String,
    /// `response`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// Creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// Completion time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<Timestamp>,
    /// Where the response is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ResponseStatus>,
    /// The model that answered.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub model: String,
    /// The output items: reasoning, messages, function calls, ...
    #[serde(default)]
    pub output: Vec<Item>,
    /// Token counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<ResponseUsage>,
    /// Why the response failed (`status: failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
    /// Why the response stopped early (`status: incomplete`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete_details: Option<IncompleteDetails>,
    /// The response this one continued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_response_id: Option<String>,
    /// The instructions used (a string, or items).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<Value>,
    /// The output token limit used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u64>,
    /// Fields this crate does not model (llama.cpp puts nothing here; OpenAI its settings).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Response {
    /// The text of every output message, joined in order.
    pub fn output_text(&self) -> Cow<'_, str> {
        let mut texts = self.output.iter().filter_map(|item| match item {
            Item::Message(message) => Some(message.text()),
            _ => None,
        });
        let Some(first) = texts.next() else {
            return Cow::Borrowed("");
        };
        let mut joined = first;
        for text in texts {
            joined.to_mut().push_str(&text);
        }
        joined
    }

    /// The reasoning text of every reasoning item (`reasoning_text` parts), joined.
    pub fn reasoning_text(&self) -> String {
        self.output
            .iter()
            .filter_map(|item| match item {
                Item::Reasoning(reasoning) => Some(reasoning.text()),
                _ => None,
            })
            .collect()
    }

    /// The reasoning summaries of every reasoning item (`summary_text` parts), joined.
    pub fn reasoning_summary(&self) -> String {
        self.output
            .iter()
            .filter_map(|item| match item {
                Item::Reasoning(reasoning) => Some(reasoning.summary_text()),
                _ => None,
            })
            .collect()
    }

    /// The function calls, in order.
    pub fn function_calls(&self) -> Vec<&FunctionCallItem> {
        self.output
            .iter()
            .filter_map(|item| match item {
                Item::FunctionCall(call) => Some(call),
                _ => None,
            })
            .collect()
    }
}

/// A time: Unix seconds, as servers send it, or a text (one of OpenAI's own examples has
/// `"2021-01-01T00:00:00Z"`), kept as it came.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Timestamp {
    /// Seconds since the Unix epoch.
    Unix(u64),
    /// Any other form, verbatim.
    Text(String),
}

impl Timestamp {
    /// The Unix seconds, when the time is a number.
    pub fn unix(&self) -> Option<u64> {
        match self {
            Self::Unix(secs) => Some(*secs),
            Self::Text(_) => None,
        }
    }
}

impl From<u64> for Timestamp {
    fn from(secs: u64) -> Self {
        Self::Unix(secs)
    }
}

/// `incomplete_details`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct IncompleteDetails {
    /// `max_output_tokens`, `content_filter`, ... (OpenAI's own examples also say `max_tokens`).
    #[serde(default)]
    pub reason: String,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Token counts of a response (`usage`).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct ResponseUsage {
    /// Input tokens.
    #[serde(default)]
    pub input_tokens: u64,
    /// Output tokens (reasoning included).
    #[serde(default)]
    pub output_tokens: u64,
    /// Both.
    #[serde(default)]
    pub total_tokens: u64,
    /// Breakdown of the input tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens_details: Option<InputTokensDetails>,
    /// Breakdown of the output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens_details: Option<OutputTokensDetails>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ResponseUsage {
    /// Input tokens served from the cache, when reported.
    pub fn cached_tokens(&self) -> Option<u64> {
        self.input_tokens_details.as_ref()?.cached_tokens
    }

    /// Output tokens spent reasoning, when reported.
    pub fn reasoning_tokens(&self) -> Option<u64> {
        self.output_tokens_details.as_ref()?.reasoning_tokens
    }
}

/// `usage.input_tokens_details`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct InputTokensDetails {
    /// Input tokens served from the cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_tokens: Option<u64>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `usage.output_tokens_details`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct OutputTokensDetails {
    /// Output tokens spent reasoning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u64>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

deserialize_with_extra!(Response {
    id: "id",
    object: "object",
    created_at: "created_at",
    completed_at: "completed_at",
    status: "status",
    model: "model",
    output: "output",
    usage: "usage",
    error: "error",
    incomplete_details: "incomplete_details",
    previous_response_id: "previous_response_id",
    instructions: "instructions",
    max_output_tokens: "max_output_tokens",
});
deserialize_with_extra!(IncompleteDetails { reason: "reason" });
deserialize_with_extra!(ResponseUsage {
    input_tokens: "input_tokens",
    output_tokens: "output_tokens",
    total_tokens: "total_tokens",
    input_tokens_details: "input_tokens_details",
    output_tokens_details: "output_tokens_details",
});
deserialize_with_extra!(InputTokensDetails {
    cached_tokens: "cached_tokens"
});
deserialize_with_extra!(OutputTokensDetails {
    reasoning_tokens: "reasoning_tokens"
});
