//! Streamed chat completions: the chunk sequence, usage chunk, tool-call deltas, one frame per
//! chunk, and the injected faults.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use lmstudio_testkit::{CatalogModel, Emulator, EmulatorBuilder, ReasoningField, StreamFault};
use serde_json::{Value, json};
use support::post;

const KEY: &str = "openai/gpt-oss-20b";

fn builder() -> EmulatorBuilder {
    Emulator::builder().model(CatalogModel::gpt_oss_20b().loaded(true))
}

fn request(extra: Value) -> Value {
    let mut body = json!({"model": KEY, "stream": true, "messages": [{"role": "user", "content": "Tell me a story"}]});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

fn deltas(chunks: &[Value]) -> Vec<Value> {
    chunks
        .iter()
        .filter(|c| !c["choices"].as_array().unwrap().is_empty())
        .map(|c| c["choices"][0]["delta"].clone())
        .collect()
}

#[tokio::test]
async fn a_stream_sends_role_content_finish_and_done() {
    let emulator = builder().start().await.unwrap();
    let response = post(&emulator.url(), "/v1/chat/completions", &request(json!({}))).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("text/event-stream"));
    let data = response.sse_data();
    assert_eq!(data.last().unwrap(), "[DONE]");
    let chunks = response.sse_json();
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk" && c["id"] == chunks[0]["id"])
    );
    let deltas = deltas(&chunks);
    assert_eq!(deltas[0]["role"], "assistant");
    assert!(deltas[1..].iter().all(|d| d.get("role").is_none()));
    let text: String = deltas
        .iter()
        .filter_map(|d| d["content"].as_str())
        .collect();
    let full = post(
        &emulator.url(),
        "/v1/chat/completions",
        &request(json!({"stream": false})),
    )
    .await
    .json();
    assert_eq!(
        text,
        full["choices"][0]["message"]["content"].as_str().unwrap()
    );
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert_eq!(last["choices"][0]["delta"], json!({}));
    assert!(
        chunks.iter().all(|c| c.get("usage").is_none()),
        "no usage without include_usage"
    );
    assert!(
        response.chunks >= data.len(),
        "each event is flushed as its own frame"
    );
}

#[tokio::test]
async fn include_usage_adds_a_final_chunk_without_choices() {
    let emulator = builder()
        .reasoning(ReasoningField::Reasoning)
        .start()
        .await
        .unwrap();
    let body = request(json!({"stream_options": {"include_usage": true}, "max_tokens": 12}));
    let response = post(&emulator.url(), "/v1/chat/completions", &body).await;
    let chunks = response.sse_json();
    let usage_chunk = chunks.last().unwrap();
    assert_eq!(usage_chunk["choices"], json!([]));
    let usage = &usage_chunk["usage"];
    assert_eq!(usage["completion_tokens"], 12);
    assert!(
        usage["completion_tokens_details"]["reasoning_tokens"]
            .as_u64()
            .unwrap()
            > 0
    );
    let finish = &chunks[chunks.len() - 2];
    assert_eq!(finish["choices"][0]["finish_reason"], "length");
    let deltas = deltas(&chunks);
    assert!(
        deltas[0]["reasoning"].is_string(),
        "reasoning deltas come first"
    );
}

#[tokio::test]
async fn tool_calls_stream_as_indexed_argument_fragments() {
    let emulator = builder().start().await.unwrap();
    let tools = json!([{"type": "function", "function": {"name": "get_current_weather",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}, "days": {"type": "integer"}}}}}]);
    let body = request(
        json!({"tools": tools, "messages": [{"role": "user", "content": "get_current_weather in Paris"}]}),
    );
    let chunks = post(&emulator.url(), "/v1/chat/completions", &body)
        .await
        .sse_json();
    let calls: Vec<Value> = deltas(&chunks)
        .iter()
        .filter_map(|d| d.get("tool_calls").cloned())
        .map(|c| c[0].clone())
        .collect();
    assert!(calls.len() > 2);
    let first = &calls[0];
    assert_eq!(first["index"], 0);
    assert_eq!(first["type"], "function");
    assert_eq!(first["function"]["name"], "get_current_weather");
    assert_eq!(first["function"]["arguments"], "");
    assert!(
        first["id"]
            .as_str()
            .unwrap()
            .chars()
            .all(|c| c.is_ascii_digit())
    );
    assert!(
        calls[1..].iter().all(|c| c["index"] == 0
            && c.get("id").is_none()
            && c["function"].get("name").is_none())
    );
    let arguments: String = calls
        .iter()
        .map(|c| c["function"]["arguments"].as_str().unwrap())
        .collect();
    let parsed: Value = serde_json::from_str(&arguments).unwrap();
    assert_eq!(parsed["days"], 1);
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "tool_calls"
    );
}

#[tokio::test]
async fn an_injected_error_arrives_inside_the_200_stream() {
    let emulator = builder()
        .inject_stream_error_after(2)
        .start()
        .await
        .unwrap();
    let response = post(&emulator.url(), "/v1/chat/completions", &request(json!({}))).await;
    assert_eq!(response.status, 200);
    let data = response.sse_data();
    assert_eq!(data.len(), 3);
    let error: Value = serde_json::from_str(&data[2]).unwrap();
    assert!(error["error"]["message"].is_string());
    assert!(!data.iter().any(|d| d == "[DONE]"));
    assert!(response.terminated, "the body itself ends cleanly");
}

#[tokio::test]
async fn a_dropped_stream_ends_without_done() {
    let emulator = builder().drop_stream_after(3).start().await.unwrap();
    let response = post(&emulator.url(), "/v1/chat/completions", &request(json!({}))).await;
    let data = response.sse_data();
    assert_eq!(data.len(), 3);
    assert!(data.iter().all(|d| d != "[DONE]"));
    assert!(response.terminated);
}

#[tokio::test]
async fn an_aborted_stream_truncates_the_body() {
    let emulator = builder().start().await.unwrap();
    emulator.set_stream_fault(Some(StreamFault::AbortAfter(1)));
    let response = post(&emulator.url(), "/v1/chat/completions", &request(json!({}))).await;
    assert_eq!(response.status, 200);
    assert!(!response.terminated, "the chunked body never ends properly");
    assert_eq!(response.sse_data().len(), 1);
    emulator.set_stream_fault(None);
    let healthy = post(&emulator.url(), "/v1/chat/completions", &request(json!({}))).await;
    assert_eq!(healthy.sse_data().last().unwrap(), "[DONE]");
}
