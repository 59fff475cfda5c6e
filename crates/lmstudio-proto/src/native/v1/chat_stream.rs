//! The named SSE events of a streamed `POST /api/v1/chat` (`event: <type>` + `data: {json}`).
//!
//! Each event's JSON repeats its name in `type`, so the `data` alone parses into a
//! [`ChatStreamEvent`]. The stream begins with `chat.start` and ends with `chat.end`, also
//! after an `error` event.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::nullable::null_as_default;

use super::chat::{ChatResponse, TextContent, ToolCallFailure, ToolCallInfo};
use crate::error::ErrorObject;

tagged_enum! {
    /// One event of a streamed `/api/v1/chat`, tagged by `type`.
    pub enum ChatStreamEvent {
        /// The chat began (`"chat.start"`).
        ChatStart(ModelInstanceEvent) = "chat.start",
        /// A just-in-time model load began (`"model_load.start"`).
        ModelLoadStart(ModelInstanceEvent) = "model_load.start",
        /// Model load progress, `0.0..=1.0` (`"model_load.progress"`).
        ModelLoadProgress(ProgressEvent) = "model_load.progress",
        /// The model load ended (`"model_load.end"`).
        ModelLoadEnd(ModelLoadEndEvent) = "model_load.end",
        /// Prompt processing began (`"prompt_processing.start"`).
        PromptProcessingStart(BareEvent) = "prompt_processing.start",
        /// Prompt processing progress, `0.0..=1.0` (`"prompt_processing.progress"`).
        PromptProcessingProgress(ProgressEvent) = "prompt_processing.progress",
        /// Prompt processing ended (`"prompt_processing.end"`).
        PromptProcessingEnd(BareEvent) = "prompt_processing.end",
        /// Reasoning began (`"reasoning.start"`).
        ReasoningStart(BareEvent) = "reasoning.start",
        /// A piece of reasoning text (`"reasoning.delta"`).
        ReasoningDelta(TextContent) = "reasoning.delta",
        /// Reasoning ended (`"reasoning.end"`).
        ReasoningEnd(BareEvent) = "reasoning.end",
        /// The model started a tool call (`"tool_call.start"`).
        ToolCallStart(ToolCallInfo) = "tool_call.start",
        /// The tool call's arguments are known (`"tool_call.arguments"`).
        ToolCallArguments(ToolCallInfo) = "tool_call.arguments",
        /// The tool ran; `output` holds its result (`"tool_call.success"`).
        ToolCallSuccess(ToolCallInfo) = "tool_call.success",
        /// The tool call failed (`"tool_call.failure"`).
        ToolCallFailure(ToolCallFailure) = "tool_call.failure",
        /// A message began (`"message.start"`).
        MessageStart(BareEvent) = "message.start",
        /// A piece of message text (`"message.delta"`).
        MessageDelta(TextContent) = "message.delta",
        /// The message ended (`"message.end"`).
        MessageEnd(BareEvent) = "message.end",
        /// Something failed; `chat.end` still follows (`"error"`).
        Error(ErrorEvent) = "error",
        /// The chat ended; `result` is the whole answer (`"chat.end"`).
        ChatEnd(ChatEndEvent) = "chat.end",
    }
}

impl ChatStreamEvent {
    /// Parses one SSE event's `data`. When the JSON has no `type`, the SSE `event:` name (if
    /// given) is used instead.
    pub fn from_sse(event_name: Option<&str>, data: &str) -> Result<Self, serde_json::Error> {
        let mut map: Map<String, Value> = serde_json::from_str(data)?;
        if let Some(name) = event_name.filter(|_| !map.contains_key("type")) {
            map.insert("type".to_owned(), Value::from(name));
        }
        serde_json::from_value(Value::Object(map))
    }

    /// Whether this is the last event of a stream (`chat.end`).
    pub fn is_end(&self) -> bool {
        matches!(self, Self::ChatEnd(_))
    }
}

/// An event without fields of its own (fields a newer server adds are kept in `extra`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BareEvent {
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An event naming the model instance (`chat.start`, `model_load.start`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelInstanceEvent {
    /// The instance serving the chat.
    #[serde(default, deserialize_with = "null_as_default")]
    pub model_instance_id: String,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A progress event (`model_load.progress`, `prompt_processing.progress`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProgressEvent {
    /// The instance being loaded (`model_load.progress` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_instance_id: Option<String>,
    /// Progress, `0.0..=1.0`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub progress: f64,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `model_load.end`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelLoadEndEvent {
    /// The instance that was loaded.
    #[serde(default, deserialize_with = "null_as_default")]
    pub model_instance_id: String,
    /// How long the load took, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_time_seconds: Option<f64>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `error`: `{"type":"error","error":{"type":...,"message":...,"code"?,"param"?}}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorEvent {
    /// The error (`type` is e.g. `invalid_request`, `model_not_found`, `internal_error`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub error: ErrorObject,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `chat.end`: the whole answer.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatEndEvent {
    /// The same body a non-streamed chat returns.
    #[serde(default, deserialize_with = "null_as_default")]
    pub result: ChatResponse,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_name_fills_a_missing_type() {
        let event = ChatStreamEvent::from_sse(Some("message.delta"), r#"{"content":"x"}"#).unwrap();
        assert_eq!(event.kind(), "message.delta");
        match event {
            ChatStreamEvent::MessageDelta(delta) => assert_eq!(delta.content, "x"),
            other => panic!("unexpected {other:?}"),
        }
        let event =
            ChatStreamEvent::from_sse(Some("ignored"), r#"{"type":"reasoning.end"}"#).unwrap();
        assert_eq!(event, ChatStreamEvent::ReasoningEnd(BareEvent::default()));
    }

    #[test]
    fn unknown_event_round_trips() {
        let event: ChatStreamEvent =
            serde_json::from_str(r#"{"type":"mcp.connect","server":"hf"}"#).unwrap();
        assert_eq!(event.kind(), "mcp.connect");
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            serde_json::json!({"type": "mcp.connect", "server": "hf"})
        );
    }
}
