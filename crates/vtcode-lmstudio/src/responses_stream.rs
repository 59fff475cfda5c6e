//! A streamed Responses answer: the protocol's decoder (named events until a terminal one;
//! errors however the server sends them) and [`ResponsesStream`], its summary included.

use lmstudio_proto::error::ErrorObject;
use lmstudio_proto::responses::{
    FunctionCallItem, Response, ResponseAssembler, ResponseStatus, ResponseStreamEvent,
    ResponseUsage,
};
use lmstudio_transport::sse::SseEventRef;
use lmstudio_transport::{DecodeError, EventDecoder, EventStream, Step};

use crate::client::LMStudioClient;
use crate::error::LmStudioError;
use crate::stream_error::{ProtocolStream, StreamProtocol, decode_event, delegate_stream};

/// Decodes `/v1/responses` events and assembles them as they pass.
#[derive(Debug, Default)]
pub(crate) struct ResponsesDecoder {
    assembler: ResponseAssembler,
}

impl StreamProtocol for ResponsesDecoder {
    type Event = ResponseStreamEvent;

    fn parse(name: Option<&str>, data: &str) -> Result<Self::Event, serde_json::Error> {
        ResponseStreamEvent::from_sse(name, data)
    }

    fn error(event: &Self::Event) -> Option<ErrorObject> {
        event.error()
    }

    fn is_unknown(event: &Self::Event) -> bool {
        matches!(event, ResponseStreamEvent::Other(_))
    }

    fn is_last(event: &Self::Event) -> bool {
        event.is_terminal()
    }

    fn record(&mut self, event: &Self::Event, data: &str) -> Result<(), DecodeError> {
        self.assembler
            .try_push(event)
            .map_err(|too_many| DecodeError::invalid(too_many, data))
    }
}

impl EventDecoder for ResponsesDecoder {
    type Item = ResponseStreamEvent;

    fn decode(&mut self, event: SseEventRef<'_>) -> Result<Step<Self::Item>, DecodeError> {
        decode_event(self, event)
    }
}

/// Everything a Responses stream said, assembled from its deltas: what has arrived so far
/// ([`ResponsesStream::summary`]) or the whole answer ([`ResponsesStream::into_summary`]).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ResponsesStreamSummary {
    /// The answer text (every message's `output_text` deltas, in order).
    pub text: String,
    /// The reasoning (`reasoning_text` deltas; LM Studio, llama.cpp).
    pub reasoning: String,
    /// The reasoning summaries (`reasoning_summary_text` deltas; OpenAI).
    pub reasoning_summary: String,
    /// The function calls, their arguments joined from the deltas.
    pub function_calls: Vec<FunctionCallItem>,
    /// Token counts, from the terminal event.
    pub usage: Option<ResponseUsage>,
    /// The response's status, from the latest lifecycle event.
    pub status: Option<ResponseStatus>,
    /// The response id (`resp_...`), for `previous_response_id`.
    pub response_id: Option<String>,
    /// The model that answered, when the server said.
    pub model: Option<String>,
    /// The response as the stream built it (output items from the deltas), once a terminal
    /// event arrived.
    pub response: Option<Response>,
    /// How many events arrived.
    pub events: usize,
    /// True once `response.completed` or `response.incomplete` arrived.
    pub complete: bool,
}

/// A streamed Responses answer: a `futures_core::Stream` of typed events (and
/// `FusedStream`), so `StreamExt` combinators apply. [`summary`](Self::summary) assembles
/// what has arrived; [`into_summary`](Self::into_summary) reads to the end. It ends after
/// `response.completed` or `response.incomplete`; an error the server sends (an `error`
/// event, `response.failed`, an error body mid-stream) is its own error, and a body that
/// ends before a terminal event is [`LmStudioError::StreamEndedEarly`]. Dropping the stream
/// closes the connection, which makes the server stop generating.
pub struct ResponsesStream {
    inner: ProtocolStream<ResponsesDecoder>,
}

impl std::fmt::Debug for ResponsesStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let assembler = &self.inner.decoder().assembler;
        f.debug_struct("ResponsesStream")
            .field("url", &self.inner.url())
            .field("events", &assembler.events())
            .field("finished", &assembler.is_finished())
            .finish_non_exhaustive()
    }
}

impl ResponsesStream {
    pub(crate) fn new(
        inner: EventStream<ResponsesDecoder>,
        client: LMStudioClient,
        model: String,
    ) -> Self {
        Self {
            inner: ProtocolStream::new(inner, client, model),
        }
    }

