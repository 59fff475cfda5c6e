//! A streamed Messages answer: the protocol's decoder (Anthropic's events until
//! `message_stop`; errors however the server sends them; the message assembled from the
//! deltas as they pass) and [`MessagesStream`], its summary included.

use lmstudio_proto::anthropic::{
    AssembleError, ContentBlock, MessageAssembler, MessagesResponse, StopReason, StreamEvent,
    ToolUseBlock, Usage,
};
use lmstudio_proto::error::ErrorObject;
use lmstudio_transport::sse::SseEventRef;
use lmstudio_transport::{DecodeError, EventDecoder, EventStream, Step};

use crate::client::LMStudioClient;
use crate::error::LmStudioError;
use crate::stream_error::{ProtocolStream, StreamProtocol, decode_event, delegate_stream};

/// Decodes `/v1/messages` events and assembles them as they pass.
#[derive(Debug, Default)]
pub(crate) struct MessagesDecoder {
    assembler: MessageAssembler,
    /// Events decoded (keep-alive blanks left out).
    events: usize,
    /// Blocks whose input JSON did not parse at their `content_block_stop`.
    invalid_inputs: Vec<usize>,
}

impl StreamProtocol for MessagesDecoder {
    type Event = StreamEvent;

    fn parse(name: Option<&str>, data: &str) -> Result<Self::Event, serde_json::Error> {
        StreamEvent::from_sse(name, data)
    }

    fn error(event: &Self::Event) -> Option<ErrorObject> {
        event.error()
    }

    fn is_unknown(event: &Self::Event) -> bool {
        matches!(event, StreamEvent::Other(_))
    }

    fn is_last(event: &Self::Event) -> bool {
        event.is_message_stop()
    }

    fn record(&mut self, event: &Self::Event, data: &str) -> Result<(), DecodeError> {
        self.events += 1;
        match self.assembler.push(event) {
            Ok(()) => Ok(()),
            // The block stopped with the input it started with; the summary says which.
            Err(AssembleError::InvalidToolInput { index, .. }) => {
                self.invalid_inputs
                    .push(usize::try_from(index).unwrap_or(usize::MAX));
                Ok(())
            }
            Err(broken) => Err(DecodeError::invalid(broken, data)),
        }
    }
}

impl EventDecoder for MessagesDecoder {
    type Item = StreamEvent;

    fn decode(&mut self, event: SseEventRef<'_>) -> Result<Step<Self::Item>, DecodeError> {
        decode_event(self, event)
    }
}

/// A tool call whose input JSON did not parse: at its `content_block_stop`, or (cut by
/// `max_tokens`) at `message_stop`. The call is in [`MessagesStreamSummary::tool_uses`]
/// with the input it started with (`{}`); do not run it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ToolInputError {
    /// The block's position in the message's `content`.
    pub index: usize,
    /// The call's id (`toolu_...`).
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The `input_json_delta` pieces that arrived, joined.
    pub partial_json: String,
    /// What the JSON parser said.
    pub error: String,
}

/// Everything a Messages stream said, assembled from its deltas: what has arrived so far
/// ([`MessagesStream::summary`]) or the whole answer ([`MessagesStream::into_summary`]).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct MessagesStreamSummary {
    /// The text blocks' `text_delta`s, joined.
    pub text: String,
    /// The thinking blocks' `thinking_delta`s, joined.
    pub thinking: String,
    /// The tool calls, each input joined from its `input_json_delta` pieces (parsed once the
    /// block stopped; `{}` until then, and when the JSON is broken: see
    /// [`tool_input_errors`](Self::tool_input_errors)).
    pub tool_uses: Vec<ToolUseBlock>,
    /// The tool calls whose input JSON did not parse.
    pub tool_input_errors: Vec<ToolInputError>,
    /// Why generation stopped, from `message_delta`.
    pub stop_reason: Option<StopReason>,
    /// The stop sequence that matched, when one did.
    pub stop_sequence: Option<String>,
    /// Token counts: the prompt's from `message_start`, replaced by those `message_delta`
    /// carries.
    pub usage: Option<Usage>,
    /// The message id (`msg_...`; llama.cpp: `chatcmpl-...`).
    pub message_id: Option<String>,
    /// The model that answered, when the server said.
    pub model: Option<String>,
    /// The message as the stream built it, once `message_stop` arrived: every block, in
    /// order, to send back as the next `assistant` turn.
    pub message: Option<MessagesResponse>,
    /// How many events arrived (`ping`s included).
    pub events: usize,
    /// True once `message_stop` arrived.
    pub complete: bool,
}

