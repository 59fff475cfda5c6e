//! Streamed `/v1/chat/completions` and `/v1/completions`: SSE fixtures parse chunk by chunk.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{round_trip, sse_data};
use lmstudio_proto::openai::{
    ChatCompletionChunk, CompletionResponse, FinishReason, ObjectKind, Role, ToolCallAssembler,
};

/// Parses every chunk of a stream (each one round-tripped).
fn chunks(name: &str, body: &str) -> Vec<ChatCompletionChunk> {
    let data = sse_data(body);
    assert!(!data.is_empty(), "{name}: no events");
    data.iter()
        .enumerate()
        .map(|(i, json)| round_trip(&format!("{name}#{i}"), json))
        .collect()
}

fn content(chunks: &[ChatCompletionChunk]) -> String {
    chunks
        .iter()
        .filter_map(ChatCompletionChunk::content)
        .collect()
}

#[test]
fn lmstudio_basic_stream() {
    let chunks = chunks(
        "thirdparty_sse_chat_basic_0.3.x",
        include_str!("../data/lmstudio/thirdparty_sse_chat_basic_0.3.x.txt"),
    );
    assert_eq!(chunks.len(), 2);
    assert_eq!(chunks[0].object, Some(ObjectKind::ChatCompletionChunk));
    assert_eq!(chunks[0].choices[0].delta.role, Some(Role::Assistant));
    assert_eq!(content(&chunks), "\n");
    assert_eq!(chunks[1].finish_reason(), Some(&FinishReason::Stop));
    assert!(chunks.iter().all(|c| !c.is_usage_only()));
}

#[test]
fn lmstudio_usage_chunk() {
    let chunks = chunks(
        "thirdparty_sse_usage_chunk",
        include_str!("../data/lmstudio/thirdparty_sse_usage_chunk.txt"),
    );
    assert_eq!(chunks.len(), 1);
    let chunk = &chunks[0];
    assert!(chunk.is_usage_only());
    assert!(chunk.choices.is_empty());
    let usage = chunk.usage.as_ref().unwrap();
    assert_eq!(usage.total_tokens, 133);
    assert_eq!(usage.reasoning_tokens(), Some(102));
    // `choices: []` is written back, as OpenAI clients expect it.
    assert!(
        serde_json::to_string(chunk)
            .unwrap()
            .contains(r#""choices":[]"#)
    );
}

#[test]
fn tool_call_and_reasoning_stream() {
    let chunks = chunks(
        "reference_sse_tool_call_stream",
        include_str!("../data/lmstudio/reference_sse_tool_call_stream.txt"),
    );
    let reasoning: String = chunks
        .iter()
        .filter_map(|c| c.choices.first()?.delta.reasoning_text())
        .collect();
    assert_eq!(reasoning, "Let me check.");
    let mut assembler = ToolCallAssembler::new();
    chunks.iter().for_each(|c| assembler.push_chunk(c));
    let calls = assembler.into_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].id, "814890118");
    assert_eq!(calls[0].function.name, "get_current_weather");
    assert_eq!(calls[0].arguments_json().unwrap()["location"], "Paris");
    let finish = chunks.iter().find_map(ChatCompletionChunk::finish_reason);
    assert_eq!(finish, Some(&FinishReason::ToolCalls));
    assert!(chunks.last().unwrap().is_usage_only());
}

#[test]
fn llama_server_streams() {
    for (name, body, with_usage) in [
        (
            "chat_stream",
            include_str!("../data/llama-server/chat_stream.body"),
            false,
        ),
        (
            "chat_stream_usage",
            include_str!("../data/llama-server/chat_stream_usage.body"),
            true,
        ),
        (
            "router_stream",
            include_str!("../data/llama-server/router_stream.body"),
            true,
        ),
        (
            "xllamacpp/chat_stream",
            include_str!("../data/llama-server/xllamacpp/chat_stream.body"),
            false,
        ),
        (
            "xllamacpp/chat_stream_usage",
            include_str!("../data/llama-server/xllamacpp/chat_stream_usage.body"),
            true,
        ),
    ] {
        let chunks = chunks(name, body);
        // The first delta is `{"role":"assistant","content":null}`.
        assert_eq!(
            chunks[0].choices[0].delta.role,
            Some(Role::Assistant),
            "{name}"
        );
        assert_eq!(chunks[0].choices[0].delta.content, None, "{name}");
        assert!(content(&chunks).starts_with("Say hello"), "{name}");
        let finish = chunks.iter().find_map(ChatCompletionChunk::finish_reason);
        assert_eq!(finish, Some(&FinishReason::Length), "{name}");
        let last = chunks.last().unwrap();
        assert_eq!(last.is_usage_only(), with_usage, "{name}");
        if with_usage {
            let usage = last.usage.as_ref().unwrap();
            assert_eq!(
                usage.prompt_tokens + usage.completion_tokens,
                usage.total_tokens
            );
        }
        // llama.cpp's `timings` ride on the last chunk; they are kept.
        assert!(last.extra.contains_key("timings"), "{name}: timings kept");
    }
}

#[test]
fn llama_server_completion_streams() {
    for name_body in [
        (
            "completions_stream",
            include_str!("../data/llama-server/completions_stream.body"),
        ),
        (
            "xllamacpp/completions_stream",
            include_str!("../data/llama-server/xllamacpp/completions_stream.body"),
        ),
    ] {
        let (name, body) = name_body;
        let chunks: Vec<CompletionResponse> = sse_data(body)
            .iter()
            .enumerate()
            .map(|(i, json)| round_trip(&format!("{name}#{i}"), json))
            .collect();
        let text: String = chunks.iter().filter_map(CompletionResponse::text).collect();
        assert!(text.starts_with(" the capital of"), "{name}: {text}");
        let last = chunks.last().unwrap();
        assert_eq!(
            last.choices[0].finish_reason,
            Some(FinishReason::Length),
            "{name}"
        );
        assert!(last.usage.is_some(), "{name}");
        assert_eq!(last.object, Some(ObjectKind::TextCompletion), "{name}");
    }
}

#[test]
fn an_error_event_is_not_an_empty_chunk() {
    assert!(
        serde_json::from_str::<ChatCompletionChunk>(r#"{"error":{"message":"boom"}}"#).is_err()
    );
    assert!(serde_json::from_str::<ChatCompletionChunk>(r#"{"error":"boom"}"#).is_err());
}

#[test]
fn crlf_and_unspaced_data_lines() {
    let body = "data:{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\r\n\r\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"b\"},\"finish_reason\":\"stop\"}]}\r\n\r\ndata: [DONE]\r\n\r\n";
    let chunks = chunks("crlf", body);
    assert_eq!(content(&chunks), "ab");
}