    /// What has arrived so far, assembled.
    pub fn summary(&self) -> ResponsesStreamSummary {
        let assembler = &self.inner.decoder().assembler;
        let snapshot = assembler.snapshot();
        let finished = assembler.is_finished();
        let complete = finished
            && matches!(
                assembler.status(),
                Some(ResponseStatus::Completed | ResponseStatus::Incomplete) | None
            );
        ResponsesStreamSummary {
            text: assembler.text(),
            reasoning: assembler.reasoning(),
            reasoning_summary: assembler.reasoning_summary(),
            function_calls: assembler.function_calls(),
            usage: assembler.usage().cloned(),
            status: assembler.status().cloned(),
            response_id: assembler.response_id().map(str::to_owned),
            model: Some(snapshot.model.clone()).filter(|m| !m.is_empty()),
            response: finished.then_some(snapshot),
            events: assembler.events(),
            complete,
        }
    }

    /// Reads the stream to its end and returns everything it said; the first error ends it.
    pub async fn into_summary(mut self) -> Result<ResponsesStreamSummary, LmStudioError> {
        self.inner.drain().await?;
        Ok(self.summary())
    }
}

delegate_stream!(ResponsesStream, ResponseStreamEvent);

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(
        decoder: &mut ResponsesDecoder,
        name: Option<&str>,
        data: &str,
    ) -> Result<Step<ResponseStreamEvent>, DecodeError> {
        decoder.decode(SseEventRef {
            event: name,
            data,
            id: None,
            retry: None,
        })
    }

    fn message(result: Result<Step<ResponseStreamEvent>, DecodeError>) -> String {
        match result {
            Err(DecodeError::Server { message, .. }) => message,
            other => panic!("expected a server error, got {other:?}"),
        }
    }

    #[test]
    fn terminal_events_end_the_stream_and_blanks_are_skipped() {
        let mut decoder = ResponsesDecoder::default();
        assert!(matches!(decode(&mut decoder, None, " "), Ok(Step::Skip)));
        assert!(matches!(
            decode(&mut decoder, None, "[DONE]"),
            Ok(Step::Skip)
        ));
        let delta = r#"{"type":"response.output_text.delta","item_id":"m","delta":"a"}"#;
        assert!(matches!(
            decode(&mut decoder, Some("response.output_text.delta"), delta),
            Ok(Step::Item(_))
        ));
        let done = r#"{"type":"response.incomplete","response":{"status":"incomplete"}}"#;
        assert!(matches!(
            decode(&mut decoder, None, done),
            Ok(Step::Last(_))
        ));
        assert_eq!(decoder.assembler.text(), "a");
    }

    #[test]
    fn every_error_shape_is_an_error_that_keeps_its_message() {
        let mut decoder = ResponsesDecoder::default();
        let peg = r#"{"code":500,"message":"The model produced output that does not match the expected peg-native format","type":"server_error"}"#;
        assert!(message(decode(&mut decoder, None, peg)).contains("peg-native"));
        assert!(message(decode(&mut decoder, Some("error"), peg)).contains("peg-native"));
        let event =
            r#"{"type":"error","code":"ERR","message":"Something went wrong","param":null}"#;
        assert_eq!(
            message(decode(&mut decoder, Some("error"), event)),
            "Something went wrong"
        );
        let odd = r#"{"type":"server_error","detail":"x"}"#;
        assert!(message(decode(&mut decoder, Some("error"), odd)).contains("detail"));
        let failed = r#"{"type":"response.failed","response":{"status":"failed","error":{"code":"server_error","message":"The model failed"}}}"#;
        assert_eq!(
            message(decode(&mut decoder, None, failed)),
            "The model failed"
        );
        let envelope = r#"{"error":{"message":"Model crashed","type":"internal_error"}}"#;
        match decode(&mut decoder, None, envelope) {
            Err(DecodeError::Server { message, envelope }) => {
                assert_eq!(message, "Model crashed");
                assert_eq!(envelope.unwrap().error.kind(), Some("internal_error"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            message(decode(
                &mut decoder,
                Some("error"),
                r#"{"error":"plain text"}"#
            )),
            "plain text"
        );
        assert_eq!(
            message(decode(
                &mut decoder,
                Some("error"),
                r#"{"type":"error","error":"plain text"}"#
            )),
            "plain text"
        );
        // An `error` event whose data fits no event: still the server's error.
        let unparsable = r#"{"message":"boom","sequence_number":"x"}"#;
        assert!(message(decode(&mut decoder, Some("error"), unparsable)).contains("boom"));
        // A `response.completed` that says it failed.
        let completed_failed = r#"{"type":"response.completed","response":{"status":"failed","error":{"message":"went wrong"}}}"#;
        assert_eq!(
            message(decode(&mut decoder, None, completed_failed)),
            "went wrong"
        );
        let completed_failed = r#"{"type":"response.completed","response":{"status":"failed"}}"#;
        assert!(message(decode(&mut decoder, None, completed_failed)).contains("failed"));
        assert!(matches!(
            decode(&mut decoder, None, "not json"),
            Err(DecodeError::Invalid { .. })
        ));
    }
}
