//! The named SSE events of a streamed `POST /v1/responses` (`event: <type>` + `data: {json}`).
//!
//! Each event's JSON repeats its name in `type`, so the `data` alone parses into a
//! [`ResponseStreamEvent`]. A stream begins with `response.created` and ends with
//! `response.completed`, `response.failed` or `response.incomplete`; OpenAI and llama.cpp
//! send no `data: [DONE]`. What each server leaves out (llama.cpp: `output_index`,
//! `content_index`, `sequence_number`, and the `*.done` events of reasoning text and function
//! arguments) reads as absent.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::items::{ContentPart, Item};
use super::response::Response;
use crate::error::{ErrorCode, ErrorObject};
use crate::nullable::null_as_default;

tagged_enum! {
    /// One event of a streamed response, tagged by `type`. Event types this crate does not
    /// model (`response.refusal.delta`, the built-in tools' progress events, ...) are kept
    /// whole in [`Other`](Self::Other).
    #[non_exhaustive]
    pub enum ResponseStreamEvent {
        /// The response exists; nothing generated yet (`"response.created"`).
        Created(ResponseEvent) = "response.created",
        /// Waiting to start (`"response.queued"`).
        Queued(ResponseEvent) = "response.queued",
        /// Generation began (`"response.in_progress"`).
        InProgress(ResponseEvent) = "response.in_progress",
        /// The last event of a finished response (`"response.completed"`).
        Completed(ResponseEvent) = "response.completed",
        /// The last event of a failed response; `response.error` says why
        /// (`"response.failed"`).
        Failed(ResponseEvent) = "response.failed",
        /// The last event of a response cut short; `response.incomplete_details` says why
        /// (`"response.incomplete"`).
        Incomplete(ResponseEvent) = "response.incomplete",
        /// An output item began (`"response.output_item.added"`).
        OutputItemAdded(ItemEvent) = "response.output_item.added",
        /// An output item is whole (`"response.output_item.done"`).
        OutputItemDone(ItemEvent) = "response.output_item.done",
        /// A message's content part began (`"response.content_part.added"`).
        ContentPartAdded(PartEvent) = "response.content_part.added",
        /// A message's content part is whole (`"response.content_part.done"`).
        ContentPartDone(PartEvent) = "response.content_part.done",
        /// A piece of answer text (`"response.output_text.delta"`).
        OutputTextDelta(DeltaEvent) = "response.output_text.delta",
        /// A text part's whole text (`"response.output_text.done"`).
        OutputTextDone(TextDoneEvent) = "response.output_text.done",
        /// A piece of reasoning (`"response.reasoning_text.delta"`; LM Studio, llama.cpp).
        ReasoningTextDelta(DeltaEvent) = "response.reasoning_text.delta",
        /// The whole reasoning text (`"response.reasoning_text.done"`; LM Studio may send
        /// only this one).
        ReasoningTextDone(TextDoneEvent) = "response.reasoning_text.done",
        /// A reasoning summary part began (`"response.reasoning_summary_part.added"`).
        ReasoningSummaryPartAdded(PartEvent) = "response.reasoning_summary_part.added",
        /// A reasoning summary part is whole (`"response.reasoning_summary_part.done"`).
        ReasoningSummaryPartDone(PartEvent) = "response.reasoning_summary_part.done",
        /// A piece of a reasoning summary (`"response.reasoning_summary_text.delta"`; OpenAI).
        ReasoningSummaryTextDelta(DeltaEvent) = "response.reasoning_summary_text.delta",
        /// A reasoning summary part's whole text (`"response.reasoning_summary_text.done"`).
        ReasoningSummaryTextDone(TextDoneEvent) = "response.reasoning_summary_text.done",
        /// A piece of a function call's arguments (`"response.function_call_arguments.delta"`).
        FunctionCallArgumentsDelta(DeltaEvent) = "response.function_call_arguments.delta",
        /// A function call's whole arguments (`"response.function_call_arguments.done"`).
        FunctionCallArgumentsDone(ArgumentsDoneEvent) = "response.function_call_arguments.done",
        /// A piece of an MCP call's arguments (`"response.mcp_call_arguments.delta"`).
        McpCallArgumentsDelta(DeltaEvent) = "response.mcp_call_arguments.delta",
        /// An MCP call's whole arguments (`"response.mcp_call_arguments.done"`).
        McpCallArgumentsDone(ArgumentsDoneEvent) = "response.mcp_call_arguments.done",
        /// Something failed (`"error"`): `{"type":"error","code":...,"message":...}`
        /// (OpenAI), or with the error nested in `error`.
        Error(ErrorEvent) = "error",
    }
}

