//! `POST /v1/messages`: the whole (non-streamed) answer, its stop reason and token usage.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::content::{ContentBlock, ToolUseBlock};
use super::request::Role;
use crate::nullable::null_as_default;

open_enum! {
    /// Why generation stopped (`stop_reason`).
    pub enum StopReason {
        /// A natural stop (`"end_turn"`; llama.cpp also reports a matched stop sequence so).
        EndTurn = "end_turn",
        /// The `max_tokens` limit (`"max_tokens"`).
        MaxTokens = "max_tokens",
        /// One of the request's `stop_sequences` (`"stop_sequence"`).
        StopSequence = "stop_sequence",
        /// The model called tools (`"tool_use"`).
        ToolUse = "tool_use",
        /// A long turn was paused; send the answer back to continue (`"pause_turn"`).
        PauseTurn = "pause_turn",
        /// The model declined (`"refusal"`).
        Refusal = "refusal",
        /// The context window ran out (`"model_context_window_exceeded"`).
        ModelContextWindowExceeded = "model_context_window_exceeded",
    }
}

/// The answer to `POST /v1/messages` (`"type":"message"`), and the message a stream's
/// `message_start` opens (with empty `content`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessagesResponse {
    /// The message id (`msg_...`; llama.cpp: `chatcmpl-...`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    /// `message`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `assistant` (assumed when absent or `null`).
    #[serde(default = "assistant_role", deserialize_with = "role_or_assistant")]
    pub role: Role,
    /// The blocks: text, thinking, tool calls, ... The key is required in a whole answer (an
    /// error body has none; `message_start` may leave it out); `null` reads as none.
    #[serde(deserialize_with = "null_as_default")]
    pub content: Vec<ContentBlock>,
    /// The model that answered.
    #[serde(default, deserialize_with = "null_as_default")]
    pub model: String,
    /// Why generation stopped (always serialized; `null` in `message_start`).
    #[serde(default)]
    pub stop_reason: Option<StopReason>,
    /// The stop sequence that matched (always serialized, `null` when none).
    #[serde(default)]
    pub stop_sequence: Option<String>,
    /// Token counts.
    #[serde(default, deserialize_with = "null_as_default")]
    pub usage: Usage,
    /// Fields this crate does not model (`container`, `stop_details`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Default for MessagesResponse {
    fn default() -> Self {
        Self {
            id: String::new(),
            kind: None,
            role: Role::Assistant,
            content: Vec::new(),
            model: String::new(),
            stop_reason: None,
            stop_sequence: None,
            usage: Usage::default(),
            extra: Map::new(),
        }
    }
}

impl MessagesResponse {
    /// The text blocks' text, joined (thinking and tool calls left out).
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(ContentBlock::as_text)
            .collect()
    }

    /// The thinking blocks' reasoning, joined (empty when there is none).
    pub fn thinking(&self) -> String {
        self.content
            .iter()
            .filter_map(ContentBlock::as_thinking)
            .collect()
    }

    /// The client tool calls, in order.
    pub fn tool_uses(&self) -> impl Iterator<Item = &ToolUseBlock> {
        self.content.iter().filter_map(ContentBlock::as_tool_use)
    }
}

/// `message_start.message`: a [`MessagesResponse`] whose `content` may be left out (`[]`), and
/// `null` an empty message.
pub(super) fn opening_message<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<MessagesResponse, D::Error> {
    Ok(
        Option::<OpeningMessage>::deserialize(deserializer)?.map_or_else(
            MessagesResponse::default,
            |opening| MessagesResponse {
                id: opening.id,
                kind: opening.kind,
                role: opening.role,
                content: opening.content,
                model: opening.model,
                stop_reason: opening.stop_reason,
                stop_sequence: opening.stop_sequence,
                usage: opening.usage,
                extra: opening.extra,
            },
        ),
    )
}

/// [`MessagesResponse`] as `message_start` holds it: the same fields, `content` optional.
/// (Read this way rather than through a map so the event stays as cheap to decode.)
#[derive(Deserialize)]
struct OpeningMessage {
    #[serde(default, deserialize_with = "null_as_default")]
    id: String,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default = "assistant_role", deserialize_with = "role_or_assistant")]
    role: Role,
    #[serde(default, deserialize_with = "null_as_default")]
    content: Vec<ContentBlock>,
    #[serde(default, deserialize_with = "null_as_default")]
    model: String,
    #[serde(default)]
    stop_reason: Option<StopReason>,
    #[serde(default)]
    stop_sequence: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    usage: Usage,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

fn assistant_role() -> Role {
    Role::Assistant
}

fn role_or_assistant<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Role, D::Error> {
    Ok(Option::<Role>::deserialize(deserializer)?.unwrap_or(Role::Assistant))
}

/// Token counts of an answer (`usage`). The prompt's tokens are split three ways: read from
/// the cache, written to it, and the rest ([`total_input_tokens`](Self::total_input_tokens)
/// adds them up).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Usage {
    /// Prompt tokens neither read from nor written to the cache.
    #[serde(default, deserialize_with = "null_as_default")]
    pub input_tokens: u64,
    /// Generated tokens.
    #[serde(default, deserialize_with = "null_as_default")]
    pub output_tokens: u64,
    /// Prompt tokens written to the cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_creation_input_tokens: Option<u64>,
    /// Prompt tokens read from the cache (llama.cpp: its prompt cache).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_input_tokens: Option<u64>,
    /// The cache writes by lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_creation: Option<CacheCreation>,
    /// Fields this crate does not model (`service_tier`, `server_tool_use`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Usage {
    /// All prompt tokens: `input_tokens` plus the cache reads and writes.
    pub fn total_input_tokens(&self) -> u64 {
        self.input_tokens
            .saturating_add(self.cache_creation_input_tokens.unwrap_or(0))
            .saturating_add(self.cache_read_input_tokens.unwrap_or(0))
    }
}

/// `usage.cache_creation`: cache writes by lifetime.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CacheCreation {
    /// Tokens written with a 5-minute lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ephemeral_5m_input_tokens: Option<u64>,
    /// Tokens written with a 1-hour lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ephemeral_1h_input_tokens: Option<u64>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The answer to `POST /v1/messages/count_tokens` (served by llama.cpp and Anthropic; LM Studio
/// has no such route). The request is a [`MessagesRequest`](super::MessagesRequest) without
/// `max_tokens`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CountTokensResponse {
    /// The prompt's tokens. The key is required, so an error body never reads as a count.
    #[serde(deserialize_with = "null_as_default")]
    pub input_tokens: u64,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
