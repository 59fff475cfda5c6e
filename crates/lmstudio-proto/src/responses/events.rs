//! The named SSE events of a streamed `POST /v1/responses` (`event: <type>` + `data: {json}`).
//!
//! Each event's JSON repeats its name in `type`, so the `data` alone parses into a
//! [`ResponseStreamEvent`]. A stream begins with `response.created` and ends with
//! `response.completed`, `response.failed` or `response.incomplete`; OpenAI and llama.cpp
//! send no `data: [DONE]`. What each server leaves out (llama.cpp: `output_index`,
//! `content_index`, `sequence_number`, and the `*.done` events of reasoning text and function
//! arguments) reads as absent.

use serde_json::{Map, Value};

use super::event_types::{
    ArgumentsDoneEvent, DeltaEvent, ErrorEvent, ItemEvent, PartEvent, ResponseEvent, TextDoneEvent,
};
use super::response::{Response, ResponseStatus};
use crate::error::ErrorObject;

tagged_enum! {
    /// One event of a streamed response, tagged by `type`. Event types this crate does not
    /// model (`response.refusal.delta`, the built-in tools' progress events, ...) are kept
    /// whole in [`Other`](Self::Other). The larger payloads are boxed, so the enum stays small
    /// (a stream yields one per token).
    #[non_exhaustive]
    pub enum ResponseStreamEvent {
        /// The response exists; nothing generated yet (`"response.created"`).
        Created(Box<ResponseEvent>) = "response.created",
        /// Waiting to start (`"response.queued"`).
        Queued(Box<ResponseEvent>) = "response.queued",
        /// Generation began (`"response.in_progress"`).
        InProgress(Box<ResponseEvent>) = "response.in_progress",
        /// The last event of a finished response (`"response.completed"`).
        Completed(Box<ResponseEvent>) = "response.completed",
        /// The last event of a failed response; `response.error` says why
        /// (`"response.failed"`).
        Failed(Box<ResponseEvent>) = "response.failed",
        /// The last event of a response cut short; `response.incomplete_details` says why
        /// (`"response.incomplete"`).
        Incomplete(Box<ResponseEvent>) = "response.incomplete",
        /// An output item began (`"response.output_item.added"`).
        OutputItemAdded(Box<ItemEvent>) = "response.output_item.added",
        /// An output item is whole (`"response.output_item.done"`).
        OutputItemDone(Box<ItemEvent>) = "response.output_item.done",
        /// A message's content part began (`"response.content_part.added"`).
        ContentPartAdded(Box<PartEvent>) = "response.content_part.added",
        /// A message's content part is whole (`"response.content_part.done"`).
        ContentPartDone(Box<PartEvent>) = "response.content_part.done",
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
        ReasoningSummaryPartAdded(Box<PartEvent>) = "response.reasoning_summary_part.added",
        /// A reasoning summary part is whole (`"response.reasoning_summary_part.done"`).
        ReasoningSummaryPartDone(Box<PartEvent>) = "response.reasoning_summary_part.done",
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
        match (serde_json::from_str::<Self>(data)?, event_name) {
            (Self::Other(mut map), Some(name)) if !map.contains_key("type") => {
                map.insert("type".to_owned(), Value::from(name));
                crate::tagged::from_fields(map)
            }
            (event, _) => Ok(event),
        }
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
    /// `response.failed` (its `response.error`, else a placeholder) or a `response.completed`
    /// that says it failed (`status: failed`, or a `response.error`), or an unknown event
    /// whose data is an error body rather than an event — `{"error": ...}`, or the bare
    /// `{"code":500,"message":"...","type":"server_error"}` LM Studio has sent mid-stream.
    pub fn error(&self) -> Option<ErrorObject> {
        match self {
            Self::Error(event) => Some(event.error_object()),
            Self::Failed(event) => Some(failure(&event.response)),
            // A `response.completed` that says it failed is a failure too.
            Self::Completed(event)
                if event.response.error.is_some()
                    || event.response.status == Some(ResponseStatus::Failed) =>
            {
                Some(failure(&event.response))
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

/// Why a failed response failed: its `error`, else a placeholder.
fn failure(response: &Response) -> ErrorObject {
    response.error.clone().unwrap_or_else(|| ErrorObject {
        message: Some("the response failed without saying why".to_owned()),
        ..ErrorObject::default()
    })
}

/// An error body in place of an event (never a `response.*` event): see
/// [`error_in_event`](crate::error::error_in_event).
fn error_body(map: &Map<String, Value>) -> Option<ErrorObject> {
    crate::error::error_in_event(map, Some("response."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn the_sse_name_fills_a_missing_type() {
        let event =
            ResponseStreamEvent::from_sse(Some("response.output_text.delta"), r#"{"delta":"x"}"#)
                .unwrap();
        assert!(matches!(event, ResponseStreamEvent::OutputTextDelta(d) if d.delta == "x"));
        let unknown =
            ResponseStreamEvent::from_sse(Some("response.refusal.delta"), r#"{"delta":"no"}"#)
                .unwrap();
        assert_eq!(unknown.kind(), "response.refusal.delta");
        assert_eq!(
            serde_json::to_string(&unknown).unwrap(),
            r#"{"type":"response.refusal.delta","delta":"no"}"#
        );
        let named = ResponseStreamEvent::from_sse(
            Some("response.output_text.delta"),
            r#"{"type":"response.output_text.done","text":"xy"}"#,
        )
        .unwrap();
        assert!(matches!(named, ResponseStreamEvent::OutputTextDone(d) if d.text == "xy"));
        let bad =
            ResponseStreamEvent::from_sse(Some("response.output_text.delta"), r#"{"delta":5}"#)
                .unwrap_err();
        assert!(bad.to_string().contains("invalid type"), "{bad}");
    }

    #[test]
    fn a_repeated_type_is_an_error() {
        for text in [
            r#"{"type":"response.output_text.delta","delta":"x","type":"response.output_text.delta"}"#,
            r#"{"type":"response.refusal.delta","type":"response.refusal.delta"}"#,
            r#"{"delta":"x","type":"response.output_text.delta","type":"error"}"#,
        ] {
            let err = serde_json::from_str::<ResponseStreamEvent>(text).unwrap_err();
            assert!(err.to_string().contains("duplicate field"), "{text}: {err}");
        }
    }

    #[test]
    fn type_first_or_not_and_unknown_tags_read_alike() {
        let first: ResponseStreamEvent = serde_json::from_str(
            r#"{"type":"response.output_text.delta","item_id":"m","delta":"x","x":1}"#,
        )
        .unwrap();
        let last: ResponseStreamEvent = serde_json::from_str(
            r#"{"item_id":"m","delta":"x","x":1,"type":"response.output_text.delta"}"#,
        )
        .unwrap();
        assert_eq!(first, last);
        assert!(matches!(&first, ResponseStreamEvent::OutputTextDelta(d) if d.extra["x"] == 1));
        for text in [
            r#"{"type":"response.refusal.delta","item_id":"m","delta":"no"}"#,
            r#"{"item_id":"m","type":"response.refusal.delta","delta":"no"}"#,
            r#"{"type":7,"delta":"no"}"#,
            r#"{"type":null,"delta":"no"}"#,
        ] {
            let event: ResponseStreamEvent = serde_json::from_str(text).unwrap();
            let ResponseStreamEvent::Other(map) = &event else {
                panic!("{text}: {event:?}")
            };
            assert_eq!(map.len(), if map.contains_key("item_id") { 3 } else { 2 });
            assert_eq!(
                serde_json::to_value(&event).unwrap(),
                serde_json::from_str::<Value>(text).unwrap()
            );
        }
        let err = serde_json::from_str::<ResponseStreamEvent>(
            r#"{"type":"response.output_text.delta","delta":5}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("invalid type"), "{err}");
        assert!(serde_json::from_str::<ResponseStreamEvent>("[1]").is_err());
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

    #[test]
    fn an_error_event_whose_error_is_text_keeps_the_text() {
        let text = "The number of tokens to keep from the initial prompt is greater than the context length";
        for data in [
            format!(r#"{{"error":"{text}"}}"#),
            format!(r#"{{"type":"error","error":"{text}"}}"#),
        ] {
            let event = ResponseStreamEvent::from_sse(Some("error"), &data).unwrap();
            assert_eq!(event.error().unwrap().message(), text, "{data}");
        }
        let odd = ResponseStreamEvent::from_sse(Some("error"), r#"{"error":{"message":{"a":1}}}"#)
            .unwrap();
        assert!(odd.error().unwrap().message().contains(r#""a":1"#));
    }
}