impl ResponseStreamEvent {
    /// Parses one SSE event's `data`. When the JSON has no `type`, the SSE `event:` name (if
    /// given) is used instead.
    pub fn from_sse(event_name: Option<&str>, data: &str) -> Result<Self, serde_json::Error> {
        let mut map: Map<String, Value> = serde_json::from_str(data)?;
        if let Some(name) = event_name.filter(|_| !map.contains_key("type")) {
            map.insert("type".to_owned(), Value::from(name));
        }
        serde_json::from_value(Value::Object(map))
    }

    /// Whether this event ends the stream: `response.completed`, `response.failed` or
    /// `response.incomplete`.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Completed(_) | Self::Failed(_) | Self::Incomplete(_)
        )
    }

    /// The response of a lifecycle event (`response.created`, ..., `response.completed`).
    pub fn response(&self) -> Option<&Response> {
        match self {
            Self::Created(e)
            | Self::Queued(e)
            | Self::InProgress(e)
            | Self::Completed(e)
            | Self::Failed(e)
            | Self::Incomplete(e) => Some(&e.response),
            _ => None,
        }
    }

    /// The error this event reports, if it reports one: an `error` event, a
    /// `response.failed` (its `response.error`, else a placeholder), or an unknown event
    /// whose data is an error body rather than an event — `{"error": ...}`, or the bare
    /// `{"code":500,"message":"...","type":"server_error"}` LM Studio has sent mid-stream.
    pub fn error(&self) -> Option<ErrorObject> {
        match self {
            Self::Error(event) => Some(event.error_object()),
            Self::Failed(event) => {
                Some(event.response.error.clone().unwrap_or_else(|| ErrorObject {
                    message: Some("the response failed without saying why".to_owned()),
                    ..ErrorObject::default()
                }))
            }
            Self::Other(map) => error_body(map),
            _ => None,
        }
    }

    /// The event's `sequence_number`, when the server sends one (OpenAI does, llama.cpp
    /// does not).
    pub fn sequence_number(&self) -> Option<u64> {
        match self {
            Self::Created(e)
            | Self::Queued(e)
            | Self::InProgress(e)
            | Self::Completed(e)
            | Self::Failed(e)
            | Self::Incomplete(e) => e.sequence_number,
            Self::OutputItemAdded(e) | Self::OutputItemDone(e) => e.sequence_number,
            Self::ContentPartAdded(e)
            | Self::ContentPartDone(e)
            | Self::ReasoningSummaryPartAdded(e)
            | Self::ReasoningSummaryPartDone(e) => e.sequence_number,
            Self::OutputTextDelta(e)
            | Self::ReasoningTextDelta(e)
            | Self::ReasoningSummaryTextDelta(e)
            | Self::FunctionCallArgumentsDelta(e)
            | Self::McpCallArgumentsDelta(e) => e.sequence_number,
            Self::OutputTextDone(e)
            | Self::ReasoningTextDone(e)
            | Self::ReasoningSummaryTextDone(e) => e.sequence_number,
            Self::FunctionCallArgumentsDone(e) | Self::McpCallArgumentsDone(e) => e.sequence_number,
            Self::Error(e) => e.sequence_number,
            Self::Other(map) => map.get("sequence_number").and_then(Value::as_u64),
        }
    }
}

/// An error body in place of an event (never a `response.*` event): see
/// [`error_in_event`](crate::error::error_in_event).
fn error_body(map: &Map<String, Value>) -> Option<ErrorObject> {
    crate::error::error_in_event(map, Some("response."))
}

