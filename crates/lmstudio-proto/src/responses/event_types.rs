//! The payloads of the Responses stream events: lifecycle, item, part, delta, done and error
//! events. The per-token ones ([`DeltaEvent`], [`TextDoneEvent`]) read their fields straight
//! from the input (`deserialize_with_extra!`), the hot path of a stream.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::items::Item;
use super::parts::ContentPart;
use super::response::Response;
use crate::error::{ErrorCode, ErrorObject};
use crate::nullable::null_as_default;

/// A lifecycle event: the response as it stands.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct ResponseEvent {
    /// The response (whole in `response.completed`, with usage).
    #[serde(default)]
    pub response: Response,
    /// The event's position in the stream (OpenAI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<u64>,
    /// Fields this crate does not model (llama.cpp's `timings` on `response.completed`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `response.output_item.added` / `.done`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct PartEvent {
    /// The item the part belongs to.
    #[serde(default)]
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
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct DeltaEvent {
    /// The item the piece belongs to.
    #[serde(default)]
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
    #[serde(default)]
    pub delta: String,
    /// The event's position in the stream (OpenAI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<u64>,
    /// Fields this crate does not model (`logprobs`, `obfuscation`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The whole text of a part (`*.done` for text, reasoning and summaries).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct TextDoneEvent {
    /// The item the text belongs to.
    #[serde(default)]
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
    #[serde(default)]
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
    /// The error, when the server nests it. A string (`{"error":"..."}`, LM Studio's
    /// shape) is read as the message; a value of no error shape, as its JSON text.
    #[serde(
        default,
        deserialize_with = "crate::error::lenient_error",
        skip_serializing_if = "Option::is_none"
    )]
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
        object.fill_gaps(ErrorObject {
            message: self.message.clone(),
            code: self.code.clone(),
            param: self.param.clone(),
            ..ErrorObject::default()
        });
        object
    }

    /// The message (never empty; see [`ErrorObject::message`]).
    pub fn message(&self) -> String {
        self.error_object().message().to_owned()
    }
}

deserialize_with_extra!(DeltaEvent {
    item_id: "item_id",
    output_index: "output_index",
    content_index: "content_index",
    summary_index: "summary_index",
    delta: "delta",
    sequence_number: "sequence_number",
});
deserialize_with_extra!(TextDoneEvent {
    item_id: "item_id",
    output_index: "output_index",
    content_index: "content_index",
    summary_index: "summary_index",
    text: "text",
    sequence_number: "sequence_number",
});

deserialize_with_extra!(ResponseEvent {
    response: "response",
    sequence_number: "sequence_number",
});
deserialize_with_extra!(ItemEvent {
    item: "item",
    output_index: "output_index",
    sequence_number: "sequence_number",
});
deserialize_with_extra!(PartEvent {
    item_id: "item_id",
    output_index: "output_index",
    content_index: "content_index",
    summary_index: "summary_index",
    part: "part",
    sequence_number: "sequence_number",
});
