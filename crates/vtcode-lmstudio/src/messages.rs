//! The Anthropic Messages API, `POST /v1/messages` (LM Studio 0.4.1+, llama.cpp's server):
//! whole ([`LMStudioClient::messages`]) or streamed ([`LMStudioClient::messages_stream`]),
//! and `POST /v1/messages/count_tokens` ([`LMStudioClient::count_message_tokens`]), with the
//! servers' known behaviour handled:
//!
//! - the token goes as `Authorization: Bearer`, like every other call (LM Studio also takes
//!   `x-api-key` there; llama.cpp's server takes either);
//! - errors come in Anthropic's shape (`{"type":"error","error":{"type":...,"message":...}}`)
//!   or, from llama.cpp, OpenAI's (`{"error":{"code":500,"message":...}}`): both keep the
//!   server's message ([`LmStudioError::Server`]); a prompt longer than the loaded context is
//!   [`LmStudioError::ContextOverflow`], whole or inside a stream;
//! - LM Studio validates role alternation strictly: a request it refuses comes back with its
//!   own message, and nothing is rewritten or retried;
//! - LM Studio has no `/v1/messages/count_tokens` (it answers HTTP 200 "Unexpected endpoint
//!   or method"), and before 0.4.1 no `/v1/messages` either: that answer is
//!   [`LmStudioError::Unsupported`], never a parse error.

use lmstudio_proto::anthropic::{CountTokensResponse, MessagesRequest, MessagesResponse};

use crate::client::LMStudioClient;
use crate::error::LmStudioError;
use crate::messages_stream::{MessagesDecoder, MessagesStream};
use crate::server::is_missing_route;

/// The Messages route.
pub(crate) const MESSAGES_PATH: &str = "/v1/messages";
/// The token-counting route (llama.cpp, Anthropic; not LM Studio).
pub(crate) const COUNT_TOKENS_PATH: &str = "/v1/messages/count_tokens";

impl LMStudioClient {
    /// `POST /v1/messages`, not streamed. An empty `model` means the default model.
    ///
    /// LM Studio before 0.4.1 has no such route (it answers HTTP 200 "Unexpected endpoint"):
    /// that is [`LmStudioError::Unsupported`].
    ///
    /// Bounded by `[lmstudio].request_timeout_ms`, like [`chat`](Self::chat). A load of the
    /// model that is still running is awaited first. `max_tokens` is sent only when set
    /// (Anthropic's API requires it; LM Studio and llama.cpp do not). A prompt longer than
    /// the loaded context is [`LmStudioError::ContextOverflow`]; any other error keeps the
    /// server's message (LM Studio's refusal of two `user` turns in a row included).
    pub async fn messages(
        &self,
        mut request: MessagesRequest,
    ) -> Result<MessagesResponse, LmStudioError> {
        self.prepare_messages(&mut request).await;
        request.stream = None;
        self.http()
            .post_json(MESSAGES_PATH, &request)
            .await
            .map_err(|e| self.map_messages(e, &request.model))
    }

    /// `POST /v1/messages` with `stream: true`: typed [`StreamEvent`]s as they arrive,
    /// assembled into a [`MessagesStreamSummary`](crate::MessagesStreamSummary).
    ///
    /// The wait for the first byte is bounded by the load timeout (a just-in-time load may
    /// come first); later gaps by the idle timeout. The stream ends after `message_stop`. An
    /// `error` event, or an error body in place of an event, is returned as an error with
    /// the server's message ([`LmStudioError::ContextOverflow`] when it says the prompt is
    /// too long); a body that ends before `message_stop` is
    /// [`LmStudioError::StreamEndedEarly`]; events that break the protocol (a delta for a
    /// block that never started, ...) are [`LmStudioError::InvalidJson`].
    ///
    /// [`StreamEvent`]: lmstudio_proto::anthropic::StreamEvent
    pub async fn messages_stream(
        &self,
        mut request: MessagesRequest,
    ) -> Result<MessagesStream, LmStudioError> {
        self.prepare_messages(&mut request).await;
        request.stream = Some(true);
        let inner = self
            .http()
            .post(MESSAGES_PATH)
            .json(&request)
            .response_headers_timeout(self.inner.settings.load_timeout)
            .send_event_stream(MessagesDecoder::default())
            .await
            .map_err(|e| self.map_messages(e, &request.model))?;
        Ok(MessagesStream::new(inner, self.clone(), request.model))
    }