/// A lifecycle event: the response as it stands.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponseEvent {
    /// The response (whole in `response.completed`, with usage).
    #[serde(default, deserialize_with = "null_as_default")]
    pub response: Response,
    /// The event's position in the stream (OpenAI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<u64>,
    /// Fields this crate does not model (llama.cpp's `timings` on `response.completed`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `response.output_item.added` / `.done`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ItemEvent {
    /// The item: empty content when added, whole when done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<Item>,
    /// The item's position in `output` (OpenAI; llama.cpp leaves it out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_index: Option<u32>,
    /// The event's position in the stream (OpenAI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<u64>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A content part or summary part added or done.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PartEvent {
    /// The item the part belongs to.
    #[serde(default, deserialize_with = "null_as_default")]
    pub item_id: String,
    /// The item's position in `output`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_index: Option<u32>,
    /// The part's position in the item's `content`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_index: Option<u32>,
    /// The part's position in the item's `summary`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary_index: Option<u32>,
    /// The part: empty when added, whole when done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<ContentPart>,
    /// The event's position in the stream (OpenAI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<u64>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A piece of text, reasoning, summary or arguments.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeltaEvent {
    /// The item the piece belongs to.
    #[serde(default, deserialize_with = "null_as_default")]
    pub item_id: String,
    /// The item's position in `output`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_index: Option<u32>,
    /// The part's position in the item's `content`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_index: Option<u32>,
    /// The summary part's position (summary deltas).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary_index: Option<u32>,
    /// The piece.
    #[serde(default, deserialize_with = "null_as_default")]
    pub delta: String,
    /// The event's position in the stream (OpenAI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<u64>,
    /// Fields this crate does not model (`logprobs`, `obfuscation`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The whole text of a part (`*.done` for text, reasoning and summaries).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TextDoneEvent {
    /// The item the text belongs to.
    #[serde(default, deserialize_with = "null_as_default")]
    pub item_id: String,
    /// The item's position in `output`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_index: Option<u32>,
    /// The part's position in the item's `content`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_index: Option<u32>,
    /// The summary part's position (summary events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary_index: Option<u32>,
    /// The whole text.
    #[serde(default, deserialize_with = "null_as_default")]
    pub text: String,
    /// The event's position in the stream (OpenAI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<u64>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A call's whole arguments (`*_arguments.done`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ArgumentsDoneEvent {
    /// The call item.
    #[serde(default, deserialize_with = "null_as_default")]
    pub item_id: String,
    /// The item's position in `output`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_index: Option<u32>,
    /// The function's name (newer OpenAI events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The whole arguments, as JSON text.
    #[serde(default, deserialize_with = "crate::openai::string_or_json")]
    pub arguments: String,
    /// The event's position in the stream (OpenAI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<u64>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `error`: OpenAI's flat `{"type":"error","code","message","param"}`, or an `error` object
/// nested inside.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorEvent {
    /// A machine-readable code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<ErrorCode>,
    /// What went wrong, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The request parameter at fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// The error, when the server nests it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
    /// The event's position in the stream (OpenAI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<u64>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ErrorEvent {
    /// The error as one object: the nested `error`, with the flat fields filling its gaps.
    pub fn error_object(&self) -> ErrorObject {
        let mut object = self.error.clone().unwrap_or_default();
        if object.message.as_deref().is_none_or(str::is_empty) {
            object.message.clone_from(&self.message);
        }
        if object.code.is_none() {
            object.code.clone_from(&self.code);
        }
        if object.param.is_none() {
            object.param.clone_from(&self.param);
        }
        object
    }

    /// The message (never empty; see [`ErrorObject::message`]).
    pub fn message(&self) -> String {
        self.error_object().message().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sse_name_fills_a_missing_type() {
        let event =
            ResponseStreamEvent::from_sse(Some("response.output_text.delta"), r#"{"delta":"x"}"#)
                .unwrap();
        assert!(matches!(event, ResponseStreamEvent::OutputTextDelta(d) if d.delta == "x"));
    }

    #[test]
    fn error_shapes_are_recognised() {
        let flat: ResponseStreamEvent = serde_json::from_str(
            r#"{"type":"error","code":"ERR","message":"boom","param":null,"sequence_number":3}"#,
        )
        .unwrap();
        let error = flat.error().unwrap();
        assert_eq!(error.message(), "boom");
        assert_eq!(error.code, Some(ErrorCode::Text("ERR".into())));
        assert_eq!(flat.sequence_number(), Some(3));
        let nested: ResponseStreamEvent = serde_json::from_str(
            r#"{"type":"error","error":{"type":"internal_error","message":"crashed"}}"#,
        )
        .unwrap();
        assert_eq!(nested.error().unwrap().message(), "crashed");
        let bare = ResponseStreamEvent::from_sse(
            None,
            r#"{"code":500,"message":"The model produced output that does not match the expected peg-native format","type":"server_error"}"#,
        )
        .unwrap();
        assert!(matches!(bare, ResponseStreamEvent::Other(_)));
        let error = bare.error().unwrap();
        assert!(error.message().contains("peg-native"));
        assert_eq!(error.code, Some(ErrorCode::Number(500)));
        let envelope =
            ResponseStreamEvent::from_sse(None, r#"{"error":{"message":"nope"}}"#).unwrap();
        assert_eq!(envelope.error().unwrap().message(), "nope");
        let unknown: ResponseStreamEvent =
            serde_json::from_str(r#"{"type":"response.refusal.delta","delta":"no"}"#).unwrap();
        assert!(unknown.error().is_none());
        let failed: ResponseStreamEvent =
            serde_json::from_str(r#"{"type":"response.failed","response":{"status":"failed"}}"#)
                .unwrap();
        assert!(failed.is_terminal());
        assert!(failed.error().is_some());
    }
}