/// A streamed Messages answer: a `futures_core::Stream` of typed [`StreamEvent`]s (and
/// `FusedStream`), so `StreamExt` combinators apply. [`summary`](Self::summary) assembles
/// what has arrived; [`into_summary`](Self::into_summary) reads to the end. It ends after
/// `message_stop`; an error the server sends (an `error` event, an error body in place of an
/// event) is its own error, and a body that ends before `message_stop` is
/// [`LmStudioError::StreamEndedEarly`]. Dropping the stream closes the connection, which
/// makes the server stop generating.
pub struct MessagesStream {
    inner: ProtocolStream<MessagesDecoder>,
}

impl std::fmt::Debug for MessagesStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let decoder = self.inner.decoder();
        f.debug_struct("MessagesStream")
            .field("url", &self.inner.url())
            .field("events", &decoder.events)
            .field("complete", &decoder.assembler.is_complete())
            .finish_non_exhaustive()
    }
}

impl MessagesStream {
    pub(crate) fn new(
        inner: EventStream<MessagesDecoder>,
        client: LMStudioClient,
        model: String,
    ) -> Self {
        Self {
            inner: ProtocolStream::new(inner, client, model),
        }
    }

    /// What has arrived so far, assembled.
    pub fn summary(&self) -> MessagesStreamSummary {
        let decoder = self.inner.decoder();
        let assembler = &decoder.assembler;
        let complete = assembler.is_complete();
        let Some(snapshot) = assembler.snapshot() else {
            return MessagesStreamSummary {
                events: decoder.events,
                ..MessagesStreamSummary::default()
            };
        };
        let mut tool_uses = Vec::new();
        let mut tool_input_errors = Vec::new();
        for (index, block) in snapshot.content.iter().enumerate() {
            let ContentBlock::ToolUse(call) = block else {
                continue;
            };
            tool_uses.push(call.clone());
            let stopped = complete || decoder.invalid_inputs.contains(&index);
            let json = assembler.partial_json(index).unwrap_or_default();
            if !stopped || json.is_empty() {
                continue;
            }
            if let Err(error) = serde_json::from_str::<serde_json::Value>(json) {
                tool_input_errors.push(ToolInputError {
                    index,
                    id: call.id.clone(),
                    name: call.name.clone(),
                    partial_json: json.to_owned(),
                    error: error.to_string(),
                });
            }
        }
        MessagesStreamSummary {
            text: assembler.text(),
            thinking: assembler.thinking(),
            tool_uses,
            tool_input_errors,
            stop_reason: snapshot.stop_reason.clone(),
            stop_sequence: snapshot.stop_sequence.clone(),
            usage: Some(snapshot.usage.clone()),
            message_id: Some(snapshot.id.clone()).filter(|id| !id.is_empty()),
            model: Some(snapshot.model.clone()).filter(|m| !m.is_empty()),
            message: complete.then_some(snapshot),
            events: decoder.events,
            complete,
        }
    }

    /// Reads the stream to its end and returns everything it said; the first error ends it.
    pub async fn into_summary(mut self) -> Result<MessagesStreamSummary, LmStudioError> {
        self.inner.drain().await?;
        Ok(self.summary())
    }
}