    /// `POST /v1/messages/count_tokens`: how many tokens the request's prompt (system,
    /// messages, tools) takes, without generating. `max_tokens` and `stream` are not sent
    /// (the route takes neither); an empty `model` means the default model.
    ///
    /// llama.cpp's server and Anthropic answer it. LM Studio has no such route and answers
    /// HTTP 200 `{"error":"Unexpected endpoint or method. (POST /v1/messages/count_tokens)"}`:
    /// that (like a 404, 405 or 501 from another server) is [`LmStudioError::Unsupported`],
    /// never a parse error. Count with the answer's `usage.input_tokens` there instead.
    pub async fn count_message_tokens(
        &self,
        mut request: MessagesRequest,
    ) -> Result<CountTokensResponse, LmStudioError> {
        self.prepare_messages(&mut request).await;
        request.stream = None;
        request.max_tokens = None;
        self.http()
            .post_json(COUNT_TOKENS_PATH, &request)
            .await
            .map_err(|e| {
                let mapped = self.map_inference(e, &request.model);
                if is_count_route_missing(&mapped) {
                    self.unsupported(
                        "count_message_tokens",
                        COUNT_TOKENS_PATH,
                        &mapped,
                        "LM Studio does not serve it: read usage.input_tokens of a messages \
                         answer instead",
                    )
                } else {
                    mapped
                }
            })
    }

    /// Fills the default model and waits for a load of the model that is still running.
    async fn prepare_messages(&self, request: &mut MessagesRequest) {
        self.fill_model(&mut request.model);
        self.wait_for_load_in_progress(&request.model).await;
    }

    /// Maps the error of a Messages request: LM Studio's "Unexpected endpoint" (before
    /// 0.4.1) is [`LmStudioError::Unsupported`], an overflow
    /// [`LmStudioError::ContextOverflow`]. A 404 stays a server error: LM Studio answers an
    /// unknown model so.
    fn map_messages(&self, err: lmstudio_transport::Error, model: &str) -> LmStudioError {
        let mapped = self.map_inference(err, model);
        if is_unexpected_endpoint(&mapped) {
            self.unsupported(
                "messages",
                MESSAGES_PATH,
                &mapped,
                "LM Studio serves the Anthropic Messages API from 0.4.1",
            )
        } else {
            mapped
        }
    }

    fn unsupported(
        &self,
        operation: &str,
        path: &str,
        answer: &LmStudioError,
        advice: &str,
    ) -> LmStudioError {
        let said = match answer {
            LmStudioError::Server {
                status, message, ..
            } => format!("HTTP {}: {message}", status.as_u16()),
            other => other.to_string(),
        };
        LmStudioError::Unsupported {
            operation: operation.to_owned(),
            url: self.base_url().to_owned(),
            reason: format!("the server has no {path} (it answered {said}); {advice}"),
        }
    }
}

/// LM Studio's answer to a route it does not have: HTTP 200 "Unexpected endpoint or method".
fn is_unexpected_endpoint(err: &LmStudioError) -> bool {
    matches!(err, LmStudioError::Server { status, message, .. }
        if *status == lmstudio_transport::http::StatusCode::OK
            && message.starts_with("Unexpected endpoint"))
}

/// Whether the count-tokens route is missing: LM Studio's 200 "Unexpected endpoint", or a
/// 404/405/501. A body that is not JSON stays a parse error (the route exists and broke).
fn is_count_route_missing(err: &LmStudioError) -> bool {
    matches!(err, LmStudioError::Server { .. }) && is_missing_route(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lmstudio_transport::http::StatusCode;

    fn server(status: u16, message: &str) -> LmStudioError {
        LmStudioError::Server {
            status: StatusCode::from_u16(status).unwrap(),
            url: "http://h/v1/messages/count_tokens".into(),
            message: message.into(),
            source: None,
        }
    }

    #[test]
    fn only_lm_studios_answer_makes_messages_unsupported() {
        assert!(is_unexpected_endpoint(&server(
            200,
            "Unexpected endpoint or method. (POST /v1/messages)"
        )));
        assert!(!is_unexpected_endpoint(&server(
            404,
            "Model \"x\" not found."
        )));
        assert!(!is_unexpected_endpoint(&server(
            200,
            "The model has crashed"
        )));
    }

    #[test]
    fn only_a_missing_route_makes_counting_unsupported() {
        assert!(is_count_route_missing(&server(
            200,
            "Unexpected endpoint or method. (POST /v1/messages/count_tokens)"
        )));
        assert!(is_count_route_missing(&server(404, "File Not Found")));
        assert!(!is_count_route_missing(&server(500, "boom")));
        assert!(!is_count_route_missing(&server(
            400,
            "messages: roles must alternate"
        )));
        assert!(!is_count_route_missing(&LmStudioError::InvalidJson {
            url: "u".into(),
            detail: "d".into(),
            source: None,
        }));
    }
}
