//! `/v1/completions`, `/v1/embeddings` and `/v1/responses`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use lmstudio_testkit::{CatalogModel, Emulator};
use serde_json::{Value, json};
use support::post;

const KEY: &str = "openai/gpt-oss-20b";
const EMBED: &str = "text-embedding-nomic-embed-text-v1.5";

async fn emulator() -> Emulator {
    Emulator::builder()
        .model(CatalogModel::gpt_oss_20b().loaded(true))
        .model(CatalogModel::nomic_embed())
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn completions_honour_max_tokens_and_stream() {
    let emulator = emulator().await;
    let body = post(
        &emulator.url(),
        "/v1/completions",
        &json!({"model": KEY, "prompt": "Once upon a time", "max_tokens": 4}),
    )
    .await
    .json();
    assert_eq!(body["object"], "text_completion");
    assert!(body["id"].as_str().unwrap().starts_with("cmpl-"));
    assert_eq!(
        body["choices"][0]["text"]
            .as_str()
            .unwrap()
            .split_whitespace()
            .count(),
        4
    );
    assert_eq!(body["choices"][0]["finish_reason"], "length");
    assert_eq!(body["usage"]["prompt_tokens"], 4);
    let streamed = post(
        &emulator.url(),
        "/v1/completions",
        &json!({"model": KEY, "prompt": "Once upon a time", "max_tokens": 4, "stream": true}),
    )
    .await;
    let chunks = streamed.sse_json();
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["text"].as_str())
        .collect();
    assert_eq!(text, body["choices"][0]["text"].as_str().unwrap());
    assert_eq!(streamed.sse_data().last().unwrap(), "[DONE]");
    let missing = post(&emulator.url(), "/v1/completions", &json!({"model": KEY})).await;
    assert_eq!(missing.status, 400);
}

fn vector(body: &Value, index: usize) -> Vec<f64> {
    body["data"][index]["embedding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[tokio::test]
async fn embeddings_are_deterministic_unit_vectors() {
    let emulator = emulator().await;
    let one = post(
        &emulator.url(),
        "/v1/embeddings",
        &json!({"model": EMBED, "input": "hello world"}),
    )
    .await
    .json();
    assert_eq!(one["object"], "list");
    assert_eq!(one["model"], EMBED);
    assert_eq!(one["data"][0]["object"], "embedding");
    assert_eq!(one["usage"], json!({"prompt_tokens": 2, "total_tokens": 2}));
    let v = vector(&one, 0);
    assert_eq!(v.len(), 64);
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    assert!((norm - 1.0).abs() < 1e-9);
    let many = post(
        &emulator.url(),
        "/v1/embeddings",
        &json!({"model": EMBED, "input": ["hello world", "other"]}),
    )
    .await
    .json();
    assert_eq!(many["data"].as_array().unwrap().len(), 2);
    assert_eq!(many["data"][1]["index"], 1);
    assert_eq!(vector(&many, 0), v, "same text, same vector");
    assert_ne!(vector(&many, 1), v);
    let bad = post(
        &emulator.url(),
        "/v1/embeddings",
        &json!({"model": EMBED, "input": 42}),
    )
    .await;
    assert_eq!(bad.status, 400);
    assert_eq!(
        emulator.loaded_instances(EMBED),
        [EMBED],
        "the embedder was JIT-loaded"
    );
    assert_eq!(
        emulator.loaded_instances(KEY),
        [KEY],
        "without evicting the LLM"
    );
}

#[tokio::test]
async fn responses_answer_with_output_text_and_usage() {
    let emulator = emulator().await;
    let body = post(
        &emulator.url(),
        "/v1/responses",
        &json!({"model": KEY, "input": "Provide a prime number less than 50"}),
    )
    .await
    .json();
    assert!(body["id"].as_str().unwrap().starts_with("resp_"));
    assert_eq!(body["object"], "response");
    assert_eq!(body["status"], "completed");
    let message = body["output"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["type"] == "message")
        .unwrap();
    let text = message["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("prime number"));
    assert_eq!(message["content"][0]["type"], "output_text");
    assert!(body["usage"]["output_tokens"].as_u64().unwrap() > 0);
    let short = post(&emulator.url(), "/v1/responses", &json!({"model": KEY, "input": [{"role": "user", "content": "hi"}], "max_output_tokens": 2})).await.json();
    assert_eq!(short["status"], "incomplete");
    assert_eq!(short["incomplete_details"]["reason"], "max_output_tokens");
    assert_eq!(short["usage"]["output_tokens"], 2);
}

#[tokio::test]
async fn responses_call_function_tools_and_stream_named_events() {
    let emulator = emulator().await;
    let tools = json!([{"type": "function", "name": "shell", "parameters": {"type": "object", "properties": {"command": {"type": "string"}}}}]);
    let body = post(
        &emulator.url(),
        "/v1/responses",
        &json!({"model": KEY, "input": "run shell ls", "tools": tools}),
    )
    .await
    .json();
    let call = &body["output"][0];
    assert_eq!(call["type"], "function_call");
    assert_eq!(call["name"], "shell");
    assert!(serde_json::from_str::<Value>(call["arguments"].as_str().unwrap()).is_ok());
    let streamed = post(
        &emulator.url(),
        "/v1/responses",
        &json!({"model": KEY, "input": "hello", "stream": true}),
    )
    .await;
    let events = streamed.sse_events();
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_deref().unwrap()).collect();
    assert_eq!(names.first(), Some(&"response.created"));
    assert_eq!(names.last(), Some(&"response.completed"));
    assert!(names.contains(&"response.output_text.delta"));
    let deltas: String = events
        .iter()
        .filter(|(n, _)| n.as_deref() == Some("response.output_text.delta"))
        .map(|(_, d)| {
            serde_json::from_str::<Value>(d).unwrap()["delta"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let done: Value = serde_json::from_str(&events.last().unwrap().1).unwrap();
    assert_eq!(
        deltas,
        done["response"]["output"][0]["content"][0]["text"]
            .as_str()
            .unwrap()
    );
    assert_eq!(done["type"], "response.completed");
}
