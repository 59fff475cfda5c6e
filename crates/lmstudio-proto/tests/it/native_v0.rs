//! `/api/v0/*` fixtures from LM Studio's docs parse and round-trip.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::round_trip;
use lmstudio_proto::native::v0::{Model, ModelState, ModelType, ModelsResponse};
use lmstudio_proto::openai::{
    ChatCompletionResponse, CompletionResponse, EmbeddingResponse, FinishReason, ObjectKind,
};

#[test]
fn model_list() {
    let list: ModelsResponse =
        round_trip("docs_v0_0", include_str!("../data/lmstudio/docs_v0_0.json"));
    assert_eq!(list.object, Some(ObjectKind::List));
    let ids: Vec<&str> = list.data.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "qwen2-vl-7b-instruct",
            "meta-llama-3.1-8b-instruct",
            "text-embedding-nomic-embed-text-v1.5"
        ]
    );
    assert_eq!(list.data[0].model_type, Some(ModelType::Vlm));
    assert_eq!(list.data[2].model_type, Some(ModelType::Embeddings));
    assert!(list.data.iter().all(|m| !m.is_loaded()));
    assert_eq!(list.data[1].max_context_length, Some(131_072));
    assert_eq!(list.data[0].compatibility_type.as_deref(), Some("mlx"));
}

#[test]
fn single_model() {
    let model: Model = round_trip("docs_v0_1", include_str!("../data/lmstudio/docs_v0_1.json"));
    assert_eq!(model.id, "qwen2-vl-7b-instruct");
    assert_eq!(model.state, Some(ModelState::NotLoaded));
    assert_eq!(model.quantization.as_deref(), Some("4bit"));
}

#[test]
fn loaded_model_with_capabilities() {
    let model: Model = round_trip(
        "loaded",
        r#"{"id":"qwen3-8b","object":"model","type":"llm","state":"loaded",
            "max_context_length":40960,"loaded_context_length":8192,"capabilities":["tool_use"]}"#,
    );
    assert!(model.is_loaded());
    assert_eq!(model.loaded_context_length, Some(8192));
    assert!(model.has_capability("tool_use"));
    assert!(!model.has_capability("vision"));
}

#[test]
fn chat_completion_with_stats_model_info_runtime() {
    let response: ChatCompletionResponse =
        round_trip("docs_v0_2", include_str!("../data/lmstudio/docs_v0_2.json"));
    assert!(
        response
            .text()
            .unwrap()
            .starts_with("Greetings, I'm a helpful AI")
    );
    assert_eq!(response.finish_reason(), Some(&FinishReason::Stop));
    let stats = response.stats.as_ref().unwrap();
    assert_eq!(stats.stop_reason.as_deref(), Some("eosFound"));
    assert_eq!(stats.time_to_first_token, Some(0.111));
    assert!(response.extra.contains_key("model_info"));
    assert!(response.extra.contains_key("runtime"));
    assert_eq!(response.usage.as_ref().unwrap().total_tokens, 77);
}

#[test]
fn text_completion() {
    let response: CompletionResponse =
        round_trip("docs_v0_3", include_str!("../data/lmstudio/docs_v0_3.json"));
    assert_eq!(response.object, Some(ObjectKind::TextCompletion));
    assert_eq!(
        response.text(),
        Some(" to find your purpose, and once you have")
    );
    assert_eq!(
        response.choices[0].finish_reason,
        Some(FinishReason::Length)
    );
    assert_eq!(
        response.stats.as_ref().unwrap().stop_reason.as_deref(),
        Some("maxPredictedTokensReached")
    );
}

#[test]
fn embeddings() {
    // The docs elide the vector, so their example is not JSON...
    let truncated =
        include_str!("../data/lmstudio/docs_v0_embeddings_TRUNCATED_not_valid_json.txt");
    assert!(serde_json::from_str::<EmbeddingResponse>(truncated).is_err());
    // ...the same example with the elision removed.
    let response: EmbeddingResponse = round_trip(
        "reference_v0_embeddings_short_vector",
        include_str!("../data/lmstudio/reference_v0_embeddings_short_vector.json"),
    );
    assert_eq!(
        response.model,
        "text-embedding-nomic-embed-text-v1.5@q4_k_m"
    );
    assert_eq!(response.data[0].embedding.len(), 6);
    assert_eq!(response.data[0].object, Some(ObjectKind::Embedding));
    assert!((response.data[0].embedding[0] - -0.016_731_497).abs() < 1e-6);
    let usage = response.usage.as_ref().unwrap();
    assert_eq!((usage.prompt_tokens, usage.total_tokens), (0, 0));
}
