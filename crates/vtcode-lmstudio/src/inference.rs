//! The OpenAI-compatible inference calls: chat (whole or streamed), completions, embeddings.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use lmstudio_proto::openai::{
    ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse, CompletionRequest,
    CompletionResponse, EmbeddingRequest, EmbeddingResponse, FinishReason, StreamOptions, ToolCall,
    ToolCallAssembler, Usage,
};
use lmstudio_transport::JsonStream;

use crate::client::LMStudioClient;
use crate::error::LmStudioError;
use crate::progress::ProgressEvent;

impl LMStudioClient {
    /// `POST /v1/chat/completions`, not streamed. An empty `model` means the default model.
    ///
    /// Bounded by `[lmstudio].request_timeout_ms` (the first request after a JIT load may
    /// also wait for the load: preload the model, or raise the limit).
    pub async fn chat(
        &self,
        mut request: ChatCompletionRequest,
    ) -> Result<ChatCompletionResponse, LmStudioError> {
        self.fill_model(&mut request.model);
        self.wait_for_load_in_progress(&request.model).await;
        request.stream = None;
        request.stream_options = None;
        self.http()
            .post_json("/v1/chat/completions", &request)
            .await
            .map_err(|e| self.map_inference(e, &request.model))
    }

    /// `POST /v1/chat/completions` with `stream: true`: typed chunks as they arrive.
    ///
    /// Usage is requested (`stream_options.include_usage`) unless the request sets
    /// `stream_options` itself. The wait for the first byte is bounded by the load timeout
    /// (a JIT load happens first); later gaps by the idle timeout. An error the server sends
    /// mid-stream is returned as an error, and a stream that ends without `[DONE]` as
    /// [`LmStudioError::StreamEndedEarly`].
    pub async fn chat_stream(
        &self,
        mut request: ChatCompletionRequest,
    ) -> Result<ChatStream, LmStudioError> {
        self.fill_model(&mut request.model);
        self.wait_for_load_in_progress(&request.model).await;
        request.stream = Some(true);
        if request.stream_options.is_none() {
            request.stream_options = Some(StreamOptions::with_usage());
        }
        let inner = self
            .http()
            .post("/v1/chat/completions")
            .json(&request)
            .response_headers_timeout(self.inner.settings.load_timeout)
            .send_json_stream::<ChatCompletionChunk>()
            .await
            .map_err(|e| self.map_inference(e, &request.model))?;
        Ok(ChatStream {
            inner,
            client: self.clone(),
            summary: ChatStreamSummary::default(),
            assembler: ToolCallAssembler::default(),
            failed: false,
            model: request.model.clone(),
        })
    }

    /// `POST /v1/completions` (legacy prompt completion; no chat template).
    pub async fn completions(
        &self,
        mut request: CompletionRequest,
    ) -> Result<CompletionResponse, LmStudioError> {
        self.fill_model(&mut request.model);
        self.wait_for_load_in_progress(&request.model).await;
        request.stream = None;
        self.http()
            .post_json("/v1/completions", &request)
            .await
            .map_err(|e| self.map_inference(e, &request.model))
    }

    /// `POST /v1/embeddings`.
    pub async fn embeddings(
        &self,
        mut request: EmbeddingRequest,
    ) -> Result<EmbeddingResponse, LmStudioError> {
        self.fill_model(&mut request.model);
        self.wait_for_load_in_progress(&request.model).await;
        self.http()
            .post_json("/v1/embeddings", &request)
            .await
            .map_err(|e| self.map_inference(e, &request.model))
    }

    /// Waits for a load of `model` that is still running (a background preload, or a load
    /// another caller started), bounded by the load timeout, so that the request does not
    /// make LM Studio load a second instance just in time. Reported as
    /// [`ProgressEvent::WaitingForLoad`]. When the wait runs out the request goes ahead.
    pub(crate) async fn wait_for_load_in_progress(&self, model: &str) {
        let pending = self.engine().loads_in_progress(model);
        if pending.is_empty() {
            return;
        }
        let limit = self.inner.settings.load_timeout;
        tracing::debug!(
            model,
            "waiting for the load in progress before sending the request"
        );
        self.inner.reporter.report(&ProgressEvent::WaitingForLoad {
            model: model.to_owned(),
        });
        let all_done = async {
            for mut load in pending {
                // Ends with an error when the marker is dropped: the load is over.
                while load.changed().await.is_ok() {}
            }
        };
        if tokio::time::timeout(limit, all_done).await.is_err() {
            tracing::warn!(
                model,
                limit_ms = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX),
                "the load in progress did not finish within the load timeout; sending anyway"
            );
        }
    }

    /// An empty (or blank) `model` becomes the default model.
    pub(crate) fn fill_model(&self, model: &mut String) {
        if model.trim().is_empty() {
            *model = self.default_model().to_owned();
        }
    }
}

