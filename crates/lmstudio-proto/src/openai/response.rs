//! `POST /v1/chat/completions`: the whole (non-streamed) answer.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::ObjectKind;
use super::message::{MessageContent, Role, join};
use super::tools::ToolCall;
use super::usage::{Stats, Usage};
use crate::nullable::null_as_default;

open_enum! {
    /// Why generation stopped (`finish_reason`).
    pub enum FinishReason {
        /// A natural stop or a stop sequence (`"stop"`).
        Stop = "stop",
        /// The token limit or context ran out (`"length"`).
        Length = "length",
        /// The model called tools (`"tool_calls"`).
        ToolCalls = "tool_calls",
        /// Filtered (`"content_filter"`).
        ContentFilter = "content_filter",
        /// Legacy function call (`"function_call"`).
        FunctionCall = "function_call",
    }
}

/// The answer to a chat completion. LM Studio adds `stats` (and on `/api/v0`,
/// `model_info` and `runtime`, kept in `extra`); llama.cpp adds `timings` (in `extra`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatCompletionResponse {
    /// The completion id.
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    /// `chat.completion`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectKind>,
    /// Creation time (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<u64>,
    /// The model (or instance, e.g. `key:2`) that answered.
    #[serde(default, deserialize_with = "null_as_default")]
    pub model: String,
    /// The answers (one unless `n` was set; the key is required, `null` reads as none).
    #[serde(deserialize_with = "null_as_default")]
    pub choices: Vec<ChatChoice>,
    /// Token counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// A build fingerprint (LM Studio repeats the model id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
    /// LM Studio's generation statistics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<Stats>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatCompletionResponse {
    /// The first choice.
    pub fn first_choice(&self) -> Option<&ChatChoice> {
        self.choices.first()
    }

    /// The first choice's text (`None` when there is no content; may be empty). See
    /// [`AssistantMessage::text`].
    pub fn text(&self) -> Option<Cow<'_, str>> {
        self.first_choice()?.message.text()
    }

    /// The first choice's reasoning, when not empty. See [`AssistantMessage::reasoning`].
    pub fn reasoning(&self) -> Option<Cow<'_, str>> {
        self.first_choice()?.message.reasoning()
    }

    /// The first choice's tool calls (empty when none).
    pub fn tool_calls(&self) -> &[ToolCall] {
        self.first_choice()
            .map_or(&[], |choice| choice.message.tool_calls.as_slice())
    }

    /// The first choice's finish reason.
    pub fn finish_reason(&self) -> Option<&FinishReason> {
        self.first_choice()?.finish_reason.as_ref()
    }
}

/// One answer of a chat completion.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatChoice {
    /// The choice's position.
    #[serde(default, deserialize_with = "null_as_default")]
    pub index: u32,
    /// The answer.
    #[serde(default, deserialize_with = "null_as_default")]
    pub message: AssistantMessage,
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

/// The model's message in a response.
///
/// `content` may be absent, `null` or `""` (e.g. tool calls, or a thinking model that spent
/// its token budget reasoning), or an array of parts (Mistral's reasoning models:
/// `[{"type":"thinking",...},{"type":"text","text":...}]`). Reasoning arrives in `reasoning`
/// (gpt-oss, LM Studio 0.3.23+, OpenRouter, Groq), `reasoning_content` (DeepSeek and other
/// thinking models) or thinking parts of the content. Read them with [`text`](Self::text)
/// and [`reasoning`](Self::reasoning).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AssistantMessage {
    /// `assistant` (assumed when absent or `null`).
    #[serde(default = "assistant_role", deserialize_with = "role_or_assistant")]
    pub role: Role,
    /// The answer: a string, or content parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<MessageContent>,
    /// Reasoning text (gpt-oss style).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    /// Reasoning text (DeepSeek style).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// Tool calls (empty when none, or `null`).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub tool_calls: Vec<ToolCall>,
    /// Fields this crate does not model (e.g. `refusal`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn assistant_role() -> Role {
    Role::Assistant
}

/// A role; `null` as `assistant`.
fn role_or_assistant<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Role, D::Error> {
    Ok(Option::<Role>::deserialize(deserializer)?.unwrap_or(Role::Assistant))
}

impl Default for AssistantMessage {
    fn default() -> Self {
        Self {
            role: Role::Assistant,
            content: None,
            reasoning: None,
            reasoning_content: None,
            tool_calls: Vec::new(),
            extra: Map::new(),
        }
    }
}

impl AssistantMessage {
    /// The answer text: the content string, or its text parts joined (thinking and refusal
    /// parts left out). `None` when there is no content; may be empty.
    pub fn text(&self) -> Option<Cow<'_, str>> {
        self.content.as_ref().map(MessageContent::text)
    }

    /// All the reasoning: the [`reasoning_text`](Self::reasoning_text) field, then the
    /// content's thinking parts. `None` when there is none (or it is empty).
    pub fn reasoning(&self) -> Option<Cow<'_, str>> {
        let parts = self.content.as_ref().map(MessageContent::reasoning);
        let joined = join(
            self.reasoning_text()
                .map(Cow::Borrowed)
                .into_iter()
                .chain(parts),
        );
        (!joined.is_empty()).then_some(joined)
    }

    /// The reasoning text from the `reasoning` field, else `reasoning_content`, when not
    /// empty (thinking parts of the content are left out: see [`reasoning`](Self::reasoning)).
    pub fn reasoning_text(&self) -> Option<&str> {
        [&self.reasoning, &self.reasoning_content]
            .into_iter()
            .filter_map(|r| r.as_deref())
            .find(|r| !r.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn helpers_read_the_first_choice() {
        let response: ChatCompletionResponse = serde_json::from_value(json!({
            "id":"x","model":"m","choices":[{"index":0,"finish_reason":"length",
            "message":{"role":"assistant","content":"","reasoning_content":"","reasoning":"hmm"}}]
        }))
        .unwrap();
        assert_eq!(response.text().as_deref(), Some(""));
        assert_eq!(response.reasoning().as_deref(), Some("hmm"));
        assert_eq!(response.finish_reason(), Some(&FinishReason::Length));
        assert!(response.tool_calls().is_empty());
        assert_eq!(ChatCompletionResponse::default().text(), None);
    }

    #[test]
    fn finish_reason_is_always_written() {
        let choice = ChatChoice::default();
        let value = serde_json::to_value(&choice).unwrap();
        assert_eq!(value["finish_reason"], Value::Null);
        assert_eq!(value["message"], json!({"role":"assistant"}));
    }
}
