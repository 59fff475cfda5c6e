//! `POST /v1/messages` with `stream: true`: the SSE events (`event: <type>` + `data: {json}`).
//!
//! A stream is `message_start`, then for each content block `content_block_start`, its
//! `content_block_delta`s and `content_block_stop`, then `message_delta` (stop reason and
//! output tokens) and `message_stop`; `ping` may come anywhere, an `error` event ends it.
//! Each event's JSON repeats its name in `type`, so the `data` alone parses into a
//! [`StreamEvent`]; build the final message from them with
//! [`MessageAssembler`](super::MessageAssembler).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::content::ContentBlock;
use super::error::ErrorDetail;
use super::response::{CacheCreation, MessagesResponse, StopReason};
use crate::error::ErrorObject;
use crate::nullable::null_as_default;

tagged_enum! {
    /// One event of a Messages stream, tagged by `type`.
    #[non_exhaustive]
    pub enum StreamEvent {
        /// The message opens: id, model, input usage, empty content (`"message_start"`).
        MessageStart(MessageStartEvent) = "message_start",
        /// A content block opens at `index` (`"content_block_start"`).
        ContentBlockStart(ContentBlockStartEvent) = "content_block_start",
        /// A piece of the block at `index` (`"content_block_delta"`).
        ContentBlockDelta(ContentBlockDeltaEvent) = "content_block_delta",
        /// The block at `index` is complete (`"content_block_stop"`).
        ContentBlockStop(ContentBlockStopEvent) = "content_block_stop",
        /// Top-level changes: stop reason, stop sequence, cumulative usage (`"message_delta"`).
        MessageDelta(MessageDeltaEvent) = "message_delta",
        /// The last event of a complete stream (`"message_stop"`).
        MessageStop(BareEvent) = "message_stop",
        /// A keep-alive (`"ping"`).
        Ping(BareEvent) = "ping",
        /// The server failed mid-stream; nothing follows (`"error"`).
        Error(ErrorEvent) = "error",
    }
}

impl StreamEvent {
    /// Parses one SSE event's `data`. When the JSON has no `type`, the SSE `event:` name (if
    /// given) is used instead.
    pub fn from_sse(event_name: Option<&str>, data: &str) -> Result<Self, serde_json::Error> {
        let event: Self = serde_json::from_str(data)?;
        match (event, event_name) {
            (Self::Other(mut map), Some(name)) if !map.contains_key("type") => {
                map.insert("type".to_owned(), Value::from(name));
                serde_json::from_value(Value::Object(map))
            }
            (event, _) => Ok(event),
        }
    }

    /// Whether this is the last event of a complete stream (`message_stop`).
    pub fn is_message_stop(&self) -> bool {
        matches!(self, Self::MessageStop(_))
    }

    /// The error this event reports, if it reports one: an `error` event (its `type` and
    /// `message`), or an unknown event whose data is an error body rather than an event:
    /// OpenAI's `{"error": {...}}` (llama.cpp's shape for `/v1/messages` errors) or a flat
    /// `{"code":500,"message":"...","type":"server_error"}`.
    ///
    /// ```
    /// use lmstudio_proto::anthropic::StreamEvent;
    ///
    /// let event: StreamEvent = serde_json::from_str(
    ///     r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
    /// )
    /// .unwrap();
    /// let error = event.error().unwrap();
    /// assert_eq!((error.message(), error.kind.as_deref()), ("Overloaded", Some("overloaded_error")));
    /// let openai: StreamEvent =
    ///     serde_json::from_str(r#"{"error":{"code":500,"message":"boom","type":"server_error"}}"#).unwrap();
    /// assert_eq!(openai.error().unwrap().message(), "boom");
    /// ```
    pub fn error(&self) -> Option<ErrorObject> {
        match self {
            Self::Error(event) => Some(event.error_object()),
            Self::Other(map) => crate::error::error_in_event(map, None),
            _ => None,
        }
    }