/// Everything a chat stream said, assembled: what has arrived so far
/// ([`ChatStream::summary`]) or the whole answer ([`ChatStream::into_summary`]).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ChatStreamSummary {
    /// The text of the first choice, joined from its deltas (string or part content).
    pub content: String,
    /// The reasoning of the first choice (`reasoning`, `reasoning_content` or thinking parts).
    pub reasoning: String,
    /// Whole tool calls assembled from their fragments.
    pub tool_calls: Vec<ToolCall>,
    /// Token usage, when the server sent it.
    pub usage: Option<Usage>,
    /// Why generation stopped.
    pub finish_reason: Option<FinishReason>,
    /// The model (or instance) that answered.
    pub model: Option<String>,
    /// How many chunks arrived.
    pub chunks: usize,
    /// True once the stream's end marker (`data: [DONE]`) arrived.
    pub complete: bool,
}

/// A streamed chat answer: a `futures_core::Stream` of typed chunks (and `FusedStream`), so
/// `StreamExt` combinators apply. [`summary`](Self::summary) assembles what has arrived;
/// [`into_summary`](Self::into_summary) reads to the end. A body that ends without
/// `data: [DONE]` is [`LmStudioError::StreamEndedEarly`]; an error the server sends
/// mid-stream is its own error. Dropping the stream closes the connection, which makes LM
/// Studio stop generating.
pub struct ChatStream {
    inner: JsonStream<ChatCompletionChunk>,
    client: LMStudioClient,
    summary: ChatStreamSummary,
    assembler: ToolCallAssembler,
    failed: bool,
    /// The model the request named, for errors.
    model: String,
}

impl std::fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatStream")
            .field("chunks", &self.summary.chunks)
            .field("complete", &self.summary.complete)
            .finish_non_exhaustive()
    }
}

impl ChatStream {
    fn absorb(
        &mut self,
        item: Result<ChatCompletionChunk, lmstudio_transport::Error>,
    ) -> Result<ChatCompletionChunk, LmStudioError> {
        let chunk = item.map_err(|e| {
            self.failed = true;
            self.client.map_inference(e, &self.model)
        })?;
        let summary = &mut self.summary;
        summary.chunks += 1;
        if summary.model.is_none() && !chunk.model.is_empty() {
            summary.model = Some(chunk.model.clone());
        }
        if let Some(usage) = &chunk.usage {
            summary.usage = Some(usage.clone());
        }
        if let Some(reason) = chunk
            .choices
            .iter()
            .find(|c| c.index == 0)
            .and_then(|c| c.finish_reason.as_ref())
        {
            summary.finish_reason = Some(reason.clone());
        }
        // Text, reasoning and tool calls of the first choice are kept once, in the assembler.
        self.assembler.push_chunk(&chunk);
        Ok(chunk)
    }

    /// What has arrived so far, assembled.
    pub fn summary(&self) -> ChatStreamSummary {
        let mut summary = self.summary.clone();
        summary.content = self.assembler.text().to_owned();
        summary.reasoning = self.assembler.reasoning().to_owned();
        summary.tool_calls = self.assembler.calls();
        summary
    }

    /// Reads the stream to its end and returns everything it said; the first error ends it.
    pub async fn into_summary(mut self) -> Result<ChatStreamSummary, LmStudioError> {
        while let Some(item) = std::future::poll_fn(|cx| Pin::new(&mut self).poll_next(cx)).await {
            item?;
        }
        Ok(self.summary())
    }
}

impl futures_core::Stream for ChatStream {
    type Item = Result<ChatCompletionChunk, LmStudioError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(item)) => Poll::Ready(Some(this.absorb(item))),
            Poll::Ready(None) => {
                // The transport ends cleanly only at `[DONE]`; a body cut short is an error.
                this.summary.complete = !this.failed;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl futures_core::FusedStream for ChatStream {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}
