//! `/v1/completions` and `/v1/embeddings`: requests, and llama.cpp's real responses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::round_trip;
use lmstudio_proto::openai::{
    CompletionRequest, CompletionResponse, EmbeddingInput, EmbeddingRequest, EmbeddingResponse,
    FinishReason, ObjectKind, Prompt, StopSequences,
};
use serde_json::json;

#[test]
fn completion_requests() {
    let request = CompletionRequest::new("m", "The capital of France is");
    assert_eq!(
        serde_json::to_string(&request).unwrap(),
        r#"{"model":"m","prompt":"The capital of France is"}"#
    );
    let request: CompletionRequest = round_trip(
        "completion request",
        &json!({"model":"m","prompt":["a","b"],"max_tokens":-1,"stop":"\n","stream":true,
            "temperature":0.0,"seed":1,"ttl":60,"n_predict":8})
        .to_string(),
    );
    assert_eq!(request.prompt, Prompt::Batch(vec!["a".into(), "b".into()]));
    assert_eq!(request.max_tokens, Some(-1));
    assert_eq!(request.stop, Some(StopSequences::from("\n")));
    assert_eq!(request.extra["n_predict"], 8);
}

#[test]
fn llama_server_completions() {
    for (name, body, finish) in [
        (
            "completions",
            include_str!("../data/llama-server/completions.body"),
            FinishReason::Length,
        ),
        (
            "completions_stop",
            include_str!("../data/llama-server/completions_stop.body"),
            FinishReason::Stop,
        ),
        (
            "xllamacpp/completions",
            include_str!("../data/llama-server/xllamacpp/completions.body"),
            FinishReason::Length,
        ),
        (
            "xllamacpp/completions_stop",
            include_str!("../data/llama-server/xllamacpp/completions_stop.body"),
            FinishReason::Stop,
        ),
    ] {
        let response: CompletionResponse = round_trip(name, body);
        assert_eq!(response.object, Some(ObjectKind::TextCompletion), "{name}");
        assert!(
            response.text().unwrap().starts_with(" the capital of"),
            "{name}"
        );
        assert_eq!(response.choices[0].finish_reason, Some(finish), "{name}");
        assert!(response.extra.contains_key("timings"), "{name}");
    }
}

#[test]
fn embedding_requests() {
    assert_eq!(
        serde_json::to_string(&EmbeddingRequest::new("e", "hello")).unwrap(),
        r#"{"model":"e","input":"hello"}"#
    );
    assert_eq!(
        serde_json::to_string(&EmbeddingRequest::new("e", vec!["a", "b"])).unwrap(),
        r#"{"model":"e","input":["a","b"]}"#
    );
    let request: EmbeddingRequest = round_trip(
        "tokens",
        r#"{"model":"e","input":[[1,2],[3]],"encoding_format":"float","ttl":5}"#,
    );
    assert_eq!(
        request.input,
        EmbeddingInput::TokenBatches(vec![vec![1, 2], vec![3]])
    );
    assert_eq!(request.extra["ttl"], 5);
}

#[test]
fn llama_server_embeddings() {
    for (name, body, inputs) in [
        (
            "embeddings",
            include_str!("../data/llama-server/embeddings.body"),
            1,
        ),
        (
            "embeddings_batch",
            include_str!("../data/llama-server/embeddings_batch.body"),
            2,
        ),
        (
            "router_embeddings",
            include_str!("../data/llama-server/router_embeddings.body"),
            1,
        ),
        (
            "xllamacpp/embeddings",
            include_str!("../data/llama-server/xllamacpp/embeddings.body"),
            1,
        ),
        (
            "xllamacpp/embeddings_batch",
            include_str!("../data/llama-server/xllamacpp/embeddings_batch.body"),
            2,
        ),
    ] {
        let response: EmbeddingResponse = round_trip(name, body);
        assert_eq!(response.object, Some(ObjectKind::List), "{name}");
        let vectors = response.vectors();
        assert_eq!(vectors.len(), inputs, "{name}");
        // Gemma 3 270M: n_embd 640.
        assert!(vectors.iter().all(|v| v.len() == 640), "{name}");
        assert!(response.usage.as_ref().unwrap().prompt_tokens > 0, "{name}");
    }
}
