//! LM Studio's native chat, `POST /api/v1/chat` (0.4+): whole, or streamed as named events.
//!
//! Unlike `/v1/chat/completions`, this endpoint reports what a UI or a model picker wants to
//! show while it waits: a just-in-time model load with its progress (`model_load.*`), prompt
//! processing progress (`prompt_processing.*`), and stats at the end (`chat.end`: tokens per
//! second, time to first token, load time). It has no custom tools (MCP servers and plugins
//! only) and takes no assistant messages.

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use lmstudio_proto::error::ErrorObject;
use lmstudio_proto::native::v1::{ChatRequest, ChatResponse, ChatStats, ChatStreamEvent};
use lmstudio_proto::numbers::duration_from_secs_f64;
use lmstudio_transport::SseStream;

use crate::client::LMStudioClient;
use crate::error::LmStudioError;
use crate::server::ServerInfo;

/// The native chat route.
const NATIVE_CHAT_PATH: &str = "/api/v1/chat";

impl LMStudioClient {
    /// `POST /api/v1/chat`, not streamed (LM Studio 0.4+). An empty `model` means the
    /// default model.
    ///
    /// LM Studio loads the model just in time when needed, so the wait for the answer is
    /// bounded by the load timeout plus `[lmstudio].request_timeout_ms`. A load this client
    /// (or another client of the server) is running is awaited first, as for
    /// [`chat`](Self::chat). On a server without the native API v1 the call fails with
    /// [`LmStudioError::Unsupported`] without sending anything.
    pub async fn native_chat(
        &self,
        mut request: ChatRequest,
    ) -> Result<ChatResponse, LmStudioError> {
        self.prepare_native_chat(&mut request).await?;
        request.stream = None;
        let settings = &self.inner.settings;
        self.http()
            .post(NATIVE_CHAT_PATH)
            .json(&request)
            .response_headers_timeout(settings.load_timeout)
            .deadline(
                settings
                    .load_timeout
                    .saturating_add(settings.limits.deadline),
            )
            .send_json()
            .await
            .map_err(|e| self.map_inference(e, &request.model))
    }

    /// `POST /api/v1/chat` with `stream: true` (LM Studio 0.4+): the named events as they
    /// arrive, model-load and prompt-processing progress included.
    ///
    /// The wait for the first byte is bounded by the load timeout (a just-in-time load may
    /// come first); later gaps by the idle timeout. An `error` event is returned as
    /// [`LmStudioError::Server`] with the server's message (its `type`, `code` and `param`
    /// stay in [`NativeChatSummary::error`]), and a stream that ends before `chat.end` as
    /// [`LmStudioError::StreamEndedEarly`]. On a server without the native API v1 the call
    /// fails with [`LmStudioError::Unsupported`] without sending anything.
    pub async fn native_chat_stream(
        &self,
        mut request: ChatRequest,
    ) -> Result<NativeChatStream, LmStudioError> {
        self.prepare_native_chat(&mut request).await?;
        request.stream = Some(true);
        let inner = self
            .http()
            .post(NATIVE_CHAT_PATH)
            .json(&request)
            .response_headers_timeout(self.inner.settings.load_timeout)
            .send_events()
            .await
            .map_err(|e| self.map_inference(e, &request.model))?;
        Ok(NativeChatStream {
            model: request.model.clone(),
            url: inner.url().to_owned(),
            status: inner.status(),
            inner: Some(inner),
            client: self.clone(),
            summary: NativeChatSummary::default(),
        })
    }

    /// Fills the default model, checks the server has `/api/v1`, and waits for a load of the
    /// model that is still running.
    async fn prepare_native_chat(&self, request: &mut ChatRequest) -> Result<(), LmStudioError> {
        if request.model.trim().is_empty() {
            request.model = self.default_model().to_owned();
        }
        let server = self.server_info().await?;
        if !server.has_native_v1() {
            return Err(native_unsupported(&server));
        }
        self.wait_for_load_in_progress(&request.model).await;
        Ok(())
    }
}

fn native_unsupported(server: &ServerInfo) -> LmStudioError {
    LmStudioError::Unsupported {
        operation: "native_chat".to_owned(),
        url: server.base_url.clone(),
        reason: format!(
            "POST {NATIVE_CHAT_PATH} needs LM Studio 0.4 or newer and this is an {}; use \
             chat or chat_stream (/v1/chat/completions) instead",
            server.describe()
        ),
    }
}

/// A model load seen in a native chat stream (`model_load.*`): the request loaded the model
/// just in time.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct NativeModelLoad {
    /// The instance being loaded.
    pub model_instance_id: String,
    /// The latest progress, `0.0..=1.0` (values outside, or not numbers, are ignored).
    pub progress: f64,
    /// Whether `model_load.end` arrived.
    pub finished: bool,
    /// How long the load took, from `model_load.end` (when the server sent a usable value).
    pub load_time: Option<Duration>,
}

