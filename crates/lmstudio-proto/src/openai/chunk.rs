//! `POST /v1/chat/completions` with `stream: true`: one `data:` chunk of the SSE stream.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ObjectKind;
use super::message::{MessageContent, Role, join};
use super::response::FinishReason;
use super::tools::ToolType;
use super::usage::Usage;

/// One streamed chunk. With `stream_options.include_usage`, the last chunk before `[DONE]`
/// has `choices: []` and the `usage` ([`is_usage_only`](Self::is_usage_only)). llama.cpp
/// adds `timings` (kept in `extra`).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct ChatCompletionChunk {
    /// The completion id (the same on every chunk).
    #[serde(default)]
    pub id: String,
    /// `chat.completion.chunk`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectKind>,
    /// Creation time (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<u64>,
    /// The model (or instance) answering.
    #[serde(default)]
    pub model: String,
    /// A build fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
    /// The deltas (empty on the usage chunk). The key is required, so an `{"error":...}` event
    /// never reads as an empty chunk; `null` reads as none.
    pub choices: Vec<ChunkChoice>,
    /// Token counts (usage chunk only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatCompletionChunk {
    /// Whether this is the final usage chunk: no choices, `usage` set.
    pub fn is_usage_only(&self) -> bool {
        self.choices.is_empty() && self.usage.is_some()
    }

    /// The first choice's text fragment (see [`ChatDelta::text`]).
    pub fn content(&self) -> Option<Cow<'_, str>> {
        self.choices.first()?.delta.text()
    }

    /// The first choice's reasoning fragment (see [`ChatDelta::reasoning`]).
    pub fn reasoning(&self) -> Option<Cow<'_, str>> {
        self.choices.first()?.delta.reasoning()
    }

    /// The first choice's finish reason, on the chunk that ends it.
    pub fn finish_reason(&self) -> Option<&FinishReason> {
        self.choices.first()?.finish_reason.as_ref()
    }
}

/// One choice's delta in a chunk.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct ChunkChoice {
    /// The choice's position.
    #[serde(default)]
    pub index: u32,
    /// What this chunk adds.
    #[serde(default)]
    pub delta: ChatDelta,
    /// Set on the choice's last chunk (always serialized, `null` until then).
    #[serde(default)]
    pub finish_reason: Option<FinishReason>,
    /// Log probabilities, when requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<Value>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What a chunk adds to a choice's message. Every field is optional, and `null` reads as
/// absent: `content: null` (llama.cpp's first chunk), `role: null` and `tool_calls: null`
/// (SGLang, on every chunk). `content` may be an array of parts (Mistral's reasoning models
/// stream `[{"type":"thinking","thinking":[{"type":"text","text":...}]}]`): read the fragments
/// with [`text`](Self::text) and [`reasoning`](Self::reasoning).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct ChatDelta {
    /// The role (first chunk only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// A content fragment: a string, or content parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<MessageContent>,
    /// A reasoning fragment (gpt-oss style).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    /// A reasoning fragment (DeepSeek style).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// Tool-call fragments; assemble them with
    /// [`ToolCallAssembler`](super::ToolCallAssembler).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCallDelta>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatDelta {
    /// The text fragment: the content string, or its text parts joined (thinking and refusal
    /// parts left out). `None` when the delta has no content; may be empty.
    pub fn text(&self) -> Option<Cow<'_, str>> {
        self.content.as_ref().map(MessageContent::text)
    }

    /// The whole reasoning fragment: the `reasoning` field, else `reasoning_content` (the
    /// first that is not empty; servers that send both repeat the same text), then the
    /// content's thinking parts. `None` when the delta has no reasoning (or it is empty).
    pub fn reasoning(&self) -> Option<Cow<'_, str>> {
        let field = [&self.reasoning, &self.reasoning_content]
            .into_iter()
            .filter_map(|r| r.as_deref())
            .find(|r| !r.is_empty());
        let parts = self.content.as_ref().map(MessageContent::reasoning);
        let joined = join(field.map(Cow::Borrowed).into_iter().chain(parts));
        (!joined.is_empty()).then_some(joined)
    }

    /// The reasoning fragment from the `reasoning` field, else `reasoning_content` (thinking
    /// parts of the content are left out: see [`reasoning`](Self::reasoning)).
    pub fn reasoning_text(&self) -> Option<&str> {
        self.reasoning
            .as_deref()
            .or(self.reasoning_content.as_deref())
    }
}

/// A fragment of a tool call. The first usually carries `id`, `type` and `function.name`;
/// later ones carry `index` and `function.arguments` pieces. Any of them may be missing.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ToolCallDelta {
    /// Which call of the message this fragment belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// The call's id (first fragment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `function` (may arrive late, or never).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ToolType>,
    /// The function name and/or an arguments piece.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<FunctionCallDelta>,
}

/// A fragment of a function call.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FunctionCallDelta {
    /// The function's name (usually whole, in the first fragment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A piece of the arguments' JSON text (an object sent instead is kept as its text).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::tools::opt_string_or_json"
    )]
    pub arguments: Option<String>,
}

deserialize_with_extra!(ChatCompletionChunk {
    id: "id",
    object: "object",
    created: "created",
    model: "model",
    system_fingerprint: "system_fingerprint",
    choices: "choices" required,
    usage: "usage",
});
deserialize_with_extra!(ChunkChoice {
    index: "index",
    delta: "delta",
    finish_reason: "finish_reason",
    logprobs: "logprobs",
});
deserialize_with_extra!(ChatDelta {
    role: "role",
    content: "content",
    reasoning: "reasoning",
    reasoning_content: "reasoning_content",
    tool_calls: "tool_calls",
});