    /// The text of a `text_delta`.
    pub fn text_delta(&self) -> Option<&str> {
        match self {
            Self::ContentBlockDelta(event) => match &event.delta {
                ContentDelta::TextDelta(delta) => Some(&delta.text),
                _ => None,
            },
            _ => None,
        }
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

/// `message_start`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessageStartEvent {
    /// The message so far: id, model, role, usage of the prompt, `content: []` (here, unlike
    /// in a whole answer, `content` may be left out).
    #[serde(default, deserialize_with = "super::response::opening_message")]
    pub message: MessagesResponse,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `content_block_start`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContentBlockStartEvent {
    /// The block's position in the final `content`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub index: u32,
    /// The block as it starts: empty text, a tool call with `input: {}`, empty thinking ...
    #[serde(default, deserialize_with = "null_as_default")]
    pub content_block: ContentBlock,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `content_block_delta`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct ContentBlockDeltaEvent {
    /// The block this piece belongs to.
    #[serde(default)]
    pub index: u32,
    /// The piece.
    #[serde(default)]
    pub delta: ContentDelta,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `content_block_stop`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct ContentBlockStopEvent {
    /// The block that is complete.
    #[serde(default)]
    pub index: u32,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

tagged_enum! {
    /// A piece of a content block (`delta` of `content_block_delta`), tagged by `type`
    /// (`citations_delta` and newer kinds are kept in [`Other`](Self::Other); the assembler
    /// adds a `citations_delta`'s `citation` to its text block).
    #[non_exhaustive]
    pub enum ContentDelta {
        /// Text to append to a text block (`"text_delta"`).
        TextDelta(TextDelta) = "text_delta",
        /// A piece of a tool call's input JSON text (`"input_json_delta"`).
        InputJsonDelta(InputJsonDelta) = "input_json_delta",
        /// Reasoning to append to a thinking block (`"thinking_delta"`).
        ThinkingDelta(ThinkingDelta) = "thinking_delta",
        /// The thinking block's signature, just before its stop (`"signature_delta"`).
        SignatureDelta(SignatureDelta) = "signature_delta",
    }
}

impl Default for ContentDelta {
    /// An empty [`Other`](Self::Other), which fits no block and changes none (what a
    /// `content_block_delta` without a `delta`, or with `null`, holds).
    fn default() -> Self {
        Self::Other(Map::new())
    }
}

/// `{"type":"text_delta","text":...}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct TextDelta {
    /// The text.
    #[serde(default)]
    pub text: String,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `{"type":"input_json_delta","partial_json":...}`: the pieces, joined, are the input's JSON.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct InputJsonDelta {
    /// A piece of JSON text (not valid JSON by itself).
    #[serde(default)]
    pub partial_json: String,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `{"type":"thinking_delta","thinking":...}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct ThinkingDelta {
    /// The reasoning text.
    #[serde(default)]
    pub thinking: String,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `{"type":"signature_delta","signature":...}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct SignatureDelta {
    /// The whole signature (it replaces any the block had).
    #[serde(default)]
    pub signature: String,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `message_delta`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessageDeltaEvent {
    /// The stop reason and stop sequence.
    #[serde(default, deserialize_with = "null_as_default")]
    pub delta: MessageDelta,
    /// Cumulative token counts (llama.cpp sends `output_tokens` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<DeltaUsage>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `message_delta.delta`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessageDelta {
    /// Why generation stopped (always serialized).
    #[serde(default)]
    pub stop_reason: Option<StopReason>,
    /// The stop sequence that matched (always serialized, `null` when none).
    #[serde(default)]
    pub stop_sequence: Option<String>,
    /// Fields this crate does not model (`stop_details`, ...), copied onto the message.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `message_delta.usage`: the counts so far. Every field is optional; those present replace
/// the `message_start` counts.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeltaUsage {
    /// Prompt tokens neither read from nor written to the cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    /// Generated tokens so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
    /// Prompt tokens written to the cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_creation_input_tokens: Option<u64>,
    /// Prompt tokens read from the cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_input_tokens: Option<u64>,
    /// The cache writes by lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_creation: Option<CacheCreation>,
    /// Fields this crate does not model (`server_tool_use`, ...), copied onto the usage.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `error`: `{"type":"error","error":{"type":...,"message":...}}`; also read: a string
/// `error` (`{"type":"error","error":"..."}`, LM Studio's shape) as the message, an `error`
/// of no error shape as its JSON text, and a flat `{"type":"error","message":...,"code":...}`
/// (its fields are in [`extra`](Self::extra); [`StreamEvent::error`] uses them).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorEvent {
    /// The error.
    #[serde(default, deserialize_with = "lenient_detail")]
    pub error: ErrorDetail,
    /// Fields this crate does not model (`request_id`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ErrorEvent {
    /// The error as one object: the nested `error`, with the flat fields beside it
    /// (`message`, `code`, `param`, `type`, in [`extra`](Self::extra)) filling its gaps.
    pub fn error_object(&self) -> ErrorObject {
        let mut object = ErrorObject::from(&self.error);
        let flat = ErrorObject::deserialize(Value::Object(self.extra.clone()));
        let flat = flat.unwrap_or_else(|_| ErrorObject {
            // A `message` that is not a string: its JSON text.
            message: self.extra.get("message").map(Value::to_string),
            ..ErrorObject::default()
        });
        object.fill_gaps(ErrorObject {
            extra: Map::new(),
            ..flat
        });
        object
    }
}

/// Reads an `error` event's `error` whatever it holds: an object of the error shape, a
/// string (the message), `null` (the default), anything else as its JSON text.
fn lenient_detail<'de, D>(deserializer: D) -> Result<ErrorDetail, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let value = Option::<Value>::deserialize(deserializer)?.unwrap_or(Value::Null);
    let text = match value {
        Value::Null => return Ok(ErrorDetail::default()),
        Value::String(text) => text,
        value @ Value::Object(_) => match ErrorDetail::deserialize(&value) {
            Ok(detail) => return Ok(detail),
            Err(_) => value.to_string(),
        },
        other => other.to_string(),
    };
    Ok(ErrorDetail {
        message: text,
        ..ErrorDetail::default()
    })
}

deserialize_with_extra!(ContentBlockDeltaEvent {
    index: "index",
    delta: "delta",
});
deserialize_with_extra!(ContentBlockStopEvent { index: "index" });
deserialize_with_extra!(TextDelta { text: "text" });
deserialize_with_extra!(InputJsonDelta {
    partial_json: "partial_json",
});
deserialize_with_extra!(ThinkingDelta {
    thinking: "thinking",
});
deserialize_with_extra!(SignatureDelta {
    signature: "signature",
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn an_error_event_whose_error_is_text_keeps_the_text() {
        let text = "The number of tokens to keep from the initial prompt is greater than the context length";
        for data in [
            format!(r#"{{"error":"{text}"}}"#),
            format!(r#"{{"type":"error","error":"{text}"}}"#),
        ] {
            let event = StreamEvent::from_sse(Some("error"), &data).unwrap();
            assert_eq!(event.error().unwrap().message(), text, "{data}");
        }
        let odd = StreamEvent::from_sse(Some("error"), r#"{"error":{"message":{"a":1}}}"#).unwrap();
        assert!(odd.error().unwrap().message().contains(r#""a":1"#));
    }

    #[test]
    fn a_flat_error_event_keeps_its_message_and_code() {
        let event = StreamEvent::from_sse(
            Some("error"),
            r#"{"type":"error","message":"boom","code":500,"param":"p"}"#,
        )
        .unwrap();
        let error = event.error().unwrap();
        assert_eq!(error.message(), "boom");
        assert_eq!(error.code, Some(ErrorCode::Number(500)));
        assert_eq!(error.param.as_deref(), Some("p"));
        // The nested error wins over the flat fields.
        let both: StreamEvent = serde_json::from_str(
            r#"{"type":"error","message":"flat","error":{"type":"api_error","message":"nested"}}"#,
        )
        .unwrap();
        assert_eq!(both.error().unwrap().message(), "nested");
    }
}
