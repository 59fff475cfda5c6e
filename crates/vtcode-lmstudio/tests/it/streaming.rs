//! Streaming chat through the facade, fed with real captures: LM Studio's tool-call stream with
//! reasoning, and llama.cpp's stream with a final usage chunk.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use futures_util::StreamExt;
use support::{config_for, unexpected_endpoint};
use vtcode_lmstudio::LMStudioClient;
use vtcode_lmstudio::proto::openai::{ChatCompletionRequest, ChatMessage, FinishReason};

const LMSTUDIO_TOOL_STREAM: &str = include_str!("../data/reference_sse_tool_call_stream.txt");
const LLAMA_USAGE_STREAM: &str = include_str!("../data/chat_stream_usage.body");

async fn server_streaming(body: &'static str) -> mockito::Server {
    let mut server = support::server().await;
    server
        .mock("POST", "/v1/chat/completions")
        .match_body(mockito::Matcher::Regex(r#""stream":true"#.to_owned()))
        .with_header("content-type", "text/event-stream")
        .with_body(body)
        .create_async()
        .await;
    server
        .mock("GET", "/api/v1/models")
        .with_body(unexpected_endpoint("GET", "/api/v1/models"))
        .create_async()
        .await;
    server
}

fn request() -> ChatCompletionRequest {
    ChatCompletionRequest::new("m", vec![ChatMessage::user("weather in Paris?")])
}

#[tokio::test]
async fn lmstudio_tool_call_stream_assembles_reasoning_tool_call_and_usage() {
    let server = server_streaming(LMSTUDIO_TOOL_STREAM).await;
    let client = LMStudioClient::new(&config_for(&server.url())).unwrap();
    let summary = client
        .chat_stream(request())
        .await
        .unwrap()
        .into_summary()
        .await
        .unwrap();
    assert_eq!(summary.reasoning, "Let me check.");
    assert_eq!(summary.tool_calls.len(), 1);
    let call = &summary.tool_calls[0];
    assert_eq!(call.function.name, "get_current_weather");
    let arguments: serde_json::Value = serde_json::from_str(&call.function.arguments).unwrap();
    assert_eq!(arguments["location"], "Paris");
    assert_eq!(summary.finish_reason, Some(FinishReason::ToolCalls));
    let usage = summary.usage.expect("usage chunk");
    assert_eq!(usage.completion_tokens, 30);
    assert_eq!(usage.reasoning_tokens(), Some(3));
    assert_eq!(summary.model.as_deref(), Some("qwen2.5-7b-instruct"));
}

#[tokio::test]
async fn llama_cpp_stream_yields_every_chunk_then_usage() {
    let server = server_streaming(LLAMA_USAGE_STREAM).await;
    let client = LMStudioClient::new(&config_for(&server.url())).unwrap();
    let mut stream = client.chat_stream(request()).await.unwrap();
    let mut content = String::new();
    let mut chunks = 0;
    let mut usage_chunks = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        chunks += 1;
        if chunk.choices.is_empty() {
            usage_chunks += 1;
            assert!(
                chunk.usage.is_some(),
                "an empty-choices chunk carries usage"
            );
        }
        for choice in &chunk.choices {
            content.push_str(&choice.delta.text().unwrap_or_default());
        }
    }
    // Every `data:` line except `[DONE]` is a chunk.
    assert_eq!(chunks, LLAMA_USAGE_STREAM.matches("data: {").count());
    assert_eq!(usage_chunks, 1);
    let summary = stream.summary();
    assert_eq!(summary.content, content);
    assert!(content.starts_with("Say hello"), "{content}");
    assert_eq!(summary.usage.unwrap().completion_tokens, 8);
    assert_eq!(summary.finish_reason, Some(FinishReason::Length));
}

#[tokio::test]
async fn a_chat_stream_works_with_stream_ext_combinators() {
    use futures_core::FusedStream;

    let server = server_streaming(LLAMA_USAGE_STREAM).await;
    let client = LMStudioClient::new(&config_for(&server.url())).unwrap();
    let mut stream = client.chat_stream(request()).await.unwrap();
    let first: Vec<_> = (&mut stream).take(2).collect().await;
    assert_eq!(first.len(), 2);
    assert!(
        !stream.summary().complete,
        "two chunks in, not complete yet"
    );
    let rest: Vec<_> = (&mut stream).collect().await;
    assert!(rest.iter().all(Result::is_ok), "{rest:?}");
    assert!(stream.is_terminated());
    let summary = stream.summary();
    assert!(summary.complete, "[DONE] arrived");
    assert_eq!(summary.chunks, first.len() + rest.len());
    assert!(summary.usage.is_some());
    assert!(stream.next().await.is_none(), "fused: None after the end");
}

#[tokio::test]
async fn a_stream_cut_short_is_not_complete() {
    let cut = &LLAMA_USAGE_STREAM[..LLAMA_USAGE_STREAM.find("[DONE]").unwrap()];
    let body: &'static str = Box::leak(cut.trim_end_matches("data: ").to_owned().into_boxed_str());
    let server = server_streaming(body).await;
    let client = LMStudioClient::new(&config_for(&server.url())).unwrap();
    let mut stream = client.chat_stream(request()).await.unwrap();
    let items: Vec<_> = (&mut stream).collect().await;
    let last = items.last().unwrap().as_ref().unwrap_err();
    assert!(
        matches!(
            last,
            vtcode_lmstudio::LmStudioError::StreamEndedEarly { .. }
        ),
        "{last:?}"
    );
    assert!(!stream.summary().complete);
}
