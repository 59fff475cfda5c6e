//! Non-streamed chat completions: deterministic text, `max_tokens`, usage, reasoning fields,
//! tool calls, the v0 extras and the validation errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use lmstudio_testkit::{CatalogModel, Emulator, ReasoningField};
use serde_json::{Value, json};
use support::{post, post_raw};

const KEY: &str = "openai/gpt-oss-20b";

async fn emulator() -> Emulator {
    Emulator::builder()
        .model(CatalogModel::gpt_oss_20b().loaded(true))
        .model(CatalogModel::nomic_embed().loaded(true))
        .start()
        .await
        .unwrap()
}

async fn chat(emulator: &Emulator, body: Value) -> support::Response {
    post(&emulator.url(), "/v1/chat/completions", &body).await
}

fn user(text: &str) -> Value {
    json!([{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}])
}

#[tokio::test]
async fn answers_are_deterministic_and_echo_the_last_user_message() {
    let emulator = emulator().await;
    let body = json!({"model": KEY, "messages": user("What is Rust?")});
    let first = chat(&emulator, body.clone()).await.json();
    let second = chat(&emulator, body).await.json();
    let text = first["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(text.contains("What is Rust?"), "{text}");
    assert_eq!(text, second["choices"][0]["message"]["content"]);
    assert_ne!(first["id"], second["id"], "ids are unique per answer");
    assert_eq!(first["choices"][0]["finish_reason"], "stop");
    assert_eq!(first["object"], "chat.completion");
    let usage = &first["usage"];
    let words = text.split_whitespace().count() as u64;
    assert_eq!(usage["completion_tokens"], words);
    assert_eq!(
        usage["prompt_tokens"], 5,
        "Be brief. + What is Rust? = 5 words"
    );
    assert_eq!(usage["total_tokens"], 5 + words);
    assert!(usage.get("completion_tokens_details").is_none());
}

#[tokio::test]
async fn max_tokens_truncates_with_finish_reason_length() {
    let emulator = emulator().await;
    let body = chat(
        &emulator,
        json!({"model": KEY, "messages": user("hello"), "max_tokens": 3}),
    )
    .await
    .json();
    let text = body["choices"][0]["message"]["content"].as_str().unwrap();
    assert_eq!(text.split_whitespace().count(), 3);
    assert_eq!(body["choices"][0]["finish_reason"], "length");
    assert_eq!(body["usage"]["completion_tokens"], 3);
    let unlimited = chat(
        &emulator,
        json!({"model": KEY, "messages": user("hello"), "max_tokens": -1}),
    )
    .await
    .json();
    assert_eq!(unlimited["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn reasoning_goes_in_the_configured_field() {
    let emulator = emulator().await;
    for (field, key) in [
        (ReasoningField::Reasoning, "reasoning"),
        (ReasoningField::ReasoningContent, "reasoning_content"),
    ] {
        emulator.set_reasoning(field);
        let body = chat(&emulator, json!({"model": KEY, "messages": user("hi")}))
            .await
            .json();
        let message = &body["choices"][0]["message"];
        assert!(message[key].as_str().unwrap().contains("hi"), "{message}");
        assert_eq!(
            message.as_object().unwrap().len(),
            4,
            "role, content, tool_calls, {key}"
        );
        assert!(
            body["usage"]["completion_tokens_details"]["reasoning_tokens"]
                .as_u64()
                .unwrap()
                > 0
        );
    }
    let starved = chat(
        &emulator,
        json!({"model": KEY, "messages": user("hi"), "max_tokens": 2}),
    )
    .await
    .json();
    assert_eq!(
        starved["choices"][0]["message"]["content"], "",
        "reasoning spent the budget"
    );
    assert_eq!(starved["choices"][0]["finish_reason"], "length");
}

#[tokio::test]
async fn a_tool_is_called_when_the_user_names_it() {
    let emulator = emulator().await;
    let tools = json!([
        {"type": "function", "function": {"name": "read_file", "parameters": {"type": "object",
            "properties": {"path": {"type": "string"}, "mode": {"type": "string", "enum": ["text", "bytes"]}}}}},
        {"type": "function", "function": {"name": "list_dir", "parameters": {"type": "object", "properties": {}}}}
    ]);
    let body = chat(
        &emulator,
        json!({"model": KEY, "messages": user("please read_file src/main.rs"), "tools": tools}),
    )
    .await
    .json();
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    let call = &choice["message"]["tool_calls"][0];
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "read_file");
    let args: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(
        args,
        json!({"mode": "text", "path": "please read_file src/main.rs"})
    );
    let plain = chat(
        &emulator,
        json!({"model": KEY, "messages": user("just chat"), "tools": tools}),
    )
    .await
    .json();
    assert_eq!(plain["choices"][0]["finish_reason"], "stop");
    assert_eq!(plain["choices"][0]["message"]["tool_calls"], json!([]));
    let forced = chat(&emulator, json!({"model": KEY, "messages": user("just chat"), "tools": tools, "tool_choice": "required"})).await.json();
    assert_eq!(
        forced["choices"][0]["message"]["tool_calls"][0]["function"]["name"],
        "read_file"
    );
    let after = json!([{"role": "user", "content": "read_file x"},
        {"role": "assistant", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": "fn main() {}"}]);
    let answer = chat(
        &emulator,
        json!({"model": KEY, "messages": after, "tools": tools}),
    )
    .await
    .json();
    assert_eq!(
        answer["choices"][0]["message"]["content"],
        "The tool returned: fn main() {}"
    );
}

#[tokio::test]
async fn validation_errors_use_the_string_form() {
    let emulator = emulator().await;
    let missing = chat(&emulator, json!({"model": KEY})).await;
    assert_eq!(
        (missing.status, missing.json()),
        (400, json!({"error": "'messages' field is required"}))
    );
    let format = chat(
        &emulator,
        json!({"model": KEY, "messages": user("x"), "response_format": {"type": "json_object"}}),
    )
    .await;
    assert_eq!(format.status, 400);
    for ok in ["json_schema", "text"] {
        let fine = chat(
            &emulator,
            json!({"model": KEY, "messages": user("x"), "response_format": {"type": ok}}),
        )
        .await;
        assert_eq!(fine.status, 200, "{ok}");
    }
    let garbage = post_raw(&emulator.url(), "/v1/chat/completions", "not json").await;
    assert_eq!(garbage.status, 400);
    assert!(garbage.json()["error"].is_string());
}

#[tokio::test]
async fn a_prompt_longer_than_the_context_is_rejected() {
    let emulator = emulator().await;
    let long = "word ".repeat(5000);
    let response = chat(&emulator, json!({"model": KEY, "messages": user(&long)})).await;
    assert_eq!(response.status, 400);
    let message = response.json()["error"].as_str().unwrap().to_owned();
    assert!(
        message.contains("greater than the context length") && message.contains("n_ctx: 4096"),
        "{message}"
    );
}

#[tokio::test]
async fn an_embedding_model_cannot_chat() {
    let emulator = emulator().await;
    let response = chat(
        &emulator,
        json!({"model": "text-embedding-nomic-embed-text-v1.5", "messages": user("x")}),
    )
    .await;
    assert_eq!(response.status, 400);
    assert!(
        response.json()["error"]
            .as_str()
            .unwrap()
            .contains("embedding")
    );
}
