//! `/v1/completions` and `/v1/embeddings` (`/v1/responses`: `responses.rs`).
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