/// What a native chat stream has said so far.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct NativeChatSummary {
    /// The instance serving the chat (from `chat.start`, then `chat.end`).
    pub model_instance_id: Option<String>,
    /// The concatenated `message.delta` text.
    pub text: String,
    /// The concatenated `reasoning.delta` text.
    pub reasoning: String,
    /// The model load, when this request loaded the model.
    pub model_load: Option<NativeModelLoad>,
    /// The latest prompt-processing progress, `0.0..=1.0`.
    pub prompt_progress: Option<f64>,
    /// Token counts and timings, from `chat.end`.
    pub stats: Option<ChatStats>,
    /// The whole answer, from `chat.end`.
    pub result: Option<ChatResponse>,
    /// The server's `error` event, when one arrived.
    pub error: Option<ErrorObject>,
    /// How many events arrived.
    pub events: usize,
    /// Whether `chat.end` arrived (the answer is complete).
    pub finished: bool,
}

impl NativeChatSummary {
    /// Generation speed, from the stats.
    pub fn tokens_per_second(&self) -> Option<f64> {
        self.stats.as_ref()?.tokens_per_second
    }

    /// Time to the first token, from the stats (when the server sent a usable value).
    pub fn time_to_first_token(&self) -> Option<Duration> {
        duration_from_secs_f64(self.stats.as_ref()?.time_to_first_token_seconds?)
    }

    fn absorb(&mut self, event: &ChatStreamEvent) {
        self.events += 1;
        match event {
            ChatStreamEvent::ChatStart(start) => {
                self.model_instance_id = Some(start.model_instance_id.clone());
            }
            ChatStreamEvent::ModelLoadStart(start) => {
                self.model_load = Some(NativeModelLoad {
                    model_instance_id: start.model_instance_id.clone(),
                    ..NativeModelLoad::default()
                });
            }
            ChatStreamEvent::ModelLoadProgress(progress) => {
                let load = self.model_load.get_or_insert_with(NativeModelLoad::default);
                if let Some(id) = &progress.model_instance_id {
                    load.model_instance_id.clone_from(id);
                }
                if let Some(value) = usable_progress(progress.progress) {
                    load.progress = value;
                }
            }
            ChatStreamEvent::ModelLoadEnd(end) => {
                let load = self.model_load.get_or_insert_with(NativeModelLoad::default);
                load.model_instance_id.clone_from(&end.model_instance_id);
                load.progress = 1.0;
                load.finished = true;
                load.load_time = end.load_time_seconds.and_then(duration_from_secs_f64);
            }
            ChatStreamEvent::PromptProcessingProgress(progress) => {
                if let Some(value) = usable_progress(progress.progress) {
                    self.prompt_progress = Some(value);
                }
            }
            ChatStreamEvent::PromptProcessingEnd(_) => self.prompt_progress = Some(1.0),
            ChatStreamEvent::MessageDelta(delta) => self.text.push_str(&delta.content),
            ChatStreamEvent::ReasoningDelta(delta) => self.reasoning.push_str(&delta.content),
            ChatStreamEvent::Error(error) => self.error = Some(error.error.clone()),
            ChatStreamEvent::ChatEnd(end) => {
                if !end.result.model_instance_id.is_empty() {
                    self.model_instance_id = Some(end.result.model_instance_id.clone());
                }
                self.stats.clone_from(&end.result.stats);
                self.result = Some(end.result.clone());
                self.finished = true;
            }
            _ => {}
        }
    }
}

/// A progress value as sent, when it is a number in `0.0..=1.0`.
fn usable_progress(value: f64) -> Option<f64> {
    (0.0..=1.0).contains(&value).then_some(value)
}

/// A streamed native chat: a `futures_core::Stream` of [`ChatStreamEvent`]s (use
/// `StreamExt` to read it), ending after `chat.end`. [`summary`](Self::summary) shows what
/// has arrived; [`into_summary`](Self::into_summary) reads to the end. Dropping it closes the
/// connection, which makes LM Studio stop generating.
pub struct NativeChatStream {
    /// `None` once the stream is over (after `chat.end`, an error, or the end of the body).
    inner: Option<SseStream>,
    client: LMStudioClient,
    url: String,
    status: lmstudio_transport::http::StatusCode,
    summary: NativeChatSummary,
    /// The model the request named, for errors.
    model: String,
}

impl std::fmt::Debug for NativeChatStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeChatStream")
            .field("url", &self.url)
            .field("events", &self.summary.events)
            .field("finished", &self.summary.finished)
            .finish_non_exhaustive()
    }
}

impl NativeChatStream {
    /// What has arrived so far: text, reasoning, load and prompt progress, and (after
    /// `chat.end`) the stats and the whole answer.
    pub fn summary(&self) -> &NativeChatSummary {
        &self.summary
    }

    /// Reads the stream to its end and returns what it said; the first error ends it.
    pub async fn into_summary(mut self) -> Result<NativeChatSummary, LmStudioError> {
        while let Some(item) = poll_fn(|cx| Pin::new(&mut self).poll_event(cx)).await {
            item?;
        }
        Ok(self.summary)
    }