delegate_stream!(MessagesStream, StreamEvent);

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(
        decoder: &mut MessagesDecoder,
        name: Option<&str>,
        data: &str,
    ) -> Result<Step<StreamEvent>, DecodeError> {
        decoder.decode(SseEventRef {
            event: name,
            data,
            id: None,
            retry: None,
        })
    }

    fn message(result: Result<Step<StreamEvent>, DecodeError>) -> String {
        match result {
            Err(DecodeError::Server { message, .. }) => message,
            other => panic!("expected a server error, got {other:?}"),
        }
    }

    const START: &str = r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"m","usage":{"input_tokens":3,"output_tokens":0}}}"#;

    #[test]
    fn message_stop_ends_the_stream_and_blanks_are_skipped() {
        let mut decoder = MessagesDecoder::default();
        assert!(matches!(decode(&mut decoder, None, " "), Ok(Step::Skip)));
        assert!(matches!(
            decode(&mut decoder, None, "[DONE]"),
            Ok(Step::Skip)
        ));
        assert!(matches!(
            decode(&mut decoder, Some("message_start"), START),
            Ok(Step::Item(_))
        ));
        let ping = r#"{"type": "ping"}"#;
        assert!(matches!(
            decode(&mut decoder, Some("ping"), ping),
            Ok(Step::Item(_))
        ));
        let stop = r#"{"type":"message_stop"}"#;
        assert!(matches!(
            decode(&mut decoder, Some("message_stop"), stop),
            Ok(Step::Last(_))
        ));
        assert_eq!(decoder.events, 3);
        assert!(decoder.assembler.is_complete());
    }

    #[test]
    fn every_error_shape_is_an_error_that_keeps_its_message() {
        let mut decoder = MessagesDecoder::default();
        let anthropic =
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        match decode(&mut decoder, Some("error"), anthropic) {
            Err(DecodeError::Server { message, envelope }) => {
                assert_eq!(message, "Overloaded");
                assert_eq!(envelope.unwrap().error.kind(), Some("overloaded_error"));
            }
            other => panic!("{other:?}"),
        }
        let openai =
            r#"{"error":{"code":500,"message":"'messages' is required","type":"server_error"}}"#;
        assert_eq!(
            message(decode(&mut decoder, None, openai)),
            "'messages' is required"
        );
        assert_eq!(
            message(decode(&mut decoder, Some("error"), openai)),
            "'messages' is required"
        );
        let bare = r#"{"code":500,"message":"The model produced output that does not match the expected peg-native format","type":"server_error"}"#;
        assert!(message(decode(&mut decoder, None, bare)).contains("peg-native"));
        let odd = r#"{"type":"mystery","detail":"x"}"#;
        assert!(message(decode(&mut decoder, Some("error"), odd)).contains("detail"));
        let flat = r#"{"type":"error","message":"boom","code":500}"#;
        assert_eq!(message(decode(&mut decoder, Some("error"), flat)), "boom");
        assert_eq!(message(decode(&mut decoder, None, flat)), "boom");
        let text = r#"{"type":"error","error":"plain text"}"#;
        assert_eq!(
            message(decode(&mut decoder, Some("error"), text)),
            "plain text"
        );
        let bare_text = r#"{"error":"plain text"}"#;
        assert_eq!(
            message(decode(&mut decoder, Some("error"), bare_text)),
            "plain text"
        );
        assert!(matches!(
            decode(&mut decoder, None, "not json"),
            Err(DecodeError::Invalid { .. })
        ));
    }

    #[test]
    fn a_broken_protocol_is_invalid_but_a_broken_tool_input_is_recorded() {
        let mut decoder = MessagesDecoder::default();
        let early =
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}"#;
        assert!(matches!(
            decode(&mut decoder, None, early),
            Err(DecodeError::Invalid { .. })
        ));
        let mut decoder = MessagesDecoder::default();
        decode(&mut decoder, None, START).unwrap();
        let call = r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":"f","input":{}}}"#;
        decode(&mut decoder, None, call).unwrap();
        let piece = r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"a\": "}}"#;
        decode(&mut decoder, None, piece).unwrap();
        let stop = r#"{"type":"content_block_stop","index":0}"#;
        assert!(matches!(
            decode(&mut decoder, None, stop),
            Ok(Step::Item(_))
        ));
        assert_eq!(decoder.invalid_inputs, [0]);
    }
}
