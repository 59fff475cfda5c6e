//! The emulator's OpenAI-compatible bodies, stream chunks and error bodies match the fixtures
//! captured from real LM Studio servers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use lmstudio_proto::error::{ErrorEnvelope, ErrorField};
use lmstudio_testkit::{CatalogModel, Emulator, ReasoningField};
use serde_json::json;
use support::{check_fields, fixture, fixture_json, fixture_sse, get, post, request};

async fn emulator(reasoning: ReasoningField) -> Emulator {
    Emulator::builder()
        .model(CatalogModel::llm("qwen/qwen3.5-9b").loaded(true))
        .model(CatalogModel::nomic_embed())
        .reasoning(reasoning)
        .auth_token(Some("sk-lm-test:secret".to_owned()))
        .start()
        .await
        .unwrap()
}

fn auth() -> (&'static str, &'static str) {
    ("Authorization", "Bearer sk-lm-test:secret")
}

async fn chat(emulator: &Emulator, body: serde_json::Value) -> support::Response {
    request(
        &emulator.url(),
        "POST",
        "/v1/chat/completions",
        Some(&body.to_string()),
        &[auth()],
    )
    .await
}

#[tokio::test]
async fn v1_models_matches_the_capture_exactly() {
    let emulator = emulator(ReasoningField::None).await;
    let response = request(&emulator.url(), "GET", "/v1/models", None, &[auth()]).await;
    let body = response.json();
    check_fields(&fixture_json("thirdparty_v1_models.json"), &body, true, "$");
    let ids: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["qwen/qwen3.5-9b", "text-embedding-nomic-embed-text-v1.5"]
    );
}

#[tokio::test]
async fn a_reasoning_content_answer_matches_the_capture_exactly() {
    let emulator = emulator(ReasoningField::ReasoningContent).await;
    let response = chat(
        &emulator,
        json!({"model": "qwen/qwen3.5-9b", "messages": [{"role": "user", "content": "Hello"}]}),
    )
    .await;
    assert_eq!(response.status, 200);
    let body = response.json();
    check_fields(
        &fixture_json("thirdparty_chat_completion_reasoning_content.json"),
        &body,
        true,
        "$",
    );
    assert_eq!(body["system_fingerprint"], body["model"]);
    assert!(body["id"].as_str().unwrap().starts_with("chatcmpl-"));
}

#[tokio::test]
async fn a_tool_call_answer_has_the_documented_fields() {
    let emulator = emulator(ReasoningField::None).await;
    let tools = json!([{"type": "function", "function": {"name": "search_products", "parameters": {
        "type": "object", "properties": {"query": {"type": "string"}, "max_price": {"type": "number"}}}}}]);
    let response = chat(
        &emulator,
        json!({"model": "qwen/qwen3.5-9b", "messages": [{"role": "user", "content": "search_products for dell"}], "tools": tools}),
    )
    .await;
    let body = response.json();
    check_fields(
        &fixture_json("docs_v1_chat_completions_tool_call_response.json"),
        &body,
        false,
        "$",
    );
    let call = &body["choices"][0]["message"]["tool_calls"][0];
    assert!(
        call["id"]
            .as_str()
            .unwrap()
            .chars()
            .all(|c| c.is_ascii_digit())
    );
    let args: serde_json::Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args["max_price"], 1);
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls");
}

#[tokio::test]
async fn stream_chunks_match_the_captures() {
    let emulator = emulator(ReasoningField::Reasoning).await;
    let response = chat(
        &emulator,
        json!({"model": "qwen/qwen3.5-9b", "messages": [{"role": "user", "content": "Hi"}], "stream": true,
               "stream_options": {"include_usage": true}}),
    )
    .await;
    let chunks = response.sse_json();
    let basic = fixture_sse("thirdparty_sse_chat_basic_0.3.x.txt");
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert!(chunks[0]["choices"][0]["delta"]["reasoning"].is_string());
    let content = chunks
        .iter()
        .find(|c| c["choices"][0]["delta"]["content"].is_string())
        .unwrap();
    let mut first = basic[0].clone();
    first["choices"][0]["delta"] = json!({"content": "\n"});
    check_fields(&first, content, true, "$content");
    let finish = chunks
        .iter()
        .find(|c| {
            !c["choices"][0]["finish_reason"].is_null()
                && c["choices"].as_array().is_some_and(|a| !a.is_empty())
        })
        .unwrap();
    check_fields(&basic[1], finish, true, "$finish");
    let usage = fixture_sse("thirdparty_sse_usage_chunk.txt");
    check_fields(&usage[0], chunks.last().unwrap(), true, "$usage");
    assert!(fixture("thirdparty_sse_usage_chunk.txt").contains("data: [DONE]"));
    assert_eq!(response.sse_data().last().unwrap(), "[DONE]");
}

#[tokio::test]
async fn error_bodies_match_the_captures() {
    let emulator = emulator(ReasoningField::None).await;
    let missing = chat(&emulator, json!({"model": "qwen/qwen3.5-9b"})).await;
    assert_eq!(missing.status, 400);
    assert_eq!(
        missing.json(),
        fixture_json("thirdparty_error_missing_messages_400.json")
    );
    let json_object = chat(
        &emulator,
        json!({"model": "qwen/qwen3.5-9b", "messages": [], "response_format": {"type": "json_object"}}),
    )
    .await;
    assert_eq!(json_object.status, 400);
    assert_eq!(
        json_object.json(),
        fixture_json("thirdparty_error_json_object_400.json")
    );
    let unauthorized = get(&emulator.url(), "/v1/models").await;
    assert_eq!(unauthorized.status, 401);
    assert_eq!(
        unauthorized.json(),
        fixture_json("thirdparty_error_auth_required.json")
    );
    let envelope = ErrorEnvelope::from_slice(unauthorized.body.as_bytes()).unwrap();
    assert!(matches!(envelope.error, ErrorField::Object(_)));
    assert_eq!(envelope.error.kind(), Some("invalid_request"));
}

#[tokio::test]
async fn the_model_not_found_error_matches_the_0_3_5_capture() {
    let emulator = Emulator::builder()
        .model(CatalogModel::llm("a/one").loaded(true))
        .model(CatalogModel::llm("b/two").loaded(true))
        .start()
        .await
        .unwrap();
    let response = post(
        &emulator.url(),
        "/v1/chat/completions",
        &json!({"model": "local model", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(response.status, 404);
    let body = response.json();
    let expected = fixture_json("thirdparty_error_model_not_found_404_v0_3_5.json");
    check_fields(&expected, &body, true, "$");
    assert_eq!(body["error"]["code"], "model_not_found");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with(
        "Model \"local model\" not found. Please specify a valid model.\n\nYour models:\n\n"
    ));
    assert!(message.contains("a/one\nb/two"));
    let envelope = ErrorEnvelope::from_slice(response.body.as_bytes()).unwrap();
    assert_eq!(envelope.message(), message);
}