    fn poll_event(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<ChatStreamEvent, LmStudioError>>> {
        loop {
            let Some(inner) = self.inner.as_mut() else {
                return Poll::Ready(None);
            };
            let event = match inner.poll_next_event(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(event))) => event,
                Poll::Ready(Some(Err(err))) => {
                    self.inner = None;
                    return Poll::Ready(Some(Err(self.client.map_http(err))));
                }
                Poll::Ready(None) => {
                    self.inner = None;
                    let url = self.url.clone();
                    return Poll::Ready(Some(Err(LmStudioError::StreamEndedEarly { url })));
                }
            };
            let data = event.data.trim();
            // Keep-alive blanks, and a `[DONE]` some proxies append: nothing to deliver.
            if data.is_empty() || data == "[DONE]" {
                continue;
            }
            let parsed = match ChatStreamEvent::from_sse(event.event.as_deref(), data) {
                Ok(parsed) => parsed,
                Err(err) => {
                    self.inner = None;
                    return Poll::Ready(Some(Err(LmStudioError::InvalidJson {
                        url: self.url.clone(),
                        detail: format!(
                            "{err} (in the `{}` event)",
                            event.event.as_deref().unwrap_or("message")
                        ),
                        source: Some(std::sync::Arc::new(err)),
                    })));
                }
            };
            self.summary.absorb(&parsed);
            if let ChatStreamEvent::Error(error) = &parsed {
                self.inner = None;
                let err = LmStudioError::Server {
                    status: self.status,
                    url: self.url.clone(),
                    message: error.error.message().to_owned(),
                    source: None,
                };
                return Poll::Ready(Some(Err(self.client.classify_inference(err, &self.model))));
            }
            if parsed.is_end() {
                self.finish(cx);
            }
            return Poll::Ready(Some(Ok(parsed)));
        }
    }

    /// Ends the stream after `chat.end`. A body that is already over leaves its connection
    /// in the pool; otherwise dropping it closes the connection (nothing is waited for).
    fn finish(&mut self, cx: &mut Context<'_>) {
        if let Some(mut inner) = self.inner.take() {
            inner.finish(cx);
        }
    }
}

impl futures_core::Stream for NativeChatStream {
    type Item = Result<ChatStreamEvent, LmStudioError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_event(cx)
    }
}

impl futures_core::FusedStream for NativeChatStream {
    fn is_terminated(&self) -> bool {
        self.inner.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: &str) -> ChatStreamEvent {
        serde_json::from_str(json).expect("event")
    }

    #[test]
    fn the_summary_keeps_text_load_progress_and_stats() {
        let mut summary = NativeChatSummary::default();
        for json in [
            r#"{"type":"chat.start","model_instance_id":"m"}"#,
            r#"{"type":"model_load.start","model_instance_id":"m"}"#,
            r#"{"type":"model_load.progress","model_instance_id":"m","progress":0.5}"#,
            r#"{"type":"model_load.progress","model_instance_id":"m","progress":7.0}"#,
            r#"{"type":"model_load.end","model_instance_id":"m","load_time_seconds":1.5}"#,
            r#"{"type":"prompt_processing.progress","progress":0.25}"#,
            r#"{"type":"reasoning.delta","content":"think"}"#,
            r#"{"type":"message.delta","content":"Hel"}"#,
            r#"{"type":"message.delta","content":"lo"}"#,
            r#"{"type":"chat.end","result":{"model_instance_id":"m:2","output":[],
                "stats":{"tokens_per_second":40.0,"time_to_first_token_seconds":0.25}}}"#,
        ] {
            summary.absorb(&event(json));
        }
        assert_eq!(summary.text, "Hello");
        assert_eq!(summary.reasoning, "think");
        assert_eq!(summary.events, 10);
        assert!(summary.finished);
        assert_eq!(summary.model_instance_id.as_deref(), Some("m:2"));
        assert_eq!(summary.prompt_progress, Some(0.25));
        assert_eq!(summary.tokens_per_second(), Some(40.0));
        assert_eq!(
            summary.time_to_first_token(),
            Some(Duration::from_millis(250))
        );
        let load = summary.model_load.expect("load");
        assert!(load.finished);
        assert_eq!(load.progress, 1.0);
        assert_eq!(load.load_time, Some(Duration::from_millis(1500)));
    }

    #[test]
    fn unusable_progress_values_are_ignored() {
        let mut summary = NativeChatSummary::default();
        summary.absorb(&event(r#"{"type":"model_load.progress","progress":0.4}"#));
        summary.absorb(&event(r#"{"type":"model_load.progress","progress":-1.0}"#));
        assert_eq!(summary.model_load.map(|l| l.progress), Some(0.4));
        let mut summary = NativeChatSummary::default();
        summary.absorb(&event(
            r#"{"type":"model_load.end","model_instance_id":"m","load_time_seconds":-3.0}"#,
        ));
        assert_eq!(summary.model_load.and_then(|l| l.load_time), None);
    }
}
